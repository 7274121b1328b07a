// Package newsmlg2 reads IPTC NewsML-G2 documents into stories.
//
// Parse accepts a newsItem, a newsMessage whose itemSet holds several items,
// or any other G2 item (packageItem, conceptItem, knowledgeItem,
// planningItem, catalogItem), which it reports as skipped. Elements are
// matched by local name, so documents that omit or change the G2 namespace
// are read the same way.
//
// # What a text newsItem becomes
//
//   - SourceID: the guid attribute. Version: the version attribute (0 when
//     absent or not a number).
//   - PubStatus: itemMeta/pubStatus, "usable", "withheld" or "canceled"
//     (the code after the scheme alias or the last URI segment, so
//     "stat:canceled" and ".../pubstatusg2/canceled" both count; the
//     British "cancelled" is read as "canceled"); "" when absent.
//   - Signals: itemMeta/signal qcodes, literals or URIs whose code is
//     "update", "correction" or "kill", in document order, without
//     repeats. Other signals are ignored.
//   - Date: itemMeta/firstCreated, else contentMeta/contentCreated.
//     Updated: itemMeta/versionCreated. Both as written, whitespace
//     trimmed.
//   - Title: contentMeta/headline (the one with role hld:main, else the
//     first), else the hl1 of an NITF body.head or the title of an XHTML
//     head, else itemMeta/title, else contentMeta/slugline. The slugline is
//     a desk code such as "US-Finance-Fed", so it is only the last resort
//     and is not kept anywhere else.
//   - Byline: contentMeta/by, else the names of the contentMeta/creator
//     elements joined with ", ", else the NITF body.head byline.
//   - Dateline: contentMeta/dateline, read as PLACE[, REGION...][, DATE]
//     [(AGENCY)] the way newstext.SplitDateline reads one (the parts after
//     the first comma that hold a digit, a weekday or a month name are the
//     date; other parts are regions and are dropped); else the name of
//     contentMeta/located as the place.
//   - Language: contentMeta/language/@tag, else @xml:lang of contentMeta,
//     of the item, or of the enclosing newsMessage.
//   - Provider: itemMeta/provider: its name, else its literal, else the
//     code of its qcode ("nprov:REUTERS" gives "REUTERS").
//   - URL: the first itemMeta/origRep that is an http(s) URL.
//   - Subjects: one entry per contentMeta/subject: its name (in the item's
//     language when it has several), else the name of its mainConcept,
//     else its qcode, literal or URI. Facets are not kept. Repeats are
//     dropped, and at most 1000 subjects (and captions, and 100 creators)
//     are read from an item.
//   - Captions: contentMeta/description elements whose role is a caption
//     (drol:caption), then the media captions of the body.
//   - Body: see below. A first body paragraph equal to the title is
//     dropped, since XHTML and NITF bodies often repeat the headline.
//
// A text item whose itemClass is missing counts as text. A text item with
// neither a title nor body text (only metadata, or only remoteContent) is
// skipped with reason "newsml_no_text"; one with a title and no body text
// (an empty inlineXML, or data such as SportsML) is returned with an empty
// Body.
//
// # Body
//
// contentSet may hold several renditions; the first that yields text is
// used. inlineXML is read when its first element is html, nitf, body or a
// block element such as p or div, in any namespace; other vocabularies
// (SportsML, events, financial data) are not text and are passed over.
// inlineData is read by its contenttype: text/plain (or none) through
// newstext.Paragraphs, text/html and application/xhtml+xml with an HTML
// tokenizer, application/nitf+xml and other XML types as XML; base64
// content (an encoding attribute naming base64) is decoded first.
//
// The XHTML and NITF reader makes one paragraph of each block element (p,
// div, h1-h6, hl1, hl2, blockquote, bq, li, dt, dd, pre, ...); inline
// markup is flattened into the text and white space is collapsed. br ends a
// paragraph: bodies written as "line<br/><br/>line" are common and a
// paragraph cannot hold a line break. pre is split with
// newstext.Paragraphs. A table becomes one paragraph per row with its
// cells joined by " | ", so that results and listings are kept rather than
// run together or lost. Media are dropped (img, object, video, audio, svg,
// NITF media), except that the text of NITF media-caption and XHTML
// figcaption goes to Captions. NITF body.head is not body text (its hl1 and
// byline feed Title and Byline; abstract and dateline are dropped), and
// neither is body.end (tagline, bibliography). script, style and head are
// dropped.
//
// # Non-text items and errors
//
// Items that hold no text story return a *story.SkipError (errors.Is
// story.ErrSkipped): newsItems whose itemClass is ninat:picture, graphic,
// video, audio or composite ("newsml_picture", "newsml_graphic", ...; any
// other class gives "newsml_other_class"), packageItem ("newsml_package"),
// conceptItem ("newsml_concept"), knowledgeItem ("newsml_knowledge"),
// planningItem ("newsml_planning"), catalogItem ("newsml_catalog") and text
// items without text ("newsml_no_text"). In a newsMessage the text items
// are returned and the others dropped; a message without any text item is
// skipped with reason "newsml_no_text" and a detail counting the reasons.
//
// Malformed input returns a *story.ParseError whose Reason is one of the
// Reason constants: a G2 fragment as the root element (groupSet,
// contentSet, contentMeta, itemMeta, ...) is "newsml_fragment", broken XML
// "newsml_bad_xml", a well-formed document that is not NewsML-G2
// "newsml_unknown_root".
//
// # Charset and limits
//
// Parse takes the raw bytes. They are decoded with textfix.Decode, which
// honours a byte order mark and the XML declaration's encoding and guesses
// between UTF-8 and windows-1252 when nothing is declared; the repairs it
// reports are put in every story's Fixes. The XML reader then reads the
// UTF-8 text and ignores the declaration's encoding. Text that a caller has
// already decoded is read right too, but when it came from a legacy
// charset its declaration still names that charset and Fixes gets a
// misleading "charset:mislabelled:utf-8": pass the raw bytes.
//
// Inputs larger than story.MaxInputBytes ("newsml_too_large"), nested
// deeper than story.MaxDepth ("newsml_too_deep") or holding more than
// story.MaxItems items ("newsml_too_many_items") are refused. Only the
// predefined XML entities and character references are expanded: a
// DOCTYPE's own entities are an error, so entity expansion cannot blow up,
// and nothing outside the input is ever read.
package newsmlg2

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"encoding/xml"

	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// Format is the story.Story Format of every story Parse returns.
