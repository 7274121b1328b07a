package newsmlg2

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"golang.org/x/net/html"

	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/story"
)

// content is what a body rendition yields.
type content struct {
	paras    []string
	captions []string
	// hl1 and byline are those of an NITF body.head, title that of an
	// XHTML or NITF head.
	hl1, title, byline string
}

// Element classes of the body walker.
const (
	inline = iota
	block
	lineBreak
	dropped
	table
	row
	cell
	preformatted
)

// classes gives the class of the XHTML and NITF elements that are not
// inline. Names are compared in lower case.
var classes = map[string]int{
	"p": block, "div": block, "section": block, "article": block,
	"header": block, "footer": block, "aside": block, "main": block,
	"nav": block, "address": block, "blockquote": block, "bq": block,
	"h1": block, "h2": block, "h3": block, "h4": block, "h5": block,
	"h6": block, "hl1": block, "hl2": block, "li": block, "ul": block,
	"ol": block, "dl": block, "dt": block, "dd": block, "body": block,
	"html": block, "nitf": block, "body.content": block, "block": block,
	"note": block, "fn": block, "hr": block, "center": block,
	"caption": block, "details": block, "summary": block, "credit": block,
	"figcaption": block, "title": block,

	"br": lineBreak,

	"pre": preformatted,

	"table": table, "tr": row, "td": cell, "th": cell,

	"head": dropped, "body.head": dropped, "body.end": dropped,
	"media": dropped, "figure": dropped, "script": dropped, "style": dropped,
	"noscript": dropped, "template": dropped, "object": dropped,
	"embed": dropped, "iframe": dropped, "img": dropped, "video": dropped,
	"audio": dropped, "source": dropped, "track": dropped, "svg": dropped,
	"math": dropped, "canvas": dropped, "map": dropped, "form": dropped,
	"button": dropped, "input": dropped, "select": dropped,
	"textarea": dropped, "nitf-table-metadata": dropped, "picture": dropped,
}

// captured names the elements inside a dropped element whose text is kept,
// by the dropped element: hl1 and byline of NITF body.head, the title of a
// head, NITF media-caption and XHTML figcaption.
var captured = map[string]map[string]bool{
	"body.head": {"hl1": true, "byline": true},
	"head":      {"title": true},
	"media":     {"media-caption": true},
	"figure":    {"figcaption": true},
}

// textRoot reports whether an inlineXML whose first element is name holds
// text markup.
func textRoot(name string) bool {
	switch c, ok := classes[strings.ToLower(name)]; {
	case name == "html" || name == "nitf" || name == "body":
		return true
	case ok && (c == block || c == table || c == preformatted):
		return name != "title" && name != "caption"
	}
	return false
}

// maxOpen bounds the walker's stack for HTML, whose elements need not be
// closed.
const maxOpen = story.MaxDepth

// walker turns a stream of XHTML or NITF elements and text into
// paragraphs. It is told element starts and ends by local name; an end
// closes the innermost open element of that name and those inside it, so
// HTML with unclosed elements is read too.
type walker struct {
	open  []string
	cur   strings.Builder
	pre   strings.Builder
	out   content
	cells int // cells in the current table row

	dropAt    int // index in open of the outermost dropped element, -1 if none
	captureAt int // index in open of the element being captured, -1 if none
	capture   strings.Builder
	tables    int
	pres      int
}

func newWalker() *walker {
	return &walker{dropAt: -1, captureAt: -1}
}

func (w *walker) start(name string) {
	name = strings.ToLower(name)
	c := classes[name]
	if len(w.open) >= maxOpen {
		if c == block || c == lineBreak {
			w.flush()
		}
		return
	}
	w.open = append(w.open, name)
	i := len(w.open) - 1
	switch {
	case w.captureAt >= 0:
		if c != inline {
			w.capture.WriteByte(' ')
		}
		return
	case w.dropAt >= 0:
		if captured[w.open[w.dropAt]][name] {
			w.captureAt = i
			w.capture.Reset()
		}
		return
	}
	switch c {
	case dropped:
		w.dropAt = i
	case block, lineBreak:
		w.breakLine()
	case preformatted:
		w.flush()
		w.pres++
	case table:
		w.flush()
		w.tables++
	case row:
		if w.tables > 0 {
			w.flush()
			w.cells = 0
		}
	case cell:
		if w.cells > 0 {
			w.cur.WriteString(" | ")
		}
		w.cells++
	}
}

