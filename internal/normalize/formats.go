package normalize

import (
	"bytes"
	"encoding/xml"
	"io"
	"slices"
	"strings"

	"github.com/wirefeed/wirefeed/internal/iptc7901"
	"github.com/wirefeed/wirefeed/internal/newsmlg2"
	"github.com/wirefeed/wirefeed/internal/ninjs"
	"github.com/wirefeed/wirefeed/internal/rss"
	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/internal/textdump"
	"github.com/wirefeed/wirefeed/pkg/record"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// parser reads one raw item into stories. Each parser decodes the bytes
// itself: the XML and JSON formats carry their own charset rules.
type parser func(raw *record.Raw) ([]story.Story, error)

// formats routes a format name (the envelope's hint, or what Sniff found)
// to its parser. "atom" is read by the RSS parser, which reads both.
var formats = map[string]parser{
	"textdump":  parseTextDump,
	"rss":       func(r *record.Raw) ([]story.Story, error) { return rss.Parse(r.Body, r.Charset) },
	"atom":      func(r *record.Raw) ([]story.Story, error) { return rss.Parse(r.Body, r.Charset) },
	"newsml-g2": func(r *record.Raw) ([]story.Story, error) { return newsmlg2.Parse(r.Body) },
	"ninjs":     func(r *record.Raw) ([]story.Story, error) { return ninjs.Parse(r.Body) },
	"iptc7901":  func(r *record.Raw) ([]story.Story, error) { return iptc7901.Parse(r.Body) },
}

// Formats lists the formats Normalize parses.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// sniffLen is how much of an item Sniff looks at.
const sniffLen = 8 << 10

// Sniff names the format an item's bytes look like, or "" when none. It
// looks at the first 8 KiB only.
func Sniff(b []byte) string {
	head := b[:min(len(b), sniffLen)]
	for _, bom := range [][]byte{{0, 0, 0xFE, 0xFF}, {0xFF, 0xFE, 0, 0}, {0xFE, 0xFF}, {0xFF, 0xFE}, {0xEF, 0xBB, 0xBF}} {
		if bytes.HasPrefix(head, bom) {
			head = head[len(bom):]
			break
		}
	}
	if len(head) >= 4 && bytes.IndexByte(head[:4], 0) >= 0 {
		// UTF-16 or UTF-32 (XML 1.0 appendix F): the markup is ASCII, so dropping the zero bytes is enough to
		// recognise it; the format's parser decodes the item properly.
		head = bytes.ReplaceAll(head, []byte{0}, nil)
	}
	text, _, _ := textfix.Decode(head, "")
	trimmed := strings.TrimLeft(strings.TrimPrefix(text, "\ufeff"), " \t\r\n")
	switch {
	case iptc7901.Sniff(text):
		return "iptc7901"
	case strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "["):
		return "ninjs"
	case strings.HasPrefix(trimmed, "<"):
		if newsmlg2.Sniff(text) {
			return "newsml-g2"
		}
		switch xmlRoot(trimmed) {
		case "rss", "RDF", "rdf":
			return "rss"
		case "feed":
			return "atom"
		case "NewsML":
			return "newsml1" // NewsML 1.x: recognised, not supported
		}
	case textdump.Sniff(text):
		return "textdump"
	}
	return ""
}

// xmlRoot returns the local name of the first element of an XML head, or ""
// when it has none that can be read.
func xmlRoot(head string) string {
	d := xml.NewDecoder(strings.NewReader(head))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for range 64 {
		tok, err := d.RawToken()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
	return ""
}

func parseTextDump(raw *record.Raw) ([]story.Story, error) {
	text, decodeFixes, err := textfix.Decode(raw.Body, raw.Charset)
	if err != nil {
		return nil, &Error{"undecodable", err}
	}
	if strings.Contains(text, "\r") {
		decodeFixes = append(decodeFixes, "crlf")
	}
	// Repair before parsing: trimming a line would cut mojibake that ends
	// in a no-break space ("â–\u00a0" is a damaged "■").
	text, fixes := textfix.FixWith(text, textfix.DefaultOptions())
	doc, err := textdump.Parse(text)
	if err != nil {
		return nil, &Error{textdump.Reason(err), err}
	}
	return []story.Story{{
		Format: "textdump", SourceID: doc.ID, URL: doc.URL, Title: doc.Title, Date: doc.Date, Body: doc.Body,
		Fixes: append(decodeFixes, fixes...),
	}}, nil
}