const Format = "newsml-g2"

// Reasons of the *story.ParseError values Parse returns.
const (
	ReasonBadXML       = "newsml_bad_xml"
	ReasonUnknownRoot  = "newsml_unknown_root"
	ReasonFragment     = "newsml_fragment"
	ReasonTooLarge     = "newsml_too_large"
	ReasonTooDeep      = "newsml_too_deep"
	ReasonTooManyItems = "newsml_too_many_items"
)

// Reasons of the *story.SkipError values Parse returns.
const (
	ReasonPicture    = "newsml_picture"
	ReasonGraphic    = "newsml_graphic"
	ReasonVideo      = "newsml_video"
	ReasonAudio      = "newsml_audio"
	ReasonComposite  = "newsml_composite"
	ReasonOtherClass = "newsml_other_class"
	ReasonPackage    = "newsml_package"
	ReasonConcept    = "newsml_concept"
	ReasonKnowledge  = "newsml_knowledge"
	ReasonPlanning   = "newsml_planning"
	ReasonCatalog    = "newsml_catalog"
	ReasonNoText     = "newsml_no_text"
)

// itemKinds are the G2 item elements other than newsItem, with the reason
// they are skipped for.
var itemKinds = map[string]string{
	"packageItem":   ReasonPackage,
	"conceptItem":   ReasonConcept,
	"knowledgeItem": ReasonKnowledge,
	"planningItem":  ReasonPlanning,
	"catalogItem":   ReasonCatalog,
}

// classReasons maps a newsItem's itemClass code to its skip reason.
var classReasons = map[string]string{
	"picture":   ReasonPicture,
	"graphic":   ReasonGraphic,
	"video":     ReasonVideo,
	"audio":     ReasonAudio,
	"composite": ReasonComposite,
}

// fragments are G2 elements that are parts of an item, not documents,
// and whose names other vocabularies hardly use. Any other element in the
// G2 namespace counts as a fragment too.
var fragments = map[string]bool{
	"groupSet": true, "contentSet": true, "contentMeta": true, "itemMeta": true,
	"itemSet": true, "rightsInfo": true, "partMeta": true, "inlineXML": true,
	"inlineData": true, "remoteContent": true, "hopHistory": true,
	"catalogRef": true, "conceptSet": true, "newsCoverageSet": true,
	"catalogContainer": true, "schemeMeta": true,
}

// g2Namespace is the namespace of NewsML-G2 elements.
const g2Namespace = "http://iptc.org/std/nar/2006-10-01/"

// xmlNamespace is the namespace of the xml: prefix.
const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// errTooDeep stops reading at story.MaxDepth.
var errTooDeep = fmt.Errorf("elements nested deeper than %d", story.MaxDepth)