func (w *walker) end(name string) {
	name = strings.ToLower(name)
	for i := len(w.open) - 1; i >= 0; i-- {
		if w.open[i] == name {
			for len(w.open) > i {
				w.pop()
			}
			return
		}
	}
}

// pop closes the innermost open element.
func (w *walker) pop() {
	i := len(w.open) - 1
	name := w.open[i]
	w.open = w.open[:i]
	switch {
	case i == w.captureAt:
		w.captureAt = -1
		w.captured(w.open[w.dropAt], name, collapse(w.capture.String()))
		return
	case w.captureAt >= 0:
		if classes[name] != inline {
			w.capture.WriteByte(' ')
		}
		return
	case i == w.dropAt:
		w.dropAt = -1
		return
	case w.dropAt >= 0:
		return
	}
	switch classes[name] {
	case block, lineBreak:
		w.breakLine()
	case preformatted:
		if w.pres--; w.pres == 0 {
			w.out.paras = append(w.out.paras, newstext.Paragraphs(w.pre.String())...)
			w.pre.Reset()
		}
	case table:
		w.flush()
		w.tables--
	case row:
		if w.tables > 0 {
			w.flush()
			w.cells = 0
		}
	}
}

// captured stores the text of a captured element.
func (w *walker) captured(in, name, text string) {
	if text == "" {
		return
	}
	switch {
	case in == "media" || in == "figure":
		w.out.captions = append(w.out.captions, text)
	case name == "byline":
		if w.out.byline == "" {
			w.out.byline = text
		}
	case name == "hl1":
		if w.out.hl1 == "" {
			w.out.hl1 = text
		}
	default:
		if w.out.title == "" {
			w.out.title = text
		}
	}
}

func (w *walker) text(s string) {
	switch {
	case w.captureAt >= 0:
		w.capture.WriteString(s)
	case w.dropAt >= 0:
	case w.pres > 0:
		w.pre.WriteString(s)
	default:
		w.cur.WriteString(s)
	}
}

// breakLine ends the current paragraph, or puts a space between the
// blocks inside a table cell.
func (w *walker) breakLine() {
	if w.tables > 0 {
		w.cur.WriteByte(' ')
		return
	}
	w.flush()
}

// flush ends the current paragraph.
func (w *walker) flush() {
	if p := collapse(w.cur.String()); p != "" {
		w.out.paras = append(w.out.paras, p)
	}
	w.cur.Reset()
}

// finish ends the walk and returns what it found.
func (w *walker) finish() *content {
	for len(w.open) > 0 {
		w.pop()
	}
	if w.pre.Len() > 0 {
		w.out.paras = append(w.out.paras, newstext.Paragraphs(w.pre.String())...)
		w.pre.Reset()
	}
	w.flush()
	return &w.out
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true,
	"hr": true, "img": true, "input": true, "link": true, "meta": true,
	"source": true, "track": true, "wbr": true, "param": true,
}

// htmlContent reads an HTML or XHTML body given as text.
func htmlContent(s string) *content {
	w := newWalker()
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return w.finish()
		case html.TextToken:
			w.text(string(z.Text()))
		case html.StartTagToken:
			name, _ := z.TagName()
			w.start(string(name))
			if voidElements[string(name)] {
				w.end(string(name))
			}
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			w.start(string(name))
			w.end(string(name))
		case html.EndTagToken:
			name, _ := z.TagName()
			w.end(string(name))
		}
	}
}

// xmlContent reads an XHTML or NITF body given as text. It returns nil
// when the text is not well-formed XML or holds no text markup.
func xmlContent(s string) *content {
	d := newDecoder(strings.NewReader(s))
	w := newWalker()
	depth := 0
	for first := true; ; {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return w.finish()
		}
		if err != nil {
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if first && !textRoot(t.Name.Local) {
				return nil
			}
			first = false
			if depth++; depth > story.MaxDepth {
				return nil
			}
			w.start(t.Name.Local)
		case xml.EndElement:
			depth--
			w.end(t.Name.Local)
		case xml.CharData:
			w.text(string(t))
		}
	}
}
