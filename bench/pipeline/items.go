package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/wirefeed/wirefeed/internal/demo"
	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/profile"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// Item sizes, in bytes of the file as dropped in the spool.
const (
	minItemBytes = 2000
	maxItemBytes = 5000
)

// sep separates payloads in the file given to kcat. It is a C0 control
// (record separator) that no generated item contains: the generator checks.
const sep = 0x1e

// kind is what a generated item is expected to become.
type kind int

const (
	clean   kind = iota // parses as it is
	damaged             // mojibake in title and body, repaired by normalize
	broken              // dead-lettered by normalize
)

// item is one generated spool file.
type item struct {
	name string
	body []byte
	kind kind
	id   string // source item ID ("" for items without a header)
	crlf bool   // CRLF line ends and a byte order mark, as from Windows
}

// template is a bundled demo sample, split into what the generator varies.
type template struct {
	name     string
	header   []string // lines up to and including the body marker
	body     []string // non-empty body lines, in order
	crlf     bool
	bom      bool
	lang     string
	codepage *charmap.Charmap // the damage of a damaged sample, nil when clean
	kind     kind
}

// corpus holds the templates and, per language, the sentences that extra
// paragraphs are built from.
type corpus struct {
	templates []*template
	broken    []*template
	sentences map[string][]string
}

// endMarks are the end marks of the samples; a line holding one stays last.
var endMarks = []string{"■", "(END)", "ENDS", "(Ende)", "(FIN)", "(КОНЕЦ)", "###"}

// loadCorpus reads the bundled samples (internal/demo) as templates.
func loadCorpus() (*corpus, error) {
	names, err := fs.Glob(demo.Samples, "samples/*.txt")
	if err != nil {
		return nil, err
	}
	c := &corpus{sentences: map[string][]string{}}
	for _, name := range names {
		b, err := demo.Samples.ReadFile(name)
		if err != nil {
			return nil, err
		}
		t := parseTemplate(path.Base(name), string(b))
		switch {
		case t.kind == broken && len(t.body) == 0:
			// A flash without a body cannot be made 2 KB long: left out.
		case t.kind == broken:
			c.broken = append(c.broken, t)
		case t.kind == clean:
			c.addSentences(t)
			fallthrough
		default:
			c.templates = append(c.templates, t)
		}
	}
	for _, t := range append(slices.Clone(c.templates), c.broken...) {
		if len(c.sentences[t.lang]) < 5 {
			return nil, fmt.Errorf("template %s: too few clean %q sentences to vary it", t.name, t.lang)
		}
	}
	if len(c.templates) == 0 || len(c.broken) == 0 {
		return nil, fmt.Errorf("samples: %d templates that parse, %d broken ones; want some of each", len(c.templates), len(c.broken))
	}
	return c, nil
}

// parseTemplate splits a sample into header and body lines, and tells what
// normalize makes of it: the samples whose name says nothing are judged by
// their content (a header with a title and a body: it parses; mojibake that
// textfix repairs: damaged).
func parseTemplate(name, text string) *template {
	t := &template{name: name}
	if strings.HasPrefix(text, "\ufeff") {
		t.bom = true
		text = strings.TrimPrefix(text, "\ufeff")
	}
	t.crlf = strings.Contains(text, "\r\n")
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	marker := -1
	var url, id string
	title := false
	for i, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "url":
			url = strings.TrimSpace(v)
		case "id":
			id = strings.TrimSpace(v)
		case "title":
			title = strings.TrimSpace(v) != ""
		case "ariticle", "article":
			marker = i
		}
		if marker >= 0 {
			break
		}
	}
	t.header = lines[:marker+1]
	for _, l := range lines[marker+1:] {
		if strings.TrimSpace(l) != "" {
			t.body = append(t.body, l)
		}
	}
	prof, ok := profile.Lookup(url, id)
	if !ok {
		// A sample without a header: its language from its agency's name.
		for _, p := range profile.All() {
			if strings.Contains(name, p.Slug) {
				prof, ok = p, true
			}
		}
	}
	t.lang = prof.Language
	switch {
	case marker < 0 || !title || len(t.body) == 0 || !ok:
		t.kind = broken
	default:
		_, fixes := textfix.FixWith(text, textfix.DefaultOptions())
		for _, f := range fixes {
			switch f {
			case "mojibake:cp1252":
				t.codepage, t.kind = charmap.Windows1252, damaged
			case "mojibake:cp1251":
				t.codepage, t.kind = charmap.Windows1251, damaged
			}
		}
	}
	return t
}

