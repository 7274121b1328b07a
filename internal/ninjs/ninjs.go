// Package ninjs parses IPTC ninjs ("News in JSON") items, versions 1.x,
// 2.x and 3.x, and dpa's ninjs-like "digitalwires" JSON, into stories.
//
// A ninjs document is one item (a JSON object) or a collection (a JSON
// array of items). Only text items become stories: pictures, video,
// audio, graphics, events and planning items are skipped with a
// *story.SkipError. Field names are matched without regard to case, so
// ninjs 3's camelCase ("versionCreated") and 1.x/2.x's lower case
// ("versioncreated") read alike.
package ninjs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/rss"
	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// Parse reads a ninjs item or collection and returns its text stories.
//
// Fields, as ninjs 1.x / 2.x and 3.x / digitalwires name them:
//
//   - Format: "ninjs" (digitalwires included).
//   - SourceID: uri (guid in early 1.x) / uri / urn.
//   - Version: version, a string ("2") or a number; 0 when absent or not
//     a whole number.
//   - Title: headline / the headline with role "main", else the first
//     headline; else title / headline.
//   - Date: firstcreated, else versioncreated / version_created; as
//     written. Updated: versioncreated / version_created.
//   - Byline: byline or by / by / byline.
//   - Language: language. Provider: copyrightholder / creditline.
//   - Dateline: located (as Place) / dateline, split by
//     newstext.SplitDateline into place, date and agency when it has that
//     shape ("Berlin (dpa) - "), else all of it as Place.
//   - Subjects: the name (else literal, code or uri) of each subject /
//     subjects entry / of the categories of type dnltype:dpasubject and
//     dnltype:subject; duplicates dropped.
//   - PubStatus: pubstatus ("stat:" prefix dropped, "cancelled" read as
//     "canceled"); any other value is left out.
//   - Signals: ninjs has no standard signal field. A "signal" or
//     "signals" field (a string, a list of strings, or a list of objects
//     with a qcode, code, name or value) is read when present, as
//     digitalwires and some providers' extensions have it, and so are
//     digitalwires categories of type dnltype:signal. Values such as
//     "sig:update", "correction" or "kill" give "update", "correction"
//     and "kill"; others are ignored. Nothing is derived from the version
//     number: a version above 1 may be an edit before publication, so the
//     data does not say it is an update.
//   - Body: body_xhtml or body_html as HTML, else body_text / of the
//     bodies, the HTML ones (contenttype or role with "html") before the
//     plain-text ones before XML ones (NITF), and among those of the best
//     kind the one with role "main", else the one with the most text /
//     article_html. HTML is turned into paragraphs by rss.HTMLParagraphs,
//     plain text by newstext.Paragraphs. A text item without a body has
//     its description as body (description_text or description_xhtml /
//     the first description that is not a caption / teaser), and then
//     "body-from-description" is among its Fixes.
//   - Captions: for each association that is not itself text (in document
//     order), its description_text (or description_xhtml) / its
//     description with role caption, else its first description / its
//     caption; else its headline.
//   - Fixes: "invalid-utf8" when bytes that are not UTF-8 were read as
//     windows-1252, "bom" when a byte order mark was dropped.
//
// The text is kept as written (textfix repairs it later). Give Parse the
// raw bytes: it reads them as UTF-8 itself (see Fixes).
//
// A collection yields the stories of its text items, at most
// story.MaxItems; its other items are left out without an error, and an
// item that is not an object or has no uri rejects the whole collection.
// An empty collection yields an empty slice and a nil error.
//
// Skipped items return a *story.SkipError with Reason "ninjs_picture"
// (type picture, or digitalwires' image), "ninjs_video", "ninjs_audio", "ninjs_graphic", "ninjs_event" (type
// event, or eventDetails), "ninjs_planning" (type planning, or
// plannedCoverage), "ninjs_other_type" (any other type but text and
// composite), or "ninjs_no_body" (an item without a body, and for type
// text without a description either). A collection without text items returns the reason its
// items share, else "ninjs_no_text_items".
//
// Errors are *story.ParseError with Reason "too_large" (more than
// story.MaxInputBytes), "ninjs_bad_json" (not JSON, or JSON followed by
// more), "ninjs_too_deep" (nesting deeper than story.MaxDepth),
// "ninjs_not_object" (the document, or an item of a collection, is not an
// object), "ninjs_no_uri" (an item without uri, guid or urn) or
// "ninjs_bad_field" (a field Parse reads has the wrong JSON type, such as
// a headline that is a number; null counts as absent).
func Parse(b []byte) ([]story.Story, error) {
	if len(b) > story.MaxInputBytes {
		return nil, &story.ParseError{Reason: "too_large", Err: fmt.Errorf("document is %d bytes, more than %d", len(b), story.MaxInputBytes)}
	}
	// JSON is UTF-8; a BOM is dropped and stray bytes of another charset
	// are read as windows-1252 rather than lost as U+FFFD.
	text, fixes, _ := textfix.Decode(b, "utf-8")
	data := []byte(text)
	if err := checkDepth(data); err != nil {
		return nil, err
	}
	if !json.Valid(data) {
		return nil, &story.ParseError{Reason: "ninjs_bad_json", Err: jsonError(data)}
	}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) > 0 && data[0] == '[':
		var raw []json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, &story.ParseError{Reason: "ninjs_bad_json", Err: err}
		}
		if len(raw) > story.MaxItems {
			raw = raw[:story.MaxItems]
		}
		stories := make([]story.Story, 0, len(raw))
		var skips []*story.SkipError
		for i, r := range raw {
			st, err := parseItem(r, fixes)
			var se *story.SkipError
			switch {
			case errors.As(err, &se):
				skips = append(skips, se)
			case err != nil:
				var pe *story.ParseError
				if errors.As(err, &pe) {
					return nil, &story.ParseError{Reason: pe.Reason, Err: fmt.Errorf("item %d: %w", i, pe.Err)}
				}
				return nil, err
			default:
				stories = append(stories, st)
			}
		}
		if len(stories) == 0 && len(skips) > 0 {
			reason := skips[0].Reason
			for _, s := range skips[1:] {
				if s.Reason != reason {
					reason = "ninjs_no_text_items"
				}
			}
			return nil, &story.SkipError{Reason: reason, Detail: fmt.Sprintf("none of the %d items of the collection is a text item", len(skips))}
		}
		return stories, nil
	default:
		st, err := parseItem(data, fixes)
		if err != nil {
			return nil, err
		}
		return []story.Story{st}, nil
	}
}

