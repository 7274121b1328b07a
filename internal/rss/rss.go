// Package rss parses RSS (0.9x, 1.0, 2.0) and Atom (0.3, 1.0) feeds into
// stories, one per item or entry, and turns feed HTML into plain
// paragraphs (HTMLParagraphs, which other formats use as well).
//
// Parse takes the raw bytes and does its own charset handling (see
// Parse); the text fields of the stories are otherwise as the feed wrote
// them: mojibake, HTML character references left in plain-text fields and
// odd white space are for pkg/textfix to repair afterwards.
//
// Give Parse the bytes as they came, with the charset they were served
// with, not text decoded elsewhere: the charset of the XML declaration
// would be applied a second time (UTF-8 text of a feed declared gb2312
// would be read as GBK). When only decoded text is at hand, pass it with
// httpCharset "utf-8", which overrides the declaration. Parse never
// returns a *story.SkipError: a feed without items is an empty result.
package rss

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	gorss "github.com/mmcdole/gofeed/rss"

	"github.com/wirefeed/wirefeed/internal/story"
)

// Parse reads an RSS or Atom feed and returns one story per item (RSS) or
// entry (Atom), in document order, at most story.MaxItems of them (later
// items are dropped). A well-formed feed without items returns an empty
// slice and a nil error.
//
// Charset: Parse decodes the bytes itself. httpCharset is the charset the
// feed was served with: a bare name ("koi8-r"), a whole Content-Type value
// ("application/rss+xml; charset=koi8-r"), or "" when unknown. A byte order
// mark wins, then BOM-less UTF-16/32, then httpCharset, which overrides the
// XML declaration's encoding, then the declaration, then UTF-8; bytes that
// are none of these are read in the legacy charset they fit best
// (windows-1252 for Latin-script text; EUC-KR, EUC-JP, Shift_JIS, GBK,
// Big5, windows-1251, KOI8-R, windows-1253, windows-1255 or windows-874
// when one of them reads clearly better). How the bytes were read is
// reported in every story's Fixes as textfix.Decode's codes
// ("charset:windows-1251", "charset:guessed:windows-1252", "bom", ...),
// "charset:utf-16le" and the like for BOM-less UTF-16/32,
// "charset:detected:koi8-r" and the like for a detected charset, and
// "control-chars" when characters XML does not allow were removed.
//
// Fields, for an RSS item / an Atom entry:
//
//   - Format: "rss" / "atom".
//   - SourceID: guid / id; the link when there is none.
//   - URL: link (a permalink guid when there is no link) / the
//     rel="alternate" link; a relative link is resolved against the
//     channel's / feed's own link (xml:base is applied by the parser).
//   - Title: title, trimmed; markup in it, if any, is removed.
//   - Date: pubDate, else dc:date / published, else updated; as written.
//   - Updated: atom:updated or dcterms:modified / updated; as written.
//   - Byline: the dc:creator values, else the author's name (from
//     "mail@example.com (Name)") / the entry's authors, else the feed's;
//     several are joined with ", ".
//   - Language: the item's dc:language, else the channel's language or
//     dc:language, else xml:lang on rss or channel / the entry's xml:lang,
//     else the feed's; trimmed, with "_" turned into "-" ("en_US").
//   - Provider: the channel's / feed's title, markup removed.
//   - Subjects: category values and dc:subject / category labels, else
//     terms; duplicates dropped.
//   - Body: content:encoded, else description / content, else summary;
//     HTML is turned into paragraphs by HTMLParagraphs; Atom text content
//     is split as newstext.Paragraphs splits text (at blank lines if it
//     has any, else at every line break).
//   - Captions: for each media:content, media:thumbnail and media:group,
//     its media:description, else its media:title; the item's own
//     media:description or media:title when it has media; the title of an
//     Atom rel="enclosure" link. Duplicates dropped.
//
// An item may come out with an empty Body or Title; the normalizer decides
// what such a story is worth.
//
// Errors are *story.ParseError with Reason:
//
//   - "too_large": the input is longer than story.MaxInputBytes.
//   - "rss_bad_xml": the XML cannot be read, after the lenient recovery
//     the feed parser does (entities XML does not define, such as
//     &eacute;, are read as HTML references; a mismatched end tag closes
//     the open element; anything after the root element is ignored).
//   - "rss_not_feed": the root element is not rss, rdf:RDF or feed.
//   - "rss_too_deep": elements nest deeper than story.MaxDepth.
//   - "rss_too_complex": more than about a million elements and
//     attributes (or 131072 in extensions such as media:*), or markup
//     shaped to make the parser's work grow faster than the input (many
//     namespace declarations in scope, extension text split into many
//     pieces). See the limits in scan.go.
func Parse(b []byte, httpCharset string) ([]story.Story, error) {
	_, stories, err := parseFeed(b, httpCharset)
	return stories, err
}

