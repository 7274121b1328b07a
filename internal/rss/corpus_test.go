package rss

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/unicode/rangetable"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// TestCorpusGolden parses every file of the shared corpus's rss folder
// and compares the facts of each story (or the rejection reason), with the
// text fingerprinted, with testdata/golden/<path in the corpus>.golden.
// Files of feedparser's encoding tests are parsed with the Content-Type
// their header comment names. It logs, per folder, how many files parse,
// how many stories they hold, and why the others were rejected.
func TestCorpusGolden(t *testing.T) {
	var tally golden.Tally
	golden.EachSample(t, "rss", func(t *testing.T, rel string, b []byte) {
		ct := feedparserHeader(b).contentType
		info, stories, err := parseFeed(b, ct)
		var header string
		if ct != "" {
			header = fmt.Sprintf("# Content-Type: %s\n", ct)
		}
		decoded := strings.Join(info.fixes, " ")
		if decoded == "" {
			decoded = "utf-8"
		}
		header += fmt.Sprintf("decoded: %s\n", decoded)
		if info.title != "" {
			header += fmt.Sprintf("feed title: %s\n", golden.Text(info.title))
		}
		tally.Add(rel, stories, err)
		golden.CompareSample(t, rel, header, stories, err)
	})
	tally.Log(t)
}

