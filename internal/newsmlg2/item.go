package newsmlg2

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"mime"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// Bounds on the repeated metadata kept from an item, so that an item made
// of millions of tiny elements cannot hold the memory of millions of
// entries; real items have a few dozen.
const (
	maxSubjects = 1000 // subjects, and captions
	maxCreators = 100
)

// langText is a text with the xml:lang it was given in.
type langText struct {
	lang, text string
}

// headline is a contentMeta/headline and the code of its role.
type headline struct {
	role, text string
}

// subject is one contentMeta/subject as read.
type subject struct {
	names    []langText
	concept  []langText // names of its mainConcept
	fallback string     // qcode, literal or URI
}

// item gathers what a newsItem says, in document order, before the
// choices between alternatives are made.
type item struct {
	guid, version    string
	class            string
	provider         string
	url              string
	pubStatus        string
	signals          []string
	firstCreated     string
	versionCreated   string
	contentCreated   string
	metaTitle        string
	headlines        []headline
	slugline         string
	by               string
	creators         []string
	dateline         string
	located          string
	langTag          string
	contentLang      string
	itemLang         string
	messageLang      string
	subjects         []subject
	captions         []string
	body             *content
	hasRemote        bool
	unreadRenditions int
}

// newsItem reads a newsItem whose start was just read. messageLang is the
// xml:lang of the enclosing newsMessage, if any.
func (p *parser) newsItem(start xml.StartElement, messageLang string) (story.Story, error) {
	it := &item{
		guid:        strings.TrimSpace(attr(start, "guid")),
		version:     strings.TrimSpace(attr(start, "version")),
		itemLang:    xmlLang(start),
		messageLang: messageLang,
	}
	err := p.children(func(e xml.StartElement) error {
		switch e.Name.Local {
		case "itemMeta":
			return p.itemMeta(it)
		case "contentMeta":
			return p.contentMeta(it, e)
		case "contentSet":
			return p.contentSet(it)
		}
		return p.skip()
	})
	if err != nil {
		return story.Story{}, err
	}
	if it.class != "" && it.class != "text" {
		reason := classReasons[it.class]
		if reason == "" {
			reason = ReasonOtherClass
		}
		return story.Story{}, &story.SkipError{Reason: reason, Detail: fmt.Sprintf("newsItem %q has itemClass %q", it.guid, it.class)}
	}
	st := it.story()
	st.Fixes = slices.Clone(p.fixes)
	if st.Title == "" && len(st.Body) == 0 {
		detail := fmt.Sprintf("text newsItem %q has neither a headline nor body text", it.guid)
		if it.hasRemote {
			detail += " (its content is remote)"
		} else if it.unreadRenditions > 0 {
			detail += " (its inline content is not text)"
		}
		return story.Story{}, &story.SkipError{Reason: ReasonNoText, Detail: detail}
	}
	return st, nil
}

// itemMeta reads itemMeta.
func (p *parser) itemMeta(it *item) error {
	return p.children(func(e xml.StartElement) error {
		var err error
		switch e.Name.Local {
		case "itemClass":
			it.class = code(firstNonEmpty(attr(e, "qcode"), attr(e, "uri"), attr(e, "literal")))
			return p.skip()
		case "provider":
			return p.provider(it, e)
		case "versionCreated":
			it.versionCreated, err = p.text()
		case "firstCreated":
			it.firstCreated, err = p.text()
		case "pubStatus":
			it.pubStatus = pubStatus(firstNonEmpty(attr(e, "qcode"), attr(e, "uri"), attr(e, "literal")))
			return p.skip()
		case "signal":
			if s := signal(firstNonEmpty(attr(e, "qcode"), attr(e, "uri"), attr(e, "literal"))); s != "" && !slices.Contains(it.signals, s) {
				it.signals = append(it.signals, s)
			}
			return p.skip()
		case "title":
			var s string
			if s, err = p.text(); it.metaTitle == "" {
				it.metaTitle = s
			}
		case "origRep":
			var s string
			s, err = p.text()
			if it.url == "" && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
				it.url = s
			}
		default:
			return p.skip()
		}
		return err
	})
}