// item holds the fields Parse reads, from every ninjs version and
// digitalwires. Polymorphic fields are kept raw.
type item struct {
	URI    string `json:"uri"`
	GUID   string `json:"guid"`
	URN    string `json:"urn"`    // digitalwires
	Format string `json:"format"` // digitalwires: "digitalwires@0.9.1"
	Type   string `json:"type"`

	Version          json.RawMessage `json:"version"`
	FirstCreated     string          `json:"firstcreated"`
	VersionCreated   string          `json:"versioncreated"`
	VersionCreatedDW string          `json:"version_created"`
	PubStatus        string          `json:"pubstatus"`
	Language         string          `json:"language"`

	Headline  string `json:"headline"`
	Headlines []text `json:"headlines"`
	Title     string `json:"title"`

	BodyText    string `json:"body_text"`
	BodyXHTML   string `json:"body_xhtml"`
	BodyHTML    string `json:"body_html"`
	Bodies      []text `json:"bodies"`
	ArticleHTML string `json:"article_html"` // digitalwires

	DescriptionText  string `json:"description_text"`
	DescriptionXHTML string `json:"description_xhtml"`
	DescriptionHTML  string `json:"description_html"`
	Descriptions     []text `json:"descriptions"`
	Teaser           string `json:"teaser"` // digitalwires

	Byline   string `json:"byline"`
	By       string `json:"by"`
	Located  string `json:"located"`
	Dateline string `json:"dateline"` // digitalwires

	Subject    []subject  `json:"subject"`  // 1.x
	Subjects   []subject  `json:"subjects"` // 2.x, 3.x
	Categories []category `json:"categories"`

	CopyrightHolder string `json:"copyrightholder"`
	Creditline      string `json:"creditline"` // digitalwires

	Associations    json.RawMessage `json:"associations"` // object (1.x) or array
	Signal          json.RawMessage `json:"signal"`
	Signals         json.RawMessage `json:"signals"`
	EventDetails    json.RawMessage `json:"eventdetails"`
	PlannedCoverage json.RawMessage `json:"plannedcoverage"`
}

// text is an entry of headlines, bodies or descriptions.
type text struct {
	Role        string `json:"role"`
	ContentType string `json:"contenttype"`
	Value       string `json:"value"`
	Description string `json:"description"` // digitalwires descriptions
}