// TestCorpusSpotChecks checks fields of some corpus feeds by hand.
func TestCorpusSpotChecks(t *testing.T) {
	corpus := golden.Corpus(t)
	tests := []struct {
		file  string
		item  int
		check func(s story.Story) []string // returns complaints
	}{
		{"rss/rss-parser/guardian.rss", 0, fields(story.Story{
			Format:   "rss",
			Date:     "Wed, 31 Jan 2018 07:26:05 GMT",
			Language: "en-gb",
			Provider: "The Guardian",
		}, sum("Title", title, "len=70 sha256=3e5a9c4dd52ac661"),
			prefix("Title", title, "Trump "),
			sum("Byline", byline, "len=25 sha256=fae33bb426a0cb03"),
			prefix("URL", link, "https://www.theguardian.com/us-news/2018/jan/31/"),
			same("SourceID and URL", func(s story.Story) string { return s.SourceID }, link),
			count("Subjects", func(s story.Story) []string { return s.Subjects }, 7),
			count("Body", body, 4),
			sum("Body[0]", paragraph(0), "len=121 sha256=c151bf755e23621e"),
			sum("Body[1]", paragraph(1), "len=192 sha256=03bb7c6b1074a01d"),
			prefix("Body[2]", paragraph(2), "Related: "),
			prefix("Body[3]", paragraph(3), "Continue reading..."),
		)},
		{"rss/node-feedparser/iconv.xml", 0, fields(story.Story{
			Provider: "Новости Оренбурга и области / Раздел Новости",
			Fixes:    []string{"charset:windows-1251"},
		}, sum("Title", title, "len=58 sha256=950b005ee73d9423"), script(unicode.Cyrillic, 0.9))},
		{"rss/rss-parser/encoding-gb2312.xml", 0, fields(story.Story{
			Provider: "新闻国内",
			Language: "zh-cn",
			Fixes:    []string{"charset:gbk"},
		}, sum("Title", title, "len=14 sha256=479eaefcc6237e3a"), script(unicode.Han, 0.8))},
		{"rss/rss-parser/latin2.rss", 0, fields(story.Story{
			Title: "ZAŻÓŁĆ GĘSLĄ JAŹŃ", // a synthetic feed: a pangram
			Fixes: []string{"charset:iso-8859-2"},
		}, suffix("Byline", byline, "żegżółka"), sum("Body", paragraph(0), "len=23 sha256=46b8cda4561a5b8b"))},
		{"rss/rss-parser/uolNoticias.rss", 0, fields(story.Story{
			Date:     "Seg, 24 Set 2018 19:42:40 -0300",
			Provider: "UOL Noticias",
			Fixes:    []string{"charset:guessed:windows-1252"},
		}, sum("Title", title, "len=74 sha256=aa4b3a7ae25f2d9a"), suffix("Title", title, " simulações de 2º turno"),
			sum("Body[0]", paragraph(0), "len=252 sha256=9e3980f4c8feac9e"), script(unicode.Latin, 0.99))},
		{"rss/rss-parser/encoding.rss", 0, fields(story.Story{
			Provider: "Jornal de Notícias - Últimas Notícias",
			Language: "pt-pt",
		}, sum("Title", title, "len=47 sha256=a44cc761ccc513ce"), prefix("Title", title, "Mãe de "))},
		{"rss/rss-parser/heise.atom", 0, fields(story.Story{
			Format:   "atom",
			SourceID: "http://heise.de/-3088438",
			Date:     "2016-02-01T17:22:00+01:00",
			Provider: "heise developer neueste Meldungen",
		}, sum("Title", title, "len=51 sha256=84335bed2511339d"))},
		{"rss/node-feedparser/tpm.atom", 0, fields(story.Story{
			Format:   "atom",
			Language: "en-US",
			Provider: "All TPM News",
		}, sum("Title", title, "len=68 sha256=7e7c19c3a011e89b"),
			prefix("URL", link, "http://talkingpointsmemo.com/livewire/"),
			count("Body", body, 6))},
		{"rss/feed-rs/atom_mediarss_newscred_1.xml", 0, fields(story.Story{
			Format:   "atom",
			SourceID: "75ffea6b731bb4534f3138fd6b726791",
			URL:      "http://www.example.com/the-day-off-tampa",
			Date:     "2019-04-05T21:04:40+00:00",
			Updated:  "2019-04-05T21:04:41+00:00",
			Byline:   "Some author",
			Body:     []string{"Some text"},
			Captions: []string{"media description"},
		})},
		{"rss/feed-rs/rss_2.0_nbcny.xml", 0, fields(story.Story{
			Language: "en-US", // written en_US
		}, count("Bylines joined with and", func(s story.Story) []string { return strings.Split(s.Byline, " and ") }, 2))},
		{"rss/feed-rs/rss_1.0_iso8859.xml", 0, fields(story.Story{
			Date:     "2023-01-25T19:03:02+01:00",
			Provider: "Golem.de",
		}, sum("Title", title, "len=60 sha256=70d270d8eba38297"), contains("Title", title, "förderung"),
			count("Byline words (dc:creator)", func(s story.Story) []string { return strings.Fields(s.Byline) }, 2))},
		{"rss/node-feedparser/rss2sample.xml", 0, fields(story.Story{
			SourceID: "http://liftoff.msfc.nasa.gov/2003/06/03.html#item573",
			URL:      "http://liftoff.msfc.nasa.gov/news/2003/news-starcity.asp",
			Title:    "Star City",
			Language: "en-us",
		})},
		{"rss/feedparser/illformed-chardet/koi8r.xml", 0, fields(story.Story{
			Fixes: []string{"charset:detected:koi8-r"},
		}, sum("Title", title, "len=28 sha256=f75e97e819664635"), script(unicode.Cyrillic, 0.9))},
		{"rss/feedparser/illformed-chardet/eucjp.xml", 0, fields(story.Story{
			Fixes: []string{"charset:detected:euc-jp"},
		}, sum("Title", title, "len=8 sha256=f4347de2eb72408c"), script(japaneseText, 0.8))},
		{"rss/feedparser/illformed-chardet/euckr.xml", 0, fields(story.Story{
			Fixes: []string{"charset:detected:euc-kr"},
		}, sum("Title", title, "len=28 sha256=6544e39e27479f9e"), script(unicode.Hangul, 0.5))},
		{"rss/feedparser/illformed-chardet/gb2312.xml", 0, fields(story.Story{
			Fixes: []string{"charset:detected:gbk"},
		}, sum("Title", title, "len=13 sha256=2cbb151cf6a0ca2b"), script(unicode.Han, 0.8))},
		{"rss/feedparser/illformed-chardet/shiftjis.xml", 0, fields(story.Story{
			Fixes: []string{"charset:detected:shift_jis"},
		}, sum("Title", title, "len=22 sha256=9b4563bf982be0a0"), script(japaneseText, 0.5))},
		{"rss/feedparser/illformed-chardet/windows1255.xml", 0, fields(story.Story{
			Fixes: []string{"charset:detected:windows-1255"},
		}, script(unicode.Hebrew, 0.9))},
		{"rss/feedparser/illformed-chardet/tis620.xml", 0, fields(story.Story{
			Fixes: []string{"charset:detected:windows-874"},
		}, script(unicode.Thai, 0.7))},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(corpus, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			stories, err := Parse(b, "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(stories) <= tt.item {
				t.Fatalf("Parse returned %d stories, want more than %d", len(stories), tt.item)
			}
			for _, c := range tt.check(stories[tt.item]) {
				t.Error(c)
			}
		})
	}
}