// provider reads itemMeta/provider.
func (p *parser) provider(it *item, e xml.StartElement) error {
	var name string
	err := p.children(func(c xml.StartElement) error {
		if c.Name.Local != "name" || name != "" {
			return p.skip()
		}
		var err error
		name, err = p.text()
		return err
	})
	if it.provider == "" {
		it.provider = firstNonEmpty(name, strings.TrimSpace(attr(e, "literal")), rawCode(attr(e, "qcode")))
	}
	return err
}

// contentMeta reads contentMeta.
func (p *parser) contentMeta(it *item, start xml.StartElement) error {
	if l := xmlLang(start); l != "" && it.contentLang == "" {
		it.contentLang = l
	}
	return p.children(func(e xml.StartElement) error {
		var err error
		var s string
		switch e.Name.Local {
		case "headline":
			if s, err = p.text(); s != "" {
				it.headlines = append(it.headlines, headline{role: code(attr(e, "role")), text: s})
			}
		case "slugline":
			if s, err = p.text(); it.slugline == "" {
				it.slugline = s
			}
		case "dateline":
			if s, err = p.text(); it.dateline == "" {
				it.dateline = s
			}
		case "located":
			return p.names(e, func(name string) {
				if it.located == "" {
					it.located = name
				}
			})
		case "by":
			if s, err = p.text(); it.by == "" {
				it.by = s
			}
		case "creator":
			if len(it.creators) == maxCreators {
				return p.skip()
			}
			return p.names(e, func(name string) {
				it.creators = append(it.creators, name)
			})
		case "language":
			if t := strings.TrimSpace(attr(e, "tag")); t != "" && it.langTag == "" {
				it.langTag = t
			}
			return p.skip()
		case "subject":
			if len(it.subjects) == maxSubjects {
				return p.skip()
			}
			return p.subject(it, e)
		case "description":
			if s, err = p.text(); s != "" && code(attr(e, "role")) == "caption" && len(it.captions) < maxSubjects {
				it.captions = append(it.captions, s)
			}
		case "contentCreated":
			if s, err = p.text(); it.contentCreated == "" {
				it.contentCreated = s
			}
		default:
			return p.skip()
		}
		return err
	})
}

// names reads an element that may have name children and calls fn with
// the first name.
func (p *parser) names(start xml.StartElement, fn func(string)) error {
	var name string
	err := p.children(func(c xml.StartElement) error {
		if c.Name.Local != "name" || name != "" {
			return p.skip()
		}
		var err error
		name, err = p.text()
		return err
	})
	if name != "" {
		fn(name)
	}
	return err
}

// subject reads contentMeta/subject.
func (p *parser) subject(it *item, start xml.StartElement) error {
	s := subject{fallback: firstNonEmpty(strings.TrimSpace(attr(start, "qcode")), strings.TrimSpace(attr(start, "literal")), strings.TrimSpace(attr(start, "uri")))}
	err := p.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "name":
			t, err := p.text()
			if t != "" {
				s.names = append(s.names, langText{lang: xmlLang(c), text: t})
			}
			return err
		case "mainConcept":
			if s.fallback == "" {
				s.fallback = firstNonEmpty(strings.TrimSpace(attr(c, "qcode")), strings.TrimSpace(attr(c, "literal")), strings.TrimSpace(attr(c, "uri")))
			}
			return p.children(func(n xml.StartElement) error {
				if n.Name.Local != "name" {
					return p.skip()
				}
				t, err := p.text()
				if t != "" {
					s.concept = append(s.concept, langText{lang: xmlLang(n), text: t})
				}
				return err
			})
		}
		return p.skip()
	})
	it.subjects = append(it.subjects, s)
	return err
}

