package rss

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/wirefeed/wirefeed/internal/story"
)

// Limits on the shape of a feed, checked before the feed parser runs so
// that no input can make it use much more memory or time than its size
// warrants. Real feeds stay far below them.
const (
	// maxNodes bounds elements plus attributes.
	maxNodes = 1 << 20
	// maxExtNodes bounds the elements and attributes of extensions
	// (media:*, dc:*, any element of a foreign namespace in a channel,
	// item, feed or entry, and everything inside it), for each of which
	// the feed parser keeps a structure with two maps, about 1 KB.
	maxExtNodes = 1 << 17
	// maxScopeCost bounds the sum, over elements, of the namespace
	// bindings in scope, since the parser copies the bindings at every
	// element.
	maxScopeCost = 1 << 23
	// maxTextCost bounds the bytes copied when the parser joins the text
	// of an extension element that is split by child elements, which it
	// does by repeated string concatenation.
	maxTextCost = 1 << 28
)

// shape is what scan learns about a feed.
type shape struct {
	// root is the local name of the root element, lower case.
	root string
	// lang is the xml:lang of the root or of its first child (an RSS
	// channel), "" when neither has one.
	lang string
	// entryLangs holds the xml:lang of each entry that is a child of the
	// root, in document order ("" where an entry has none).
	entryLangs []string
}

// scan reads the whole document once with the same lenient tokenizer the
// feed parser uses, checks the limits (story.MaxDepth and the ones above)
// and reports the document's shape. Its errors are *story.ParseError.
func scan(text string) (*shape, error) {
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = false
	// The text is UTF-8 by now: decodeFeed removed the declared encoding.
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }

	type open struct {
		name  string // local name, lower case
		scope int    // namespace bindings in scope
		text  int    // bytes of text seen so far in this element
		segs  int    // text segments seen so far
		ext   bool   // the element is (inside) an extension
	}
	var stack []open
	sh := &shape{}
	rootSpace := ""
	nodes, extNodes, scopeCost, textCost := 0, 0, 0, 0
	// The feed parser stops at the end of the root element, and so does
	// the scan: what follows is never read.
	for rootDone := false; !rootDone; {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &story.ParseError{Reason: "rss_bad_xml", Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= story.MaxDepth {
				return nil, &story.ParseError{Reason: "rss_too_deep", Err: fmt.Errorf("elements nest deeper than %d", story.MaxDepth)}
			}
			name := strings.ToLower(t.Name.Local)
			var parent *open
			if n := len(stack); n > 0 {
				parent = &stack[n-1]
			} else {
				rootSpace = t.Name.Space
			}
			o := open{name: name}
			if parent != nil {
				o.scope = parent.scope
				o.ext = parent.ext || containers[parent.name] && !nativeSpace(t.Name.Space, rootSpace)
			}
			nodes += 1 + len(t.Attr)
			if o.ext {
				extNodes += 1 + len(t.Attr)
			}
			if nodes > maxNodes || extNodes > maxExtNodes {
				return nil, &story.ParseError{Reason: "rss_too_complex", Err: fmt.Errorf("more than %d elements and attributes, or %d in extensions", maxNodes, maxExtNodes)}
			}
			lang := ""
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns":
					o.scope++
				case a.Name.Local == "lang" && (a.Name.Space == "xml" || a.Name.Space == xmlNamespace):
					lang = strings.TrimSpace(a.Value)
				}
			}
			scopeCost += o.scope
			if scopeCost > maxScopeCost {
				return nil, &story.ParseError{Reason: "rss_too_complex", Err: errors.New("too many namespace declarations in scope")}
			}
			switch {
			case len(stack) == 0:
				sh.root, sh.lang = name, lang
			case len(stack) == 1:
				if name == "entry" {
					sh.entryLangs = append(sh.entryLangs, lang)
				} else if sh.lang == "" && name == "channel" {
					sh.lang = lang
				}
			}
			stack = append(stack, o)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
				rootDone = len(stack) == 0
			}
		case xml.CharData:
			if n := len(stack); n > 0 {
				o := &stack[n-1]
				if o.segs > 0 {
					textCost += o.text + len(t)
					if textCost > maxTextCost {
						return nil, &story.ParseError{Reason: "rss_too_complex", Err: errors.New("too much text split by markup")}
					}
				}
				o.segs++
				o.text += len(t)
			}
		}
	}
	if sh.root == "" {
		return nil, &story.ParseError{Reason: "rss_bad_xml", Err: errors.New("no root element")}
	}
	return sh, nil
}

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// containers are the elements whose foreign children the feed parser
// reads as extensions.
var containers = map[string]bool{
	"rss": true, "rdf": true, "channel": true, "item": true,
	"feed": true, "entry": true, "source": true,
}

// nativeSpace reports whether an element of namespace space is RSS, RDF or
// Atom to the feed parser, which also takes the root's own namespace as
// native.
func nativeSpace(space, rootSpace string) bool {
	switch space = strings.TrimSpace(space); space {
	case "", "rss", "rdf", rootSpace,
		"http://www.w3.org/1999/02/22-rdf-syntax-ns#",
		"http://purl.org/rss/1.0/",
		"http://channel.netscape.com/rdf/simple/0.9/",
		"http://my.netscape.com/rdf/simple/0.9/",
		"http://www.w3.org/2005/Atom",
		"http://purl.org/atom/ns#":
		return true
	}
	return false
}

// dropInvalidXMLChars removes the characters XML 1.0 does not allow (C0
// controls other than tab, line feed and carriage return; U+FFFE and
// U+FFFF), as the feed parser would; it reports whether there were any.
func dropInvalidXMLChars(s string) (string, bool) {
	i := strings.IndexFunc(s, invalidXMLChar)
	if i < 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if !invalidXMLChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

func invalidXMLChar(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF
}