// fields returns a check that compares the non-zero fields of want (and
// runs the extra checks).
func fields(want story.Story, extra ...func(story.Story) []string) func(story.Story) []string {
	return func(got story.Story) []string {
		var bad []string
		cmp := func(name, g, w string) {
			if w != "" && g != w {
				bad = append(bad, fmt.Sprintf("%s = %q, want %q", name, g, w))
			}
		}
		cmp("Format", got.Format, want.Format)
		cmp("SourceID", got.SourceID, want.SourceID)
		cmp("URL", got.URL, want.URL)
		cmp("Title", got.Title, want.Title)
		cmp("Date", got.Date, want.Date)
		cmp("Updated", got.Updated, want.Updated)
		cmp("Byline", got.Byline, want.Byline)
		cmp("Language", got.Language, want.Language)
		cmp("Provider", got.Provider, want.Provider)
		list := func(name string, g, w []string) {
			if w != nil && strings.Join(g, "\n") != strings.Join(w, "\n") {
				bad = append(bad, fmt.Sprintf("%s = %q, want %q", name, g, w))
			}
		}
		list("Subjects", got.Subjects, want.Subjects)
		list("Body", got.Body, want.Body)
		list("Captions", got.Captions, want.Captions)
		list("Fixes", got.Fixes, want.Fixes)
		for _, e := range extra {
			bad = append(bad, e(got)...)
		}
		return bad
	}
}

// Getters of the fields the checks look at.
func title(s story.Story) string  { return s.Title }
func byline(s story.Story) string { return s.Byline }
func link(s story.Story) string   { return s.URL }
func body(s story.Story) []string { return s.Body }
func paragraph(i int) func(story.Story) string {
	return func(s story.Story) string { return at(s.Body, i) }
}

// japaneseText holds the scripts of Japanese text.
var japaneseText = rangetable.Merge(unicode.Han, unicode.Hiragana, unicode.Katakana)

// sum checks a text field by its fingerprint (golden.Text), so that the
// test need not copy the publisher's text.
func sum(name string, get func(story.Story) string, want string) func(story.Story) []string {
	return func(s story.Story) []string {
		if g := golden.Text(get(s)); g != want {
			return []string{fmt.Sprintf("%s = %q (%s), want the text of fingerprint %s", name, get(s), g, want)}
		}
		return nil
	}
}

// prefix, suffix, contains, same and count return checks of one field.
func prefix(name string, get func(story.Story) string, want string) func(story.Story) []string {
	return part(name, get, want, strings.HasPrefix, "start with")
}

func suffix(name string, get func(story.Story) string, want string) func(story.Story) []string {
	return part(name, get, want, strings.HasSuffix, "end with")
}

func contains(name string, get func(story.Story) string, want string) func(story.Story) []string {
	return part(name, get, want, strings.Contains, "contain")
}