// contentSet reads contentSet: the first rendition with text is kept.
func (p *parser) contentSet(it *item) error {
	return p.children(func(e xml.StartElement) error {
		switch e.Name.Local {
		case "inlineXML":
			c, err := p.inlineXML()
			if err != nil {
				return err
			}
			it.keep(c)
			return nil
		case "inlineData":
			raw, err := p.rawText()
			if err != nil {
				return err
			}
			it.keep(inlineData(raw, attr(e, "contenttype"), attr(e, "encoding")))
			return nil
		case "remoteContent":
			it.hasRemote = true
		}
		return p.skip()
	})
}

// keep records a rendition's content, keeping the first with text.
func (it *item) keep(c *content) {
	switch {
	case c == nil:
		it.unreadRenditions++
	case it.body == nil || (len(it.body.paras) == 0 && len(c.paras) > 0):
		it.body = c
	}
}

// inlineXML reads an inlineXML element whose start was just read. It
// returns nil when its content is not XHTML, NITF or bare block markup.
func (p *parser) inlineXML() (*content, error) {
	w := newWalker()
	first := true
	for n := 1; n > 0; {
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if first {
				first = false
				if !textRoot(t.Name.Local) {
					return nil, p.skipFrom(n + 1)
				}
			}
			n++
			w.start(t.Name.Local)
		case xml.EndElement:
			n--
			if n > 0 {
				w.end(t.Name.Local)
			}
		case xml.CharData:
			w.text(string(t))
		}
	}
	if first {
		// No element: empty, or bare text (not allowed by the schema,
		// but plain enough to read).
		c := w.finish()
		if len(c.paras) == 0 {
			return &content{}, nil
		}
		return c, nil
	}
	return w.finish(), nil
}

// skipFrom reads on until n open elements are closed.
func (p *parser) skipFrom(n int) error {
	for n > 0 {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			n++
		case xml.EndElement:
			n--
		}
	}
	return nil
}

// inlineData reads the text of an inlineData element by its content type.
// It returns nil when the content cannot be read as text.
func inlineData(raw, contentType, encoding string) *content {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	if strings.Contains(strings.ToLower(encoding), "base64") {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(raw), ""))
		if err != nil {
			return nil
		}
		raw, _, _ = textfix.Decode(b, params["charset"])
	}
	switch {
	case mt == "" || mt == "text/plain":
		return &content{paras: newstext.Paragraphs(raw)}
	case mt == "text/html" || mt == "application/xhtml+xml":
		return htmlContent(raw)
	case strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml"):
		return xmlContent(raw)
	}
	return nil
}

// story makes the choices between what the item says.
func (it *item) story() story.Story {
	lang := firstNonEmpty(it.langTag, it.contentLang, it.itemLang, it.messageLang)
	st := story.Story{
		Format:    Format,
		SourceID:  it.guid,
		URL:       it.url,
		Date:      firstNonEmpty(it.firstCreated, it.contentCreated),
		Updated:   it.versionCreated,
		Language:  lang,
		Provider:  it.provider,
		PubStatus: it.pubStatus,
		Signals:   it.signals,
		Captions:  slices.Clone(it.captions),
	}
	if v, err := strconv.Atoi(it.version); err == nil && v > 0 {
		st.Version = v
	}
	body := it.body
	if body == nil {
		body = &content{}
	}
	var main string
	for _, h := range it.headlines {
		if h.role == "main" {
			main = h.text
			break
		}
	}
	if main == "" && len(it.headlines) > 0 {
		main = it.headlines[0].text
	}
	st.Title = firstNonEmpty(main, body.hl1, body.title, it.metaTitle, it.slugline)
	st.Byline = firstNonEmpty(it.by, strings.Join(unique(it.creators), ", "), body.byline)
	st.Body = body.paras
	if len(st.Body) > 0 && st.Title != "" && collapse(st.Body[0]) == st.Title {
		st.Body = st.Body[1:]
	}
	if len(st.Body) == 0 {
		st.Body = nil
	}
	st.Captions = append(st.Captions, body.captions...)
	if len(st.Captions) == 0 {
		st.Captions = nil
	}
	switch {
	case it.dateline != "":
		st.Dateline = parseDateline(it.dateline)
	case it.located != "":
		st.Dateline = &story.Dateline{Place: it.located}
	}
	for _, s := range it.subjects {
		if name := firstNonEmpty(pickName(s.names, lang), pickName(s.concept, lang), s.fallback); name != "" {
			st.Subjects = append(st.Subjects, name)
		}
	}
	st.Subjects = unique(st.Subjects)
	return st
}