// errTooMany stops reading at story.MaxItems.
var errTooMany = fmt.Errorf("more than %d items", story.MaxItems)

// Parse reads a NewsML-G2 document into its text stories. See the package
// documentation for the mapping, the skip reasons and the errors.
func Parse(b []byte) ([]story.Story, error) {
	if len(b) > story.MaxInputBytes {
		return nil, &story.ParseError{Reason: ReasonTooLarge, Err: fmt.Errorf("%d bytes, limit %d", len(b), story.MaxInputBytes)}
	}
	// Decode reports an error only for an unknown charset given as its
	// second argument, and none is given; the text is its best reading.
	text, fixes, _ := textfix.Decode(b, "")
	p := &parser{dec: newDecoder(strings.NewReader(text)), fixes: fixes}
	stories, err := p.document()
	if err != nil {
		return nil, p.wrap(err)
	}
	return stories, nil
}

// newDecoder returns a strict XML decoder over UTF-8 text that ignores the
// encoding named in the XML declaration.
func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.Strict = true
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

// parser reads one document.
type parser struct {
	dec   *xml.Decoder
	depth int
	fixes []string
	items int
}

// wrap turns a reading error into a *story.ParseError; skip and parse
// errors pass through.
func (p *parser) wrap(err error) error {
	var pe *story.ParseError
	var se *story.SkipError
	switch {
	case errors.As(err, &pe), errors.As(err, &se):
		return err
	case errors.Is(err, errTooDeep):
		return &story.ParseError{Reason: ReasonTooDeep, Err: err}
	case errors.Is(err, errTooMany):
		return &story.ParseError{Reason: ReasonTooManyItems, Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &story.ParseError{Reason: ReasonBadXML, Err: fmt.Errorf("unexpected end of input: %w", err)}
	}
	return &story.ParseError{Reason: ReasonBadXML, Err: err}
}

// next returns the next token, keeping track of the depth.
func (p *parser) next() (xml.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		p.depth++
		if p.depth > story.MaxDepth {
			return nil, errTooDeep
		}
	case xml.EndElement:
		p.depth--
	}
	return tok, nil
}

// document reads the whole input.
func (p *parser) document() ([]story.Story, error) {
	root, err := p.root()
	if err != nil {
		return nil, err
	}
	var stories []story.Story
	name := root.Name.Local
	switch {
	case name == "newsMessage":
		stories, err = p.message(root)
	case name == "newsItem":
		var st story.Story
		st, err = p.newsItem(root, "")
		stories = []story.Story{st}
	case itemKinds[name] != "":
		if err = p.skip(); err == nil {
			err = &story.SkipError{Reason: itemKinds[name], Detail: "a " + name + " holds no text story"}
		}
	case fragments[name] || root.Name.Space == g2Namespace:
		return nil, &story.ParseError{Reason: ReasonFragment, Err: fmt.Errorf("root element %s is a part of a NewsML-G2 item, not a whole item", name)}
	default:
		return nil, &story.ParseError{Reason: ReasonUnknownRoot, Err: fmt.Errorf("root element %q is not a NewsML-G2 item or message", name)}
	}
	if err != nil {
		var se *story.SkipError
		if !errors.As(err, &se) {
			return nil, err
		}
		// A skipped item must still be well-formed to the end.
		if err := p.rest(); err != nil {
			return nil, err
		}
		return nil, se
	}
	if err := p.rest(); err != nil {
		return nil, err
	}
	return stories, nil
}

// root returns the root element.
func (p *parser) root() (xml.StartElement, error) {
	for {
		tok, err := p.next()
		if errors.Is(err, io.EOF) {
			return xml.StartElement{}, &story.ParseError{Reason: ReasonBadXML, Err: errors.New("no root element")}
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if !isSpace(t) {
				return xml.StartElement{}, &story.ParseError{Reason: ReasonBadXML, Err: errors.New("text before the root element")}
			}
		}
	}
}

// rest reads what follows the root element: only white space, comments
// and processing instructions may.
func (p *parser) rest() error {
	for {
		tok, err := p.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return errors.New("a second root element")
		case xml.CharData:
			if !isSpace(t) {
				return errors.New("text after the root element")
			}
		}
	}
}