// part checks that has(field, want) holds; verb says how in the complaint.
func part(name string, get func(story.Story) string, want string, has func(s, part string) bool, verb string) func(story.Story) []string {
	return func(s story.Story) []string {
		if g := get(s); !has(g, want) {
			return []string{fmt.Sprintf("%s = %q, want it to %s %q", name, g, verb, want)}
		}
		return nil
	}
}

func same(name string, a, b func(story.Story) string) func(story.Story) []string {
	return func(s story.Story) []string {
		if a(s) != b(s) || a(s) == "" {
			return []string{fmt.Sprintf("%s: %q and %q, want them equal and not empty", name, a(s), b(s))}
		}
		return nil
	}
}

func count(name string, get func(story.Story) []string, want int) func(story.Story) []string {
	return func(s story.Story) []string {
		if g := get(s); len(g) != want {
			return []string{fmt.Sprintf("%s has %d elements, want %d: %q", name, len(g), want, g)}
		}
		return nil
	}
}

// script checks that at least share of the letters of the title and body
// are in the script.
func script(table *unicode.RangeTable, share float64) func(story.Story) []string {
	return func(s story.Story) []string {
		text := s.Title + strings.Join(s.Body, " ")
		in, letters := 0, 0
		for _, r := range text {
			if unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) {
				letters++
				if unicode.Is(table, r) {
					in++
				}
			}
		}
		if letters == 0 || float64(in) < share*float64(letters) {
			return []string{fmt.Sprintf("%d of %d letters in the expected script, want at least %.0f%%: %.80q", in, letters, share*100, text)}
		}
		return nil
	}
}

// header is what the comment at the top of a feedparser test file says.
type header struct {
	contentType string // the Content-Type the test assumes, "" for none
	expect      string // the Python expression the test evaluates
	present     bool
}

var (
	headerRe = regexp.MustCompile(`(?m)^Header:\s*Content-type:\s*(.*?)\s*$`)
	expectRe = regexp.MustCompile(`(?m)^Expect:\s*(.*?)\s*$`)
)

// feedparserHeader reads the header comment of a feedparser test file.
// The comment is ASCII in every charset the files use but UTF-16 and
// UTF-32, which decodeFeed reads.
func feedparserHeader(b []byte) header {
	text, _ := decodeFeed(b, "")
	start := strings.Index(text, "<!--")
	end := strings.Index(text, "-->")
	if start < 0 || end < start || start > 200 {
		return header{}
	}
	comment := text[start:end]
	if !strings.Contains(comment, "Expect:") {
		return header{}
	}
	h := header{present: true}
	if m := headerRe.FindStringSubmatch(comment); m != nil {
		h.contentType = m[1]
	}
	if m := expectRe.FindStringSubmatch(comment); m != nil {
		h.expect = m[1]
	}
	return h
}

