package rss

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLParagraphs turns an HTML fragment (a feed item's description or
// content, a ninjs body_html) into plain-text paragraphs.
//
//   - Block elements (p, div, h1-h6, li, blockquote, table rows, section,
//     figure, ...) and <br> end a paragraph; inline elements (a, b, span,
//     ...) are dropped and their text kept, so "<b>Wi</b>re" is "Wire".
//   - Table cells in a row are joined with a space.
//   - The content of script, style, noscript, template, iframe, object,
//     svg, math, select and head is dropped, and so are comments (and CDATA
//     sections, which HTML reads as comments) and images.
//   - Character references are decoded once, as a browser would:
//     "&amp;eacute;" becomes "&eacute;" (pkg/textfix undoes such double
//     escaping later).
//   - In each paragraph a run of white space becomes one space and the
//     paragraph is trimmed; a single no-break space between two visible
//     characters ("10&nbsp;km") is kept as U+00A0. Empty paragraphs are
//     dropped.
//   - Inside <pre>, each line is a paragraph.
//   - A fragment with no block element and no <br> at all is split at
//     blank lines, so that text written with blank lines between
//     paragraphs but no markup keeps its paragraphs; single line breaks
//     are spaces, as in any HTML (the source is often wrapped).
//
// The text is not otherwise repaired: mojibake and odd characters stay as
// they are. HTMLParagraphs never fails; malformed markup is read the way
// the HTML tokenizer reads it. It returns nil when there is no text.
func HTMLParagraphs(s string) []string {
	if !strings.ContainsAny(s, "<&") {
		return blankLineParagraphs(s)
	}
	c := converter{}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// io.EOF or a read error from a strings.Reader: both mean the end.
			return c.finish()
		case html.TextToken:
			if c.skip == 0 {
				c.text(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			c.start(atom.Lookup(name), tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.end(atom.Lookup(name))
		}
		// Comments and doctypes are dropped.
	}
}

// converter collects paragraphs from the token stream.
type converter struct {
	paras []string
	cur   strings.Builder
	// skip counts open elements whose content is dropped; skipTag is the
	// outermost of them, the only tag counted while skipping.
	skip    int
	skipTag atom.Atom
	pre     int  // open <pre> elements
	blocks  bool // a block element or <br> was seen
	raw     strings.Builder
}

// dropped lists the elements whose content is not text of the story.
var dropped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Object: true, atom.Svg: true, atom.Math: true,
	atom.Select: true, atom.Head: true, atom.Title: true, atom.Textarea: true,
	atom.Audio: true, atom.Video: true, atom.Canvas: true, atom.Noembed: true,
	atom.Noframes: true,
}

// breaks lists the elements that start and end a paragraph.
var breaks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Hr: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
	atom.Blockquote: true, atom.Pre: true, atom.Address: true, atom.Center: true,
	atom.Table: true, atom.Tr: true, atom.Thead: true, atom.Tbody: true, atom.Tfoot: true,
	atom.Caption: true, atom.Section: true, atom.Article: true, atom.Aside: true,
	atom.Header: true, atom.Footer: true, atom.Nav: true, atom.Main: true,
	atom.Figure: true, atom.Figcaption: true, atom.Form: true, atom.Fieldset: true,
	atom.Legend: true, atom.Details: true, atom.Summary: true, atom.Body: true,
	atom.Html: true, atom.Menu: true, atom.Hgroup: true, atom.Option: true,
}

// cells lists the table cells, separated by a space within their row.
var cells = map[atom.Atom]bool{atom.Td: true, atom.Th: true}

// rawText lists the dropped elements whose content the tokenizer reads as
// raw text up to the end tag, even when the start tag is written
// self-closing ("<iframe/>"), as browsers do.
var rawText = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Noscript: true,
	atom.Noembed: true, atom.Noframes: true, atom.Textarea: true, atom.Title: true,
}

// void lists elements that never have content, so that a start tag of a
// dropped element that cannot be closed is not waited for.
var void = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true,
	atom.Hr: true, atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true,
	atom.Source: true, atom.Track: true, atom.Wbr: true,
}

func (c *converter) start(a atom.Atom, selfClosing bool) {
	if c.skip > 0 {
		if a == c.skipTag && !selfClosing {
			c.skip++
		}
		return
	}
	switch {
	case dropped[a]:
		if rawText[a] || !selfClosing && !void[a] {
			c.skip, c.skipTag = 1, a
		}
	case breaks[a]:
		c.blocks = true
		c.flush()
		if a == atom.Pre && !selfClosing {
			c.pre++
		}
	case cells[a]:
		c.cur.WriteByte(' ')
	}
}

func (c *converter) end(a atom.Atom) {
	if c.skip > 0 {
		if a == c.skipTag {
			c.skip--
		}
		return
	}
	switch {
	case breaks[a]:
		c.blocks = true
		c.flush()
		if a == atom.Pre && c.pre > 0 {
			c.pre--
		}
	case cells[a]:
		c.cur.WriteByte(' ')
	}
}

// text adds decoded character data. Line breaks end a paragraph inside
// <pre>; elsewhere they are white space.
func (c *converter) text(b []byte) {
	c.raw.Write(b)
	if c.pre == 0 {
		c.cur.Write(b)
		return
	}
	for {
		i := strings.IndexAny(string(b), "\r\n")
		if i < 0 {
			c.cur.Write(b)
			return
		}
		c.cur.Write(b[:i])
		c.flush()
		b = b[i+1:]
	}
}

// flush ends the current paragraph.
func (c *converter) flush() {
	if c.cur.Len() == 0 {
		return
	}
	if p := collapseSpace(c.cur.String()); p != "" {
		c.paras = append(c.paras, p)
	}
	c.cur.Reset()
	c.raw.WriteByte('\n')
}

func (c *converter) finish() []string {
	if !c.blocks {
		// No structure at all: the text's own line breaks are all there
		// is to go by.
		return blankLineParagraphs(c.raw.String())
	}
	c.flush()
	return c.paras
}

// collapseSpace turns each run of white space into one space and trims the
// ends. A run that is a single no-break space (U+00A0 or U+202F) between
// two other characters is kept as it is.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	run, runLen := rune(0), 0 // the last space seen in the current run
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if unicode.IsSpace(r) {
			run = r
			runLen++
			continue
		}
		if runLen > 0 && b.Len() > 0 {
			if runLen == 1 && (run == '\u00a0' || run == '\u202f') {
				b.WriteRune(run)
			} else {
				b.WriteByte(' ')
			}
		}
		runLen = 0
		b.WriteRune(r)
	}
	return b.String()
}

// blankLineParagraphs splits text at blank lines (lines empty or only
// white space), with white space collapsed as in HTML paragraphs.
func blankLineParagraphs(s string) []string {
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var paras []string
	var cur strings.Builder
	flush := func() {
		if p := collapseSpace(cur.String()); p != "" {
			paras = append(paras, p)
		}
		cur.Reset()
	}
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte(' ')
	}
	flush()
	return paras
}

// plainParagraphs splits text without markup into paragraphs, by the rule
// of newstext.Paragraphs, with white space collapsed as in HTML paragraphs.
func plainParagraphs(s string) []string {
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	blankSeparated := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			blankSeparated = true
			break
		}
	}
	var paras []string
	var cur strings.Builder
	flush := func() {
		if p := collapseSpace(cur.String()); p != "" {
			paras = append(paras, p)
		}
		cur.Reset()
	}
	for _, l := range lines {
		if blankSeparated && strings.TrimSpace(l) != "" {
			cur.WriteString(l)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(l)
		flush()
	}
	flush()
	return paras
}