// addSentences adds the sentences of a clean sample's ordinary paragraphs
// (not the dateline, captions or end mark) to its language's pool.
func (c *corpus) addSentences(t *template) {
	for i, p := range t.body {
		p = strings.TrimSpace(p)
		if i == 0 || newstext.IsCaption(p) || len(p) < 60 || hasEndMark(p) {
			continue
		}
		if _, rest, ok := newstext.SplitDateline(p); ok {
			p = rest
		}
		c.sentences[t.lang] = append(c.sentences[t.lang], splitSentences(p)...)
	}
}

func hasEndMark(p string) bool {
	for _, m := range endMarks {
		if strings.Contains(p, m) {
			return true
		}
	}
	return false
}

// splitSentences cuts a paragraph after '.', '!' or '?' (and the closing
// quote that may follow) where a space follows. Pieces of 20 bytes or less
// ("Feb.", "Dr.") stay with what follows.
func splitSentences(p string) []string {
	var out []string
	start := 0
	rs := []rune(p)
	for i := 0; i+1 < len(rs); i++ {
		end := strings.ContainsRune(".!?", rs[i]) ||
			strings.ContainsRune("\"»”“", rs[i]) && i > 0 && strings.ContainsRune(".!?", rs[i-1])
		if !end || rs[i+1] != ' ' {
			continue
		}
		if s := strings.TrimSpace(string(rs[start : i+1])); len(s) > 20 {
			out = append(out, s)
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

// generator makes items from the corpus, reproducibly for a seed.
type generator struct {
	c      *corpus
	rnd    *rand.Rand
	base   time.Time // publication times fall in the two days from base
	broken float64   // share of broken items
	seen   map[string]bool
	order  []int // sentence pool indexes not yet used by the current item
}

func newGenerator(c *corpus, seed uint64) *generator {
	return &generator{
		c:      c,
		rnd:    rand.New(rand.NewPCG(seed, 0x77697265)),
		base:   time.Date(2024, 11, 25, 0, 0, 0, 0, time.UTC),
		broken: 0.01,
		seen:   map[string]bool{},
	}
}

// item returns the item of sequence number seq: a template picked at
// random, its numbers, ID, URL and publication time varied, and paragraphs
// built from sentences of its language added until it reaches a size drawn
// between minItemBytes and maxItemBytes. Damaged templates get damaged
// paragraphs, with the same code page.
func (g *generator) item(seq int) (item, error) {
	for attempt := 0; attempt < 10; attempt++ {
		t := g.c.templates[g.rnd.IntN(len(g.c.templates))]
		if g.rnd.Float64() < g.broken {
			t = g.c.broken[g.rnd.IntN(len(g.c.broken))]
		}
		it := g.build(t, seq)
		if bytes.IndexByte(it.body, sep) >= 0 {
			return item{}, fmt.Errorf("item %d from %s holds the kcat delimiter byte", seq, t.name)
		}
		if len(it.body) < minItemBytes || len(it.body) > maxItemBytes {
			continue
		}
		if !g.seen[string(it.body)] {
			g.seen[string(it.body)] = true
			return it, nil
		}
	}
	return item{}, fmt.Errorf("item %d: no unique item of %d to %d bytes after 10 attempts", seq, minItemBytes, maxItemBytes)
}

func (g *generator) build(t *template, seq int) item {
	published := g.base.Add(time.Duration(g.rnd.Int64N(int64(48 * time.Hour)))).Truncate(time.Second)
	it := item{name: fmt.Sprintf("bench-%06d.txt", seq), kind: t.kind, crlf: t.crlf}
	g.order = nil
	var lines []string
	for _, l := range t.header {
		k, v, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "url":
			l = k + ": " + uniqueURL(strings.TrimSpace(v), seq)
		case "id":
			it.id = idPrefix(strings.TrimSpace(v)) + published.Format("20060102") + fmt.Sprintf("%06d", seq)
			l = k + ": " + it.id
		case "date":
			l = k + ": " + published.Format(time.DateTime)
		case "title":
			l = k + ":" + g.varyNumbers(v)
		}
		lines = append(lines, l)
	}
	// Extra paragraphs go between the template's second line (a dateline
	// or a caption) and its last one (often an end mark), at random places.
	anchors := t.body
	head, tail := anchors[:min(2, len(anchors)-1)], anchors[min(2, len(anchors)-1):]
	size := len(t.header) + 3 // line ends, BOM
	for _, l := range lines {
		size += len(l)
	}
	for _, l := range anchors {
		size += len(l) + 1
	}
	target := minItemBytes + g.rnd.IntN(maxItemBytes-minItemBytes-400)
	var extra []string
	for size < target {
		p := g.paragraph(t)
		if size+len(p)+1 > maxItemBytes {
			break
		}
		extra = append(extra, p)
		size += len(p) + 1
	}
	body := slices.Clone(head)
	middle := slices.Clone(tail[:len(tail)-1])
	for _, p := range extra {
		i := g.rnd.IntN(len(middle) + 1)
		middle = slices.Insert(middle, i, p)
	}
	body = append(body, middle...)
	body = append(body, tail[len(tail)-1])
	lines = append(lines, body...)
	eol := "\n"
	if t.crlf {
		eol = "\r\n"
	}
	text := strings.Join(lines, eol) + eol
	if t.bom {
		text = "\ufeff" + text
	}
	it.body = []byte(text)
	return it
}

// paragraph builds one paragraph of one to three sentences of the
// template's language, numbers varied, damaged like the template.
func (g *generator) paragraph(t *template) string {
	n := 1 + g.rnd.IntN(3)
	ss := make([]string, n)
	for i := range ss {
		ss[i] = g.varyNumbers(g.sentence(t.lang))
	}
	p := strings.Join(ss, " ")
	if t.codepage != nil {
		p = misdecode(p, t.codepage)
	}
	return p
}

// sentence returns the next sentence of the item's shuffled pool for lang:
// an item repeats a sentence only once it has used them all.
func (g *generator) sentence(lang string) string {
	if len(g.order) == 0 {
		pool := g.c.sentences[lang]
		g.order = g.rnd.Perm(len(pool))
	}
	i := g.order[0]
	g.order = g.order[1:]
	return g.c.sentences[lang][i]
}

// varyNumbers replaces each run of digits by another of the same length;
// years (19xx, 20xx) stay.
func (g *generator) varyNumbers(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); {
		if b[i] < '0' || b[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		year := j-i == 4 && (string(b[i:i+2]) == "19" || string(b[i:i+2]) == "20")
		if !year {
			for k := i; k < j; k++ {
				lo := 0
				if k == i && j-i > 1 {
					lo = 1
				}
				b[k] = byte('0' + lo + g.rnd.IntN(10-lo))
			}
		}
		i = j
	}
	return string(b)
}

// misdecode shows the UTF-8 bytes of s as code page cm would: the damage of
// a file written in UTF-8 and read as cm. Bytes cm leaves undefined become
// the C1 control of the same value, as lenient decoders do.
func misdecode(s string, cm *charmap.Charmap) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		r := rune(c)
		if c >= 0x80 {
			if d := cm.DecodeByte(c); d != '\uFFFD' {
				r = d
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// idPrefix returns the letters an item ID starts with (the agency's).
func idPrefix(id string) string {
	i := strings.IndexFunc(id, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return id
	}
	return id[:i]
}

// uniqueURL makes the template's URL the item's own: the sequence number
// goes into its last path segment, before any extension.
func uniqueURL(u string, seq int) string {
	slash := strings.LastIndexByte(u, '/')
	dot := strings.LastIndexByte(u, '.')
	if dot < slash {
		dot = len(u)
	}
	return fmt.Sprintf("%s-%06d%s", u[:dot], seq, u[dot:])
}