// TestFeedparserExpectations checks our reading of feedparser's encoding
// and chardet tests against what each file's header comment expects:
// the encoding (decoding the file in it must give our text), the text of
// the first entry's description or the feed's title, and "not bozo"
// (our parse must succeed). Expectations that hold only for feedparser's
// own behaviour are listed in skipExpect with the reason.
func TestFeedparserExpectations(t *testing.T) {
	corpus := golden.Corpus(t)
	// skipExpect lists the parts of expectations we do not share.
	skipExpect := map[string]string{
		// feedparser reads the whole file as windows-1252 because of one
		// stray byte; textfix.Decode keeps the valid UTF-8 and reads only
		// the stray byte as windows-1252, which is better.
		"bozo_linenoise.xml": "entries[0].summary",
		// The feed is cut off after "</rss"; feedparser reports bozo and
		// keeps what it read, the feed parser we use rejects the XML.
		"bozo_invalid-bytes-with-bom.xml": "parse",
	}
	var encodings, texts, notBozo int
	for _, rel := range append(golden.Samples(t, corpus, "rss/feedparser/encoding"), golden.Samples(t, corpus, "rss/feedparser/illformed-chardet")...) {
		name := filepath.Base(rel)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(corpus, rel))
			if err != nil {
				t.Fatal(err)
			}
			h := feedparserHeader(b)
			if !h.present {
				t.Fatalf("no header comment with Expect:")
			}
			text, _ := decodeFeed(b, h.contentType)
			info, stories, err := parseFeed(b, h.contentType)
			if err != nil {
				if skipExpect[name] != "parse" {
					t.Errorf("Parse(%s, %q): %v", rel, h.contentType, err)
				}
				return
			}
			if strings.HasPrefix(h.expect, "not bozo") {
				notBozo++
			}
			if m := regexp.MustCompile(`encoding == '([^']+)'`).FindStringSubmatch(h.expect); m != nil {
				encodings++
				want, err := referenceDecode(b, m[1])
				if err != nil {
					t.Fatalf("decoding as %s: %v", m[1], err)
				}
				if text != want {
					t.Errorf("with Content-Type %q the text is\n%q\nwant it read as %s:\n%q", h.contentType, text, m[1], want)
				}
			}
			for _, m := range regexp.MustCompile(`(entries\[0\]\['description'\]|entries\[0\]\.summary|feed\['title'\]) == '((?:[^'\\]|\\.)*)'`).FindAllStringSubmatch(h.expect, -1) {
				if skipExpect[name] == strings.ReplaceAll(m[1], "'", "") || skipExpect[name] == m[1] {
					continue
				}
				want := html.UnescapeString(pyUnquote(m[2]))
				if strings.Contains(want, "<") {
					continue // markup: our body is plain text
				}
				var got string
				if strings.HasPrefix(m[1], "feed") {
					got = info.title
				} else {
					if len(stories) == 0 {
						t.Fatalf("no entries, want %s == %q", m[1], want)
					}
					got = strings.Join(stories[0].Body, "\n")
				}
				texts++
				// The body is kept as written; what the pipeline stores is
				// its textfix repair, which must be what feedparser gives.
				if got != want && textfix.Fix(got) != want {
					t.Errorf("%s = %q (repaired %q), want %q", m[1], got, textfix.Fix(got), want)
				}
			}
			if m := regexp.MustCompile(`ord\(entries\[0\]\['description'\]\) == (\d+)`).FindStringSubmatch(h.expect); m != nil {
				texts++
				code, _ := strconv.Atoi(m[1])
				if len(stories) == 0 || textfix.Fix(strings.Join(stories[0].Body, "")) != string(rune(code)) {
					t.Errorf("description repairs to %q, want %q", textfix.Fix(strings.Join(stories[0].Body, "")), string(rune(code)))
				}
			}
		})
	}
	t.Logf("checked %d encodings, %d texts, %d not-bozo parses", encodings, texts, notBozo)
}

// referenceDecode decodes a whole file in the named encoding, the way
// decodeFeed presents text (no BOM, no encoding in the XML declaration).
func referenceDecode(b []byte, name string) (string, error) {
	var enc encoding.Encoding
	switch n := strings.ToLower(name); n {
	case "utf-32be":
		enc = utf32.UTF32(utf32.BigEndian, utf32.UseBOM)
	case "utf-32le":
		enc = utf32.UTF32(utf32.LittleEndian, utf32.UseBOM)
	case "us-ascii":
		for _, c := range b {
			if c >= 0x80 {
				return "", fmt.Errorf("not ASCII")
			}
		}
		return stripXMLEncoding(string(b)), nil
	default:
		var err error
		if enc, err = htmlindex.Get(n); err != nil {
			return "", err
		}
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", err
	}
	return stripXMLEncoding(strings.TrimPrefix(string(out), "\uFEFF")), nil
}

// pyUnquote reads the body of a single-quoted Python string literal.
func pyUnquote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'u':
			if i+4 < len(s) {
				if n, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(n))
					i += 4
					continue
				}
			}
		case 'x':
			if i+2 < len(s) {
				if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteRune(rune(n))
					i += 2
					continue
				}
			}
		case 'n':
			b.WriteByte('\n')
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// at returns list[i], or "" when list is shorter.
func at(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return ""
}