// feedInfo is what parseFeed learns about the feed as a whole.
type feedInfo struct {
	title string   // the channel's or feed's title
	fixes []string // how the bytes were read
}

func parseFeed(b []byte, httpCharset string) (feedInfo, []story.Story, error) {
	var info feedInfo
	if len(b) > story.MaxInputBytes {
		return info, nil, &story.ParseError{Reason: "too_large", Err: fmt.Errorf("feed is %d bytes, more than %d", len(b), story.MaxInputBytes)}
	}
	text, fixes := decodeFeed(b, httpCharset)
	text, dropped := dropInvalidXMLChars(text)
	if dropped {
		fixes = append(fixes, "control-chars")
	}
	info.fixes = fixes
	sh, err := scan(text)
	if err != nil {
		return info, nil, err
	}
	var stories []story.Story
	switch sh.root {
	case "rss", "rdf":
		feed, err := (&gorss.Parser{}).Parse(strings.NewReader(text))
		if err != nil {
			return info, nil, &story.ParseError{Reason: "rss_bad_xml", Err: err}
		}
		info.title = plainTitle(feed.Title)
		stories = fromRSS(feed, sh)
	case "feed":
		feed, err := (&atom.Parser{}).Parse(strings.NewReader(text))
		if err != nil {
			return info, nil, &story.ParseError{Reason: "rss_bad_xml", Err: err}
		}
		info.title = plainTitle(feed.Title)
		stories = fromAtom(feed, sh)
	default:
		return info, nil, &story.ParseError{Reason: "rss_not_feed", Err: fmt.Errorf("root element %q is not rss, rdf:RDF or feed", sh.root)}
	}
	for i := range stories {
		stories[i].Language = langTag(stories[i].Language)
		stories[i].Fixes = append([]string(nil), fixes...)
	}
	return info, stories, nil
}

func fromRSS(feed *gorss.Feed, sh *shape) []story.Story {
	items := feed.Items
	if len(items) > story.MaxItems {
		items = items[:story.MaxItems]
	}
	lang := strings.TrimSpace(feed.Language)
	if lang == "" && feed.DublinCoreExt != nil {
		lang = first(feed.DublinCoreExt.Language)
	}
	if lang == "" {
		lang = sh.lang
	}
	provider := plainTitle(feed.Title)
	base := baseURL(feed.Link)
	out := make([]story.Story, 0, len(items))
	for _, it := range items {
		st := story.Story{
			Format:   "rss",
			Title:    plainTitle(it.Title),
			URL:      resolve(base, it.Link),
			Date:     strings.TrimSpace(it.PubDate),
			Provider: provider,
			Language: lang,
		}
		if it.GUID != nil {
			st.SourceID = strings.TrimSpace(it.GUID.Value)
			if st.URL == "" && !strings.EqualFold(it.GUID.IsPermalink, "false") && isURL(st.SourceID) {
				st.URL = st.SourceID
			}
		}
		if st.SourceID == "" {
			st.SourceID = st.URL
		}
		var creators, subjects []string
		if dc := it.DublinCoreExt; dc != nil {
			if st.Date == "" {
				st.Date = first(dc.Date)
			}
			if l := first(dc.Language); l != "" {
				st.Language = l
			}
			creators = dc.Creator
			subjects = dc.Subject
		}
		st.Updated = firstExt(it.Extensions, "atom", "updated")
		if st.Updated == "" {
			st.Updated = firstExt(it.Extensions, "dcterms", "modified")
		}
		st.Byline = joinNames(creators)
		if st.Byline == "" {
			st.Byline = authorName(it.Author)
		}
		for _, c := range it.Categories {
			st.Subjects = append(st.Subjects, c.Value)
		}
		st.Subjects = dedupe(append(st.Subjects, subjects...))
		st.Body = HTMLParagraphs(it.Content)
		if len(st.Body) == 0 {
			st.Body = HTMLParagraphs(it.Description)
		}
		st.Captions = mediaCaptions(it.Extensions)
		out = append(out, st)
	}
	return out
}

