package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Splitting a feed into items.
//
// An RSS or Atom document is published as one raw item per entry: the
// item's bytes are the whole document with every other entry cut out, byte
// for byte, so that the XML declaration (and its encoding), the namespaces
// and the channel's title, link, language and base stay as the origin sent
// them, and normalize parses the one-entry document exactly as it would
// have parsed that entry in the whole feed. Each item then has its own key
// and version on the raw topic: a feed fetched a hundred times with one new
// entry publishes one item, and a replay re-reads items, not feeds.
//
// Entries are found by reading the document with encoding/xml over a copy
// in which every byte outside ASCII is replaced by 'x'. In every
// ASCII-compatible charset (UTF-8, ISO-8859-*, windows-*, KOI8-R, EUC-*,
// GB2312/GBK, Big5, Shift_JIS) the bytes '<', '>' and '&' only ever stand
// for themselves, so the offsets of the copy are those of the original,
// whatever the charset. UTF-16 and UTF-32 documents are not split
// (errUnsplittable): the caller publishes them whole.

// errNotFeed is returned by splitFeed for a document whose root is not rss,
// rdf:RDF or feed.
var errNotFeed = errors.New("not an RSS or Atom feed")

// errUnsplittable is returned for a feed whose bytes cannot be cut at
// element boundaries (UTF-16 or UTF-32).
var errUnsplittable = errors.New("feed in UTF-16 or UTF-32 is not split")

// Namespaces whose "link" and "id" elements are the entry's own.
const (
	nsAtom10 = "http://www.w3.org/2005/Atom"
	nsAtom03 = "http://purl.org/atom/ns#"
	nsRDF    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsDC     = "http://purl.org/dc/elements/1.1/"
)

// feedItem is one entry of a feed.
type feedItem struct {
	start, end int64 // byte offsets of the element in the document
	id         string
	link       string
	date       string // published, else updated, as written
}

// splitDoc is a feed document and its entries.
type splitDoc struct {
	kind  string // "rss" (RSS 0.9x, 1.0, 2.0) or "atom"
	doc   []byte
	items []feedItem
}

// item returns entry i's element bytes.
func (d *splitDoc) item(i int) []byte {
	return d.doc[d.items[i].start:d.items[i].end]
}

// itemDoc returns the document with every entry but i cut out.
func (d *splitDoc) itemDoc(i int) []byte {
	size := len(d.doc)
	for j, it := range d.items {
		if j != i {
			size -= int(it.end - it.start)
		}
	}
	out := make([]byte, 0, size)
	var prev int64
	for j, it := range d.items {
		if j == i {
			continue
		}
		out = append(out, d.doc[prev:it.start]...)
		prev = it.end
	}
	return append(out, d.doc[prev:]...)
}

// wide reports whether b looks like UTF-16 or UTF-32: a byte order mark
// or NUL bytes around the first '<'.
func wide(b []byte) bool {
	switch {
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE}),
		bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		return true
	}
	n := min(len(b), 64)
	return bytes.IndexByte(b[:n], 0) >= 0
}

// ascii returns a copy of b, of the same length, that encoding/xml reads
// whatever b's charset: bytes outside ASCII and control characters XML
// does not allow become 'x'.
func ascii(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		switch {
		case c >= 0x80, c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			out[i] = 'x'
		default:
			out[i] = c
		}
	}
	return out
}