// message reads a newsMessage: the items of its itemSet.
func (p *parser) message(root xml.StartElement) ([]story.Story, error) {
	lang := xmlLang(root)
	var stories []story.Story
	skipped := map[string]int{}
	err := p.children(func(e xml.StartElement) error {
		if e.Name.Local != "itemSet" {
			return p.skip()
		}
		return p.children(func(item xml.StartElement) error {
			p.items++
			if p.items > story.MaxItems {
				return errTooMany
			}
			name := item.Name.Local
			var err error
			switch {
			case name == "newsItem":
				var st story.Story
				if st, err = p.newsItem(item, lang); err == nil {
					stories = append(stories, st)
				}
			case itemKinds[name] != "":
				skipped[itemKinds[name]]++
				return p.skip()
			default:
				skipped["unknown:"+name]++
				return p.skip()
			}
			var se *story.SkipError
			if errors.As(err, &se) {
				skipped[se.Reason]++
				return nil
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if len(stories) == 0 {
		n := 0
		var parts []string
		for _, r := range slices.Sorted(maps.Keys(skipped)) {
			n += skipped[r]
			parts = append(parts, fmt.Sprintf("%d %s", skipped[r], r))
		}
		detail := fmt.Sprintf("a newsMessage with %d items, none with text", n)
		if len(parts) > 0 {
			detail += " (" + strings.Join(parts, ", ") + ")"
		}
		return nil, &story.SkipError{Reason: ReasonNoText, Detail: detail}
	}
	return stories, nil
}

// children calls fn for each child element of the element whose start was
// just read, up to its end. fn must read the child to its end (with skip,
// text, children...). Text between the children is ignored.
func (p *parser) children(fn func(xml.StartElement) error) error {
	for {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// skip reads the element whose start was just read to its end.
func (p *parser) skip() error {
	for n := 1; n > 0; {
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

// rawText reads the element whose start was just read to its end and
// returns all the text in it, markup removed.
func (p *parser) rawText() (string, error) {
	var sb strings.Builder
	for n := 1; n > 0; {
		tok, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n++
		case xml.EndElement:
			n--
		case xml.CharData:
			sb.Write(t)
		}
	}
	return sb.String(), nil
}

// text is rawText with white space collapsed and trimmed.
func (p *parser) text() (string, error) {
	s, err := p.rawText()
	return collapse(s), err
}

// collapse turns every run of white space into one space and trims s.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// isSpace reports whether character data is only white space.
func isSpace(b []byte) bool {
	return strings.TrimSpace(string(b)) == ""
}

// attr returns the value of e's attribute with the given local name.
func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space != xmlNamespace {
			return a.Value
		}
	}
	return ""
}

// xmlLang returns e's xml:lang attribute.
func xmlLang(e xml.StartElement) string {
	for _, a := range e.Attr {
		if a.Name.Local == "lang" && (a.Name.Space == xmlNamespace || a.Name.Space == "xml") {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// code returns the code of a QCode ("stat:usable" -> "usable") or the last
// segment of a URI (".../pubstatusg2/usable" -> "usable"), lower-cased.
func code(s string) string {
	return strings.ToLower(rawCode(s))
}

// rawCode is code without the lower-casing.
func rawCode(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if i := strings.LastIndexAny(s, ":/#"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// sniffLen is how far into a text Sniff looks.
const sniffLen = 4096

// Sniff reports whether text looks like a NewsML-G2 document, for callers
// that must guess an input's format: its root element, found within its
// first 4 KiB, is a G2 item, a newsMessage or a G2 fragment such as
// groupSet (which Parse rejects with its own reason). Prefixes are
// ignored.
func Sniff(text string) bool {
	head := text[:min(len(text), sniffLen)]
	name, ok := rootName(head)
	if !ok {
		return false
	}
	if _, local, found := strings.Cut(name, ":"); found {
		name = local
	}
	return name == "newsItem" || name == "newsMessage" || itemKinds[name] != "" || fragments[name]
}

// rootName returns the name of the first element of s, skipping a byte
// order mark, white space, the XML declaration, processing instructions,
// comments and a DOCTYPE without an internal subset.
func rootName(s string) (string, bool) {
	s = strings.TrimPrefix(s, "\uFEFF")
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		var end string
		switch {
		case strings.HasPrefix(s, "<?"):
			end = "?>"
		case strings.HasPrefix(s, "<!--"):
			end = "-->"
		case strings.HasPrefix(s, "<!"):
			end = ">"
		case strings.HasPrefix(s, "<"):
			s = s[1:]
			n := strings.IndexAny(s, " \t\r\n/>")
			if n <= 0 {
				return "", false
			}
			return s[:n], true
		default:
			return "", false
		}
		i := strings.Index(s, end)
		if i < 0 {
			return "", false
		}
		s = s[i+len(end):]
	}
}