// unique returns ss without repeats, in the order of first appearance.
func unique(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// pickName chooses among names the one in lang: the same tag, else the
// same primary language, else one without a language, else the first.
func pickName(names []langText, lang string) string {
	if len(names) == 0 {
		return ""
	}
	primary := func(t string) string {
		t, _, _ = strings.Cut(strings.ToLower(t), "-")
		return t
	}
	for _, n := range names {
		if lang != "" && strings.EqualFold(n.lang, lang) {
			return n.text
		}
	}
	for _, n := range names {
		if lang != "" && n.lang != "" && primary(n.lang) == primary(lang) {
			return n.text
		}
	}
	for _, n := range names {
		if n.lang == "" {
			return n.text
		}
	}
	return names[0].text
}

// pubStatus maps a pubStatus qcode or URI to "usable", "withheld" or
// "canceled"; others give "".
func pubStatus(s string) string {
	switch code(s) {
	case "usable":
		return "usable"
	case "withheld":
		return "withheld"
	case "canceled", "cancelled":
		return "canceled"
	}
	return ""
}

// signal maps a signal qcode, URI or literal to "update", "correction" or
// "kill"; others give "".
func signal(s string) string {
	switch c := code(s); c {
	case "update", "correction", "kill":
		return c
	}
	return ""
}

// parseDateline reads a G2 dateline such as "MOSCOW, Monday (Reuters)".
func parseDateline(s string) *story.Dateline {
	s = strings.TrimRight(collapse(s), " ,-–—")
	d := &story.Dateline{}
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndexByte(s, '('); i >= 0 {
			d.Agency = strings.TrimSpace(s[i+1 : len(s)-1])
			s = strings.TrimRight(s[:i], " ,")
		}
	}
	parts := strings.Split(s, ",")
	d.Place = strings.TrimSpace(parts[0])
	var dates []string
	for _, part := range parts[1:] {
		if part = strings.TrimSpace(part); dateLike(part) {
			dates = append(dates, part)
		}
	}
	d.Date = strings.Join(dates, ", ")
	if *d == (story.Dateline{}) {
		return nil
	}
	return d
}

// dateWords are the weekday and month names that make a dateline part a
// date.
var dateWords = map[string]bool{
	"monday": true, "tuesday": true, "wednesday": true, "thursday": true,
	"friday": true, "saturday": true, "sunday": true, "mon": true, "tue": true,
	"tues": true, "wed": true, "thu": true, "thur": true, "thurs": true,
	"fri": true, "sat": true, "sun": true, "january": true, "february": true,
	"march": true, "april": true, "may": true, "june": true, "july": true,
	"august": true, "september": true, "october": true, "november": true,
	"december": true, "jan": true, "feb": true, "mar": true, "apr": true,
	"jun": true, "jul": true, "aug": true, "sep": true, "sept": true,
	"oct": true, "nov": true, "dec": true,
}

// dateLike reports whether a dateline part holds a date.
func dateLike(part string) bool {
	if strings.ContainsFunc(part, unicode.IsDigit) {
		return true
	}
	first, _, _ := strings.Cut(part, " ")
	return dateWords[strings.ToLower(strings.TrimSuffix(first, "."))]
}

// firstNonEmpty returns the first of ss that is not empty.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