// splitFeed finds the entries of an RSS or Atom document.
func splitFeed(doc []byte) (*splitDoc, error) {
	if wide(doc) {
		return nil, errUnsplittable
	}
	start := 0
	if bytes.HasPrefix(doc, []byte{0xEF, 0xBB, 0xBF}) {
		start = 3 // keep the BOM in every item; read past it
	}
	d := xml.NewDecoder(bytes.NewReader(ascii(doc[start:])))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }

	sd := &splitDoc{doc: doc}
	var (
		stack      []xml.Name // open elements
		cur        *feedItem  // entry being read
		depth      int        // stack depth of the entry element
		field      string     // child of the entry being read
		fieldDepth int
		text       strings.Builder
		fieldStart int64
		published  string
		updated    string
	)
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(stack) == 0 && sd.kind == "" {
				return nil, fmt.Errorf("%w: %v", errNotFeed, err)
			}
			return nil, fmt.Errorf("read feed: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name)
			n := len(stack)
			switch {
			case n == 1:
				switch strings.ToLower(t.Name.Local) {
				case "rss", "rdf":
					sd.kind = "rss"
				case "feed":
					sd.kind = "atom"
				default:
					return nil, fmt.Errorf("%w: root element %q", errNotFeed, t.Name.Local)
				}
			case cur == nil && isEntry(sd.kind, stack):
				cur = &feedItem{start: int64(start) + off}
				depth, published, updated = n, "", ""
				if sd.kind == "rss" {
					cur.id = attr(t, nsRDF, "about")
				}
			case cur != nil && n == depth+1 && field == "":
				field = entryField(sd.kind, t)
				fieldDepth, fieldStart = n, int64(start)+d.InputOffset()
				text.Reset()
				if field == "atomlink" {
					rel := attr(t, "", "rel")
					if (rel == "" || rel == "alternate") && cur.link == "" {
						cur.link = strings.TrimSpace(attr(t, "", "href"))
					}
					field = ""
				}
			}
		case xml.CharData:
			if field != "" {
				text.Write(t)
			}
		case xml.EndElement:
			n := len(stack)
			if cur != nil && field != "" && n == fieldDepth {
				v := strings.TrimSpace(text.String())
				raw := doc[fieldStart:min(int64(start)+off, int64(len(doc)))]
				if hasHighBytes(raw) && (field == "id" || field == "link") {
					// Not ASCII: the masked copy lost it. Key on the
					// bytes as sent.
					sum := sha256.Sum256(bytes.TrimSpace(raw))
					v = "sha256:" + hex.EncodeToString(sum[:16])
				}
				switch field {
				case "id":
					if cur.id == "" {
						cur.id = v
					}
				case "link":
					if cur.link == "" {
						cur.link = v
					}
				case "published":
					if published == "" {
						published = v
					}
				case "updated":
					if updated == "" {
						updated = v
					}
				}
				field = ""
			}
			if cur != nil && n == depth {
				cur.end = int64(start) + d.InputOffset()
				cur.date = published
				if cur.date == "" {
					cur.date = updated
				}
				sd.items = append(sd.items, *cur)
				cur = nil
			}
			if n > 0 {
				stack = stack[:n-1]
			}
		}
	}
	if sd.kind == "" {
		return nil, errNotFeed
	}
	if cur != nil {
		return nil, errors.New("read feed: the document ends inside an entry")
	}
	return sd, nil
}

// isEntry reports whether the element on top of stack is an entry: an
// item of an RSS channel (or, in RSS 0.90 and 1.0, of the rdf:RDF root),
// an entry of an Atom feed.
func isEntry(kind string, stack []xml.Name) bool {
	n := len(stack)
	if n < 2 {
		return false
	}
	top := strings.ToLower(stack[n-1].Local)
	parent := strings.ToLower(stack[n-2].Local)
	switch kind {
	case "rss":
		return top == "item" && (parent == "channel" || n == 2)
	case "atom":
		return top == "entry" && n == 2
	}
	return false
}

// entryField names the child elements of an entry splitFeed reads:
// "id", "link", "published", "updated", "atomlink" (an Atom link element,
// read from its attributes), or "".
func entryField(kind string, t xml.StartElement) string {
	local, space := strings.ToLower(t.Name.Local), t.Name.Space
	atomNS := space == nsAtom10 || space == nsAtom03
	if kind == "atom" {
		if space != "" && !atomNS {
			if space == nsDC && local == "date" {
				return "published"
			}
			return ""
		}
		switch local {
		case "id":
			return "id"
		case "link":
			return "atomlink"
		case "published", "issued":
			return "published"
		case "updated", "modified":
			return "updated"
		}
		return ""
	}
	// RSS elements come with no namespace, RSS 1.0's or 0.90's, or one of
	// their own (the Userland RSS 2 namespace): anything but Atom and
	// Dublin Core.
	switch {
	case atomNS:
		if local == "updated" {
			return "updated"
		}
	case space == nsDC:
		if local == "date" {
			return "published"
		}
	default:
		switch local {
		case "guid":
			return "id"
		case "link":
			return "link"
		case "pubdate":
			return "published"
		}
	}
	return ""
}

func attr(t xml.StartElement, space, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local && (space == "" || a.Name.Space == space) {
			return a.Value
		}
	}
	return ""
}

func hasHighBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// Date layouts found in feeds: RFC 822/1123 with or without weekday,
// seconds and a numeric zone; RFC 3339 and its looser cousins.
var dateLayouts = []string{
	time.RFC1123Z, time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 02 Jan 2006 15:04 -0700", "Mon, 02 Jan 2006 15:04 MST",
	"Mon, 2 Jan 2006 15:04 -0700", "Mon, 2 Jan 2006 15:04 MST",
	"2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 06 15:04:05 -0700", "Mon, 2 Jan 06 15:04:05 MST",
	"Monday, 2 January 2006 15:04:05 -0700", "Monday, 2 January 2006 15:04:05 MST",
	"Mon, 2 January 2006 15:04:05 -0700", "Mon, 2 January 2006 15:04:05 MST",
	time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02",
}

// US zone abbreviations RFC 822 allows; other abbreviations are read as
// UTC by time.Parse.
var zoneOffsets = map[string]int{
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}

// parseFeedDate reads a feed's date as written; times without a zone are
// in loc. ok is false when no layout fits.
func parseFeedDate(s string, loc *time.Location) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range dateLayouts {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if strings.Contains(layout, "MST") {
			name, off := t.Zone()
			if h, ok := zoneOffsets[name]; ok && off == 0 {
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(name, h*3600))
			}
		}
		return t, true
	}
	return time.Time{}, false
}