type subject struct {
	Name    string `json:"name"`
	Literal string `json:"literal"`
	Code    string `json:"code"`
	URI     string `json:"uri"`
}

// category is a digitalwires category.
type category struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	QCode string `json:"qcode"`
}

// association is the part of an associated item that gives a caption.
type association struct {
	Type             string `json:"type"`
	DescriptionText  string `json:"description_text"`
	DescriptionXHTML string `json:"description_xhtml"`
	DescriptionHTML  string `json:"description_html"`
	Descriptions     []text `json:"descriptions"`
	Caption          string `json:"caption"` // digitalwires
	Headline         string `json:"headline"`
	Headlines        []text `json:"headlines"`
}

// skippedTypes maps item types that hold no text story to skip reasons.
var skippedTypes = map[string]string{
	"picture": "ninjs_picture", "image": "ninjs_picture",
	"video": "ninjs_video", "audio": "ninjs_audio", "graphic": "ninjs_graphic",
	"event": "ninjs_event", "planning": "ninjs_planning",
}

func parseItem(data []byte, fixes []string) (story.Story, error) {
	var st story.Story
	d := bytes.TrimSpace(data)
	if len(d) == 0 || d[0] != '{' {
		return st, &story.ParseError{Reason: "ninjs_not_object", Err: errors.New("an item must be a JSON object")}
	}
	var it item
	if err := json.Unmarshal(d, &it); err != nil {
		return st, fieldError(err)
	}
	st.Format = "ninjs"
	st.SourceID = strings.TrimSpace(firstOf(it.URI, it.GUID, it.URN))
	if st.SourceID == "" {
		return st, &story.ParseError{Reason: "ninjs_no_uri", Err: errors.New("the item has no uri, guid or urn")}
	}
	typ := strings.ToLower(strings.TrimSpace(it.Type))
	switch {
	case skippedTypes[typ] != "":
		return st, &story.SkipError{Reason: skippedTypes[typ], Detail: fmt.Sprintf("item %s is of type %s", st.SourceID, typ)}
	case typ != "" && typ != "text" && typ != "composite":
		return st, &story.SkipError{Reason: "ninjs_other_type", Detail: fmt.Sprintf("item %s is of type %q", st.SourceID, it.Type)}
	case present(it.EventDetails):
		return st, &story.SkipError{Reason: "ninjs_event", Detail: fmt.Sprintf("item %s has eventDetails", st.SourceID)}
	case present(it.PlannedCoverage):
		return st, &story.SkipError{Reason: "ninjs_planning", Detail: fmt.Sprintf("item %s has plannedCoverage", st.SourceID)}
	}

	st.Body = body(&it)
	if len(st.Body) == 0 && typ == "text" {
		if st.Body = descriptionBody(&it); len(st.Body) > 0 {
			fixes = append(slices.Clone(fixes), "body-from-description")
		}
	}
	if len(st.Body) == 0 {
		return st, &story.SkipError{Reason: "ninjs_no_body", Detail: fmt.Sprintf("item %s has no body", st.SourceID)}
	}

	st.Version = version(it.Version)
	st.Title = strings.TrimSpace(headline(it.Headline, it.Headlines))
	if st.Title == "" {
		st.Title = strings.TrimSpace(it.Title)
	}
	updated := strings.TrimSpace(firstOf(it.VersionCreated, it.VersionCreatedDW))
	st.Updated = updated
	st.Date = strings.TrimSpace(firstOf(it.FirstCreated, updated))
	st.Byline = strings.TrimSpace(firstOf(it.Byline, it.By))
	st.Language = strings.TrimSpace(it.Language)
	st.Provider = strings.TrimSpace(firstOf(it.CopyrightHolder, it.Creditline))
	st.Dateline = dateline(firstOf(it.Located, it.Dateline))
	st.Subjects = subjects(&it)
	st.PubStatus = pubStatus(it.PubStatus)
	st.Signals = signals(&it)
	caps, err := captions(it.Associations)
	if err != nil {
		return st, err
	}
	st.Captions = caps
	if len(fixes) > 0 {
		st.Fixes = slices.Clone(fixes)
	}
	return st, nil
}