func fromAtom(feed *atom.Feed, sh *shape) []story.Story {
	entries := feed.Entries
	if len(entries) > story.MaxItems {
		entries = entries[:story.MaxItems]
	}
	langs := sh.entryLangs
	if len(langs) != len(feed.Entries) {
		langs = nil // the scan and the parser disagree; trust neither
	}
	provider := plainTitle(feed.Title)
	feedLang := strings.TrimSpace(feed.Language)
	var base *url.URL
	for _, l := range feed.Links {
		if l.Rel == "alternate" {
			base = baseURL(l.Href)
			break
		}
	}
	out := make([]story.Story, 0, len(entries))
	for i, e := range entries {
		st := story.Story{
			Format:   "atom",
			SourceID: strings.TrimSpace(e.ID),
			Title:    plainTitle(e.Title),
			Date:     strings.TrimSpace(e.Published),
			Updated:  strings.TrimSpace(e.Updated),
			Provider: provider,
			Language: feedLang,
		}
		if langs != nil && langs[i] != "" {
			st.Language = langs[i]
		}
		if st.Date == "" {
			st.Date = st.Updated
		}
		for _, l := range e.Links {
			switch {
			case l.Rel == "alternate" && st.URL == "":
				st.URL = resolve(base, l.Href)
			case l.Rel == "enclosure":
				st.Captions = append(st.Captions, l.Title)
			}
		}
		if st.SourceID == "" {
			st.SourceID = st.URL
		}
		authors := e.Authors
		if len(authors) == 0 {
			authors = feed.Authors
		}
		var names []string
		for _, a := range authors {
			names = append(names, a.Name)
		}
		st.Byline = joinNames(names)
		for _, c := range e.Categories {
			if strings.TrimSpace(c.Label) != "" {
				st.Subjects = append(st.Subjects, c.Label)
			} else {
				st.Subjects = append(st.Subjects, c.Term)
			}
		}
		st.Subjects = dedupe(st.Subjects)
		if c := e.Content; c != nil && c.Src == "" {
			st.Body = atomText(c.Type, c.Value)
		}
		if len(st.Body) == 0 {
			st.Body = HTMLParagraphs(e.Summary)
		}
		st.Captions = dedupe(append(st.Captions, mediaCaptions(e.Extensions)...))
		out = append(out, st)
	}
	return out
}

// atomText turns Atom content of the given type into paragraphs: text is
// split as plain text, HTML and XHTML as HTML; other media types (images,
// base64 data) have no paragraphs.
func atomText(typ, value string) []string {
	t := strings.ToLower(strings.TrimSpace(typ))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch {
	case t == "" || t == "text" || t == "text/plain":
		return plainParagraphs(value)
	case t == "html" || t == "xhtml" || strings.HasSuffix(t, "html") || strings.HasSuffix(t, "+xml"):
		return HTMLParagraphs(value)
	case strings.HasPrefix(t, "text/"):
		return plainParagraphs(value)
	}
	return nil
}