// body returns the paragraphs of the item's best body.
func body(it *item) []string {
	for _, h := range []string{it.BodyXHTML, it.BodyHTML, it.ArticleHTML} {
		if p := rss.HTMLParagraphs(h); len(p) > 0 {
			return p
		}
	}
	if p := newstext.Paragraphs(it.BodyText); len(p) > 0 {
		return p
	}
	var best []string
	bestRank, bestMain, bestLen := 0, false, 0
	for _, b := range it.Bodies {
		rank := bodyRank(b)
		if rank == 0 || rank < bestRank {
			continue
		}
		var p []string
		if rank == rankPlain {
			p = newstext.Paragraphs(b.Value)
		} else {
			p = rss.HTMLParagraphs(b.Value)
		}
		if len(p) == 0 {
			continue
		}
		isMain := strings.EqualFold(b.Role, "main")
		n := 0
		for _, s := range p {
			n += len(s)
		}
		better := rank > bestRank ||
			isMain && !bestMain ||
			isMain == bestMain && n > bestLen
		if better {
			best, bestRank, bestMain, bestLen = p, rank, isMain, n
		}
	}
	return best
}

// Kinds of body, in order of preference.
const (
	rankXML   = 1
	rankPlain = 2
	rankHTML  = 3
)

// bodyRank says what kind of text a body holds, by its content type or,
// without one, its role; 0 for content that is not text.
func bodyRank(b text) int {
	ct := strings.ToLower(strings.TrimSpace(b.ContentType))
	role := strings.ToLower(b.Role)
	switch {
	case strings.Contains(ct, "html"):
		return rankHTML
	case ct == "text/plain":
		return rankPlain
	case strings.Contains(ct, "xml") || strings.Contains(ct, "nitf"):
		return rankXML
	case ct != "":
		return 0
	case strings.Contains(role, "html"):
		return rankHTML
	case strings.Contains(role, "nitf") || strings.Contains(role, "xml"):
		return rankXML
	case role == "text" || role == "plain":
		return rankPlain
	case strings.Contains(b.Value, "</"):
		return rankHTML
	}
	return rankPlain
}

// descriptionBody returns the paragraphs of a text item's description.
func descriptionBody(it *item) []string {
	if p := newstext.Paragraphs(it.DescriptionText); len(p) > 0 {
		return p
	}
	for _, h := range []string{it.DescriptionXHTML, it.DescriptionHTML} {
		if p := rss.HTMLParagraphs(h); len(p) > 0 {
			return p
		}
	}
	for _, d := range it.Descriptions {
		role := strings.ToLower(d.Role)
		if strings.Contains(role, "caption") || strings.Contains(role, "creditline") || strings.Contains(role, "writer") {
			continue
		}
		v := firstOf(d.Value, d.Description)
		var p []string
		if strings.Contains(strings.ToLower(d.ContentType), "html") {
			p = rss.HTMLParagraphs(v)
		} else {
			p = newstext.Paragraphs(v)
		}
		if len(p) > 0 {
			return p
		}
	}
	return newstext.Paragraphs(it.Teaser)
}

// headline returns the 1.x headline, else the 2.x/3.x one with role
// "main", else the first.
func headline(single string, list []text) string {
	if strings.TrimSpace(single) != "" {
		return single
	}
	for _, h := range list {
		if strings.EqualFold(h.Role, "main") && strings.TrimSpace(h.Value) != "" {
			return h.Value
		}
	}
	for _, h := range list {
		if strings.TrimSpace(h.Value) != "" {
			return h.Value
		}
	}
	return ""
}

// version reads a version that is a number or a string holding one.
func version(raw json.RawMessage) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0
	}
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0
		}
	} else {
		s = string(raw)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1<<31-1 || f != float64(int(f)) {
		return 0
	}
	return int(f)
}

// dateline reads located or a digitalwires dateline.
func dateline(s string) *story.Dateline {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	// SplitDateline reads a dateline that opens a paragraph, so give it a
	// paragraph to open.
	if d, _, ok := newstext.SplitDateline(s + " x"); ok {
		return &story.Dateline{Place: d.Place, Date: d.Date, Agency: d.Agency}
	}
	return &story.Dateline{Place: strings.TrimRight(s, " -–—")}
}

func subjects(it *item) []string {
	var out []string
	for _, list := range [][]subject{it.Subject, it.Subjects} {
		for _, s := range list {
			out = append(out, firstOf(s.Name, s.Literal, s.Code, s.URI))
		}
	}
	for _, c := range it.Categories {
		if c.Type == "dnltype:dpasubject" || c.Type == "dnltype:subject" {
			out = append(out, firstOf(c.Name, c.QCode))
		}
	}
	return dedupe(out)
}