// mediaCaptions collects the Media RSS captions of an item: for each
// media:content, media:thumbnail and media:group, its description or else
// its title; and the item's own description or title when it has media.
func mediaCaptions(exts ext.Extensions) []string {
	media := exts["media"]
	if len(media) == 0 {
		return nil
	}
	var caps []string
	hasMedia := false
	var walk func(objs map[string][]ext.Extension)
	walk = func(objs map[string][]ext.Extension) {
		for _, name := range []string{"content", "thumbnail", "group"} {
			for _, m := range objs[name] {
				hasMedia = true
				caps = append(caps, mediaText(m.Children))
				if name == "group" {
					walk(map[string][]ext.Extension{"content": m.Children["content"], "thumbnail": m.Children["thumbnail"]})
				}
			}
		}
	}
	walk(media)
	if hasMedia {
		caps = append(caps, mediaText(media))
	}
	return dedupe(caps)
}

// mediaText returns the first media:description among children, else the
// first media:title, as plain text.
func mediaText(children map[string][]ext.Extension) string {
	for _, name := range []string{"description", "title"} {
		for _, c := range children[name] {
			v := c.Value
			if strings.EqualFold(c.Attrs["type"], "html") {
				v = strings.Join(HTMLParagraphs(v), " ")
			}
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return ""
}

// plainTitle trims a title and removes markup from it, if it has any.
func plainTitle(s string) string {
	s = strings.TrimSpace(s)
	if hasTag(s) {
		s = strings.Join(HTMLParagraphs(s), " ")
	}
	return s
}

// hasTag reports whether s holds something that looks like an HTML tag.
func hasTag(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		c := s[i+1]
		if c == '/' || c == '!' || c|0x20 >= 'a' && c|0x20 <= 'z' {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// authorName returns the person's name from an RSS author value, which
// is meant to be an e-mail address, often with the name in parentheses
// ("mail@example.com (Name)") and sometimes the other way around
// ("Name <mail@example.com>"). A value without a name is returned as is.
func authorName(s string) string {
	s = strings.TrimSpace(s)
	if open := strings.IndexByte(s, '('); open >= 0 && strings.HasSuffix(s, ")") {
		if name := strings.TrimSpace(s[open+1 : len(s)-1]); name != "" {
			return name
		}
	}
	if open := strings.IndexByte(s, '<'); open > 0 && strings.HasSuffix(s, ">") {
		if name := strings.Trim(strings.TrimSpace(s[:open]), `"`); name != "" {
			return name
		}
	}
	return s
}

// joinNames joins the non-empty, distinct names with ", ".
func joinNames(names []string) string {
	return strings.Join(dedupe(names), ", ")
}

// dedupe trims the strings of list and drops the empty ones and repeats,
// keeping the order. It reuses list's array.
func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func first(list []string) string {
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// firstExt returns the value of the first prefix:name extension element.
func firstExt(exts ext.Extensions, prefix, name string) string {
	for _, e := range exts[prefix][name] {
		if v := strings.TrimSpace(e.Value); v != "" {
			return v
		}
	}
	return ""
}

// langTag turns a language code as feeds write it into a BCP 47 tag:
// trimmed, with underscores ("en_US") turned into hyphens.
func langTag(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
}

// baseURL parses the feed's own link, against which relative item links
// are resolved; nil when it is not an absolute http(s) URL.
func baseURL(s string) *url.URL {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil
	}
	return u
}

// resolve returns the trimmed link, resolved against base when it is
// relative and base is known.
func resolve(base *url.URL, link string) string {
	link = strings.TrimSpace(link)
	if base == nil || link == "" {
		return link
	}
	u, err := url.Parse(link)
	if err != nil || u.IsAbs() {
		return link
	}
	return base.ResolveReference(u).String()
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}