func pubStatus(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "stat:")
	switch s {
	case "usable", "withheld", "canceled":
		return s
	case "cancelled":
		return "canceled"
	}
	return ""
}

// signals reads the signal fields some producers add (see Parse).
func signals(it *item) []string {
	var vals []string
	for _, raw := range []json.RawMessage{it.Signal, it.Signals} {
		vals = append(vals, signalValues(raw)...)
	}
	for _, c := range it.Categories {
		if c.Type == "dnltype:signal" {
			vals = append(vals, firstOf(c.QCode, c.Name))
		}
	}
	var out []string
	for _, v := range vals {
		v = strings.ToLower(strings.TrimSpace(v))
		v = strings.TrimPrefix(v, "sig:")
		switch v {
		case "update", "correction", "kill":
			out = append(out, v)
		}
	}
	return dedupe(out)
}

// signalValues reads a signal field: a string, a list of strings, or a
// list of objects. Other shapes are ignored.
func signalValues(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, e := range list {
		if json.Unmarshal(e, &s) == nil {
			out = append(out, s)
			continue
		}
		var o struct{ QCode, Code, Name, Value string }
		if json.Unmarshal(e, &o) == nil {
			out = append(out, firstOf(o.QCode, o.Code, o.Name, o.Value))
		}
	}
	return out
}

// captions reads the captions of associations, an object of named
// associations (1.x) or a list of them, in document order.
func captions(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var assocs []association
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &assocs); err != nil {
			return nil, fieldError(err)
		}
	case '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil { // {
			return nil, &story.ParseError{Reason: "ninjs_bad_json", Err: err}
		}
		for dec.More() {
			if _, err := dec.Token(); err != nil { // the association's name
				return nil, &story.ParseError{Reason: "ninjs_bad_json", Err: err}
			}
			var a association
			if err := dec.Decode(&a); err != nil {
				return nil, fieldError(err)
			}
			assocs = append(assocs, a)
		}
	default:
		return nil, &story.ParseError{Reason: "ninjs_bad_field", Err: errors.New("associations is neither an object nor a list")}
	}
	var out []string
	for _, a := range assocs {
		if t := strings.ToLower(a.Type); t == "text" || t == "composite" {
			continue
		}
		out = append(out, caption(&a))
	}
	return dedupe(out), nil
}

func caption(a *association) string {
	if s := strings.TrimSpace(a.DescriptionText); s != "" {
		return s
	}
	for _, h := range []string{a.DescriptionXHTML, a.DescriptionHTML} {
		if p := rss.HTMLParagraphs(h); len(p) > 0 {
			return strings.Join(p, " ")
		}
	}
	for _, d := range a.Descriptions {
		if strings.Contains(strings.ToLower(d.Role), "caption") {
			if s := strings.TrimSpace(firstOf(d.Value, d.Description)); s != "" {
				return s
			}
		}
	}
	for _, d := range a.Descriptions {
		if s := strings.TrimSpace(firstOf(d.Value, d.Description)); s != "" {
			return s
		}
	}
	if s := strings.TrimSpace(a.Caption); s != "" {
		return s
	}
	return strings.TrimSpace(headline(a.Headline, a.Headlines))
}

// fieldError turns an error of json.Unmarshal on valid JSON into a
// ParseError.
func fieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &story.ParseError{Reason: "ninjs_bad_field", Err: fmt.Errorf("field %q is a JSON %s", te.Field, te.Value)}
	}
	return &story.ParseError{Reason: "ninjs_bad_json", Err: err}
}

// jsonError describes why data is not valid JSON.
func jsonError(data []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("more data after the JSON value")
	}
	return errors.New("invalid JSON")
}

// checkDepth rejects documents whose arrays and objects nest deeper than
// story.MaxDepth, before any decoding. Brackets inside strings do not
// count.
func checkDepth(data []byte) error {
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > story.MaxDepth {
				return &story.ParseError{Reason: "ninjs_too_deep", Err: fmt.Errorf("arrays and objects nest deeper than %d", story.MaxDepth)}
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// present reports whether a raw field holds something other than null or
// an empty object or list.
func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0, string(raw) == "null":
		return false
	case raw[0] == '{' || raw[0] == '[':
		return len(bytes.TrimSpace(raw[1:len(raw)-1])) > 0
	}
	return true
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// dedupe trims the strings of list and drops the empty ones and repeats,
// keeping the order.
func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	var out []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
