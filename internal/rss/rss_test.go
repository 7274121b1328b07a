package rss

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/story"
)

// TestFixtures parses each testdata/fixtures/*.xml and compares the result
// with testdata/golden/fixtures/<name>.golden.
func TestFixtures(t *testing.T) {
	golden.Fixtures(t, filepath.Join("testdata", "fixtures", "*.xml"), func(b []byte) ([]story.Story, error) { return Parse(b, "") })
}

// TestFixtureFields checks by hand the fields the fixtures were written to
// exercise.
func TestFixtureFields(t *testing.T) {
	parse := func(t *testing.T, name string) []story.Story {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		stories, err := Parse(b, "")
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		return stories
	}
	t.Run("rss_extensions", func(t *testing.T) {
		s := parse(t, "rss_extensions.xml")
		if len(s) != 3 {
			t.Fatalf("got %d stories, want 3", len(s))
		}
		want := story.Story{
			Format:   "rss",
			SourceID: "wire-2024-0001",
			URL:      "https://wire.example.com/news/storm",
			Title:    "Storm closes port & harbour",
			Date:     "Sat, 02 Mar 2024 10:00:00 +0100",
			Updated:  "2024-03-02T11:30:00+01:00",
			Byline:   "First Reporter, Second Reporter",
			Language: "fr",
			Provider: "Example Wire",
			Subjects: []string{"Weather", "Shipping"},
			Body: []string{
				"HARBOURTOWN (Wire) -- The port closed on Saturday.",
				"Ferries stayed in port.\u00a0More storms are expected.",
			},
			Captions: []string{"Group description", "Waves hit the pier (Photo: Wire)", "A closed gate", "Item-level media description"},
		}
		if !reflect.DeepEqual(s[0], want) {
			t.Errorf("first item\n got %#v\nwant %#v", s[0], want)
		}
		second := story.Story{
			Format:   "rss",
			SourceID: "https://wire.example.com/news/2",
			URL:      "https://wire.example.com/news/2",
			Title:    "Second item",
			Updated:  "2024-03-03T07:00:00Z",
			Byline:   "Night Desk",
			Language: "en-US",
			Provider: "Example Wire",
			Body:     []string{"Plain description with an unknown entity: café & bar"},
		}
		if !reflect.DeepEqual(s[1], second) {
			t.Errorf("second item\n got %#v\nwant %#v", s[1], second)
		}
		if s[2].Date != "2024-03-04T06:00:00Z" || s[2].Byline != "Editor Name" || s[2].SourceID != "" || s[2].Body != nil {
			t.Errorf("third item: %#v", s[2])
		}
	})
	t.Run("atom_entries", func(t *testing.T) {
		s := parse(t, "atom_entries.xml")
		if len(s) != 3 {
			t.Fatalf("got %d stories, want 3", len(s))
		}
		first := story.Story{
			Format:   "atom",
			SourceID: "urn:example:1",
			URL:      "https://news.example.org/wire/stories/1",
			Title:    "Hochwasser am Fluss",
			Date:     "2024-03-02T09:00:00+01:00",
			Updated:  "2024-03-02T09:00:00+01:00",
			Byline:   "Desk Editor",
			Language: "de-AT",
			Provider: "Example Wire",
			Subjects: []string{"Wetter", "flood"},
			Body:     []string{"Der Pegel steigt.", "Die Feuerwehr ist\u00a0im Einsatz."},
			Captions: []string{"Der Pegel am Morgen (Foto: Archiv)"},
		}
		if !reflect.DeepEqual(s[0], first) {
			t.Errorf("first entry\n got %#v\nwant %#v", s[0], first)
		}
		second := story.Story{
			Format:   "atom",
			SourceID: "urn:example:2",
			URL:      "https://elsewhere.example.com/2",
			Title:    "Plain text & more",
			Date:     "2024-03-01T08:00:00Z",
			Updated:  "2024-03-01T09:30:00Z",
			Byline:   "A. Writer, B. Writer",
			Language: "en-GB",
			Provider: "Example Wire",
			Body:     []string{"First paragraph runs over two lines.", "Second paragraph <not a tag>."},
		}
		if !reflect.DeepEqual(s[1], second) {
			t.Errorf("second entry\n got %#v\nwant %#v", s[1], second)
		}
		if s[2].Title != "Breaking: summary only" || !reflect.DeepEqual(s[2].Body, []string{"Only a summary.", "Two paragraphs."}) ||
			!reflect.DeepEqual(s[2].Captions, []string{"Thumbnail title"}) || s[2].SourceID != "urn:example:3" {
			t.Errorf("third entry: %#v", s[2])
		}
	})
	t.Run("rss1_rdf", func(t *testing.T) {
		s := parse(t, "rss1_rdf.xml")
		want := []story.Story{{
			Format: "rss", SourceID: "https://rdf.example.net/a", URL: "https://rdf.example.net/a",
			Title: "Nyheter i dag", Date: "2024-03-05T12:00:00+01:00", Byline: "Redaktionen",
			Language: "sv", Provider: "RDF Example", Subjects: []string{"Inrikes"}, Body: []string{"Första stycket."},
		}}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("\n got %#v\nwant %#v", s, want)
		}
	})
	t.Run("rss091", func(t *testing.T) {
		s := parse(t, "rss091.xml")
		if len(s) != 1 || s[0].Title != "First & only" || !reflect.DeepEqual(s[0].Body, []string{"Line one", "Line two", "Line three\u00a0©"}) {
			t.Errorf("got %#v", s)
		}
		if !reflect.DeepEqual(s[0].Fixes, []string{"charset:windows-1252"}) {
			t.Errorf("Fixes = %q", s[0].Fixes)
		}
	})
	t.Run("no_items", func(t *testing.T) {
		s := parse(t, "no_items.xml")
		if s == nil || len(s) != 0 {
			t.Errorf("got %#v, want an empty, non-nil slice", s)
		}
	})
}

func TestParseErrors(t *testing.T) {
	deep := "<rss>" + strings.Repeat("<a>", story.MaxDepth) + strings.Repeat("</a>", story.MaxDepth) + "</rss>"
	var ns strings.Builder
	ns.WriteString("<rss")
	for i := 0; i < 4096; i++ {
		fmt.Fprintf(&ns, ` xmlns:n%d="urn:%d"`, i, i)
	}
	ns.WriteString("><channel>" + strings.Repeat("<item/>", 5000) + "</channel></rss>")
	split := "<rss><channel><item><x:e xmlns:x=\"urn:x\">" + strings.Repeat(strings.Repeat("a", 1000)+"<x:b/>", 2000) + "</x:e></item></channel></rss>"
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{"empty", "", "rss_bad_xml"},
		{"not xml", "hello, world", "rss_bad_xml"},
		{"json", `{"uri": "x"}`, "rss_bad_xml"},
		{"html", "<html><body><p>x</p></body></html>", "rss_not_feed"},
		{"other xml", `<?xml version="1.0"?><newsItem xmlns="http://iptc.org/std/nar/2006-10-01/"/>`, "rss_not_feed"},
		{"unclosed", "<rss><channel><item><title>x</title>", "rss_bad_xml"},
		{"bad syntax", "<rss><channel><item <title>x</title></item></channel></rss>", "rss_bad_xml"},
		{"too deep", deep, "rss_too_deep"},
		{"too many namespaces in scope", ns.String(), "rss_too_complex"},
		{"too many elements", "<rss><channel>" + strings.Repeat("<x/>", maxNodes) + "</channel></rss>", "rss_too_complex"},
		{"text split into many pieces", split, "rss_too_complex"},
		{"too large", "<rss>" + strings.Repeat(" ", story.MaxInputBytes) + "</rss>", "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if len(in) > 60 {
				in = in[:60] + "..."
			}
			got, err := Parse([]byte(tt.in), "")
			var pe *story.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %d stories, %v; want a *story.ParseError", in, len(got), err)
			}
			if pe.Reason != tt.reason {
				t.Errorf("Parse(%q) reason %q (%v), want %q", in, pe.Reason, err, tt.reason)
			}
			if got != nil {
				t.Errorf("Parse(%q) returned stories with an error", in)
			}
		})
	}
}

func TestParseAtDepthLimit(t *testing.T) {
	// story.MaxDepth levels in all, the root included, is allowed.
	n := story.MaxDepth - 3
	in := "<rss><channel><item><description>x</description>" + strings.Repeat("<a>", n) + strings.Repeat("</a>", n) + "</item></channel></rss>"
	s, err := Parse([]byte(in), "")
	if err != nil || len(s) != 1 {
		t.Fatalf("Parse: %d stories, %v; want 1 story", len(s), err)
	}
}

func TestParseCapsItems(t *testing.T) {
	in := "<rss><channel>" + strings.Repeat("<item><title>t</title></item>", story.MaxItems+5) + "</channel></rss>"
	s, err := Parse([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != story.MaxItems {
		t.Errorf("got %d stories, want story.MaxItems = %d", len(s), story.MaxItems)
	}
}

func TestParseControlChars(t *testing.T) {
	s, err := Parse([]byte("<rss><channel><item><title>a\x01b\x0bc</title></item></channel></rss>"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 || s[0].Title != "abc" || !reflect.DeepEqual(s[0].Fixes, []string{"control-chars"}) {
		t.Errorf("got %#v", s)
	}
}

// TestCharsets encodes one feed in many ways and checks that Parse reads
// the same title back.
func TestCharsets(t *testing.T) {
	feed := func(decl, title string) string {
		return decl + "<rss version=\"2.0\"><channel><title>Feed</title><item><title>" + title +
			"</title><description>" + title + " " + title + "</description></item></channel></rss>"
	}
	enc := func(e encoding.Encoding, s string) []byte {
		b, err := e.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatalf("encoding %q: %v", s, err)
		}
		return b
	}
	const (
		ru = "Снегопад парализовал движение в городе"
		de = "Grüße aus Köln: Überflutung"
		pl = "Zażółć gęślą jaźń"
		zh = "北京今天下雨，交通受到影响"
		ja = "東京で大雨、交通に影響が出ています"
		ko = "서울에 폭우가 내려 교통이 마비되었습니다"
	)
	tests := []struct {
		name  string
		in    []byte
		http  string
		title string
		fixes []string
	}{
		{"utf-8", []byte(feed(`<?xml version="1.0" encoding="utf-8"?>`, ru)), "", ru, nil},
		{"utf-8 bom", append([]byte("\xef\xbb\xbf"), feed(`<?xml version="1.0"?>`, ru)...), "", ru, []string{"bom"}},
		{"declared windows-1251", enc(charmap.Windows1251, feed(`<?xml version="1.0" encoding="windows-1251"?>`, ru)), "", ru, []string{"charset:windows-1251"}},
		{"http koi8-r overrides declared windows-1251", enc(charmap.KOI8R, feed(`<?xml version="1.0" encoding="windows-1251"?>`, ru)), "application/rss+xml; charset=KOI8-R", ru, []string{"charset:koi8-r"}},
		{"bare http charset", enc(charmap.KOI8R, feed(`<?xml version="1.0" encoding="windows-1251"?>`, ru)), "koi8-r", ru, []string{"charset:koi8-r"}},
		{"http charset with spaces and quotes", enc(charmap.KOI8R, feed(`<?xml version="1.0"?>`, ru)), `text/xml; charset = "koi8-r"`, ru, []string{"charset:koi8-r"}},
		{"http media type without charset", enc(charmap.Windows1251, feed(`<?xml version="1.0" encoding="windows-1251"?>`, ru)), "text/xml", ru, []string{"charset:windows-1251"}},
		{"undeclared koi8-r", enc(charmap.KOI8R, feed("", ru)), "", ru, []string{"charset:detected:koi8-r"}},
		{"undeclared windows-1251", enc(charmap.Windows1251, feed("", ru)), "", ru, []string{"charset:detected:windows-1251"}},
		{"undeclared windows-1251 with latin words", enc(charmap.Windows1251, feed("", "Компания Apple представила новый iPhone в Москве")), "", "Компания Apple представила новый iPhone в Москве", []string{"charset:detected:windows-1251"}},
		{"undeclared windows-1253", enc(charmap.Windows1253, feed("", "Ισχυρή καταιγίδα έπληξε την Αθήνα")), "", "Ισχυρή καταιγίδα έπληξε την Αθήνα", []string{"charset:detected:windows-1253"}},
		{"undeclared windows-1255", enc(charmap.Windows1255, feed("", "סערה חזקה פגעה בעיר הבוקר")), "", "סערה חזקה פגעה בעיר הבוקר", []string{"charset:detected:windows-1255"}},
		{"undeclared windows-874", enc(charmap.Windows874, feed("", "พายุฝนถล่มกรุงเทพเมื่อเช้านี้")), "", "พายุฝนถล่มกรุงเทพเมื่อเช้านี้", []string{"charset:detected:windows-874"}},
		{"declared iso-8859-1", enc(charmap.Windows1252, feed(`<?xml version='1.0' encoding='ISO-8859-1'?>`, de)), "", de, []string{"charset:windows-1252"}},
		{"undeclared latin-1 stays windows-1252", enc(charmap.Windows1252, feed("", de)), "", de, []string{"charset:guessed:windows-1252"}},
		{"declared iso-8859-2", enc(charmap.ISO8859_2, feed(`<?xml version="1.0" encoding="iso-8859-2"?>`, pl)), "", pl, []string{"charset:iso-8859-2"}},
		{"declared gb2312", enc(simplifiedchinese.GBK, feed(`<?xml version="1.0" encoding="gb2312"?>`, zh)), "", zh, []string{"charset:gbk"}},
		{"undeclared gbk", enc(simplifiedchinese.GBK, feed("", zh)), "", zh, []string{"charset:detected:gbk"}},
		{"undeclared big5", enc(traditionalchinese.Big5, feed("", "台北今天下雨，交通受到影響")), "", "台北今天下雨，交通受到影響", []string{"charset:detected:big5"}},
		{"undeclared shift_jis", enc(japanese.ShiftJIS, feed("", ja)), "", ja, []string{"charset:detected:shift_jis"}},
		{"undeclared euc-jp", enc(japanese.EUCJP, feed("", ja)), "", ja, []string{"charset:detected:euc-jp"}},
		{"undeclared euc-kr", enc(korean.EUCKR, feed("", ko)), "", ko, []string{"charset:detected:euc-kr"}},
		{"utf-16le bom", enc(unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), feed(`<?xml version="1.0" encoding="utf-16"?>`, ru)), "", ru, []string{"bom", "charset:utf-16le"}},
		{"utf-16be no bom", enc(unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), feed(`<?xml version="1.0" encoding="utf-16"?>`, ru)), "", ru, []string{"charset:utf-16be"}},
		{"utf-16le no bom, no declaration", enc(unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), feed("", ru)), "", ru, []string{"charset:utf-16le"}},
		{"utf-32be no bom", enc(utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), feed(`<?xml version="1.0" encoding="utf-32"?>`, zh)), "", zh, []string{"charset:utf-32be"}},
		{"utf-32le bom", enc(utf32.UTF32(utf32.LittleEndian, utf32.UseBOM), feed(`<?xml version="1.0"?>`, zh)), "", zh, []string{"bom", "charset:utf-32le"}},
		{"decoded text of a gb2312 feed, utf-8 override", []byte(feed(`<?xml version="1.0" encoding="gb2312"?>`, zh)), "utf-8", zh, nil},
		{"declared latin-1 but utf-8", []byte(feed(`<?xml version="1.0" encoding="iso-8859-1"?>`, de)), "", de, []string{"charset:mislabelled:utf-8"}},
		{"unknown declared charset, utf-8 bytes", []byte(feed(`<?xml version="1.0" encoding="x-bogus"?>`, ru)), "", ru, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.in, tt.http)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(s) != 1 {
				t.Fatalf("got %d stories, want 1", len(s))
			}
			if s[0].Title != tt.title || s[0].Provider != "Feed" || !reflect.DeepEqual(s[0].Body, []string{tt.title + " " + tt.title}) {
				t.Errorf("got title %q, body %q; want %q", s[0].Title, s[0].Body, tt.title)
			}
			if !reflect.DeepEqual(s[0].Fixes, tt.fixes) {
				t.Errorf("Fixes = %q, want %q", s[0].Fixes, tt.fixes)
			}
		})
	}
}

func TestCharsetParam(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"koi8-r", "koi8-r"},
		{" 'utf-8' ", "utf-8"},
		{"text/xml", ""},
		{"text/xml;", ""},
		{"text/xml; charset=windows-1252", "windows-1252"},
		{"application/atom+xml;charset='us-ascii'", "us-ascii"},
		{"application/rss+xml;charset= 'us-ascii'", "us-ascii"},
		{`application/xml;charset = us-ascii`, "us-ascii"},
		{`Text/XML; Charset="UTF-8"; foo=bar`, "UTF-8"},
		{"text/xml; charset:iso-8859-1", ""},
		{"text/xml; qs=0.9", ""},
		{"text/xml; x-charsetname=a; charset=b", "b"},
	}
	for _, tt := range tests {
		if got := charsetParam(tt.in); got != tt.want {
			t.Errorf("charsetParam(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStripXMLEncoding(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<?xml version="1.0" encoding="gb2312"?><rss/>`, `<?xml version="1.0"?><rss/>`},
		{`<?xml version='1.0' encoding='utf-16' standalone='yes'?><rss/>`, `<?xml version='1.0' standalone='yes'?><rss/>`},
		{"\n <?xml version=\"1.0\"\n encoding = \"x\" ?><rss/>", `<?xml version="1.0" ?><rss/>`},
		{`<?xml version="1.0"?><rss/>`, `<?xml version="1.0"?><rss/>`},
		{`<rss encoding="x"/>`, `<rss encoding="x"/>`},
		{`<?xml-stylesheet href="a"?><rss/>`, `<?xml-stylesheet href="a"?><rss/>`},
		{`<?xml version="1.0" encoding="unterminated?><rss/>`, `<?xml version="1.0"?><rss/>`},
		{`<?xml version="1.0" encoding=bare?><rss/>`, `<?xml version="1.0"?><rss/>`},
	}
	for _, tt := range tests {
		if got := stripXMLEncoding(tt.in); got != tt.want {
			t.Errorf("stripXMLEncoding(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDetectLegacyKeepsLatin(t *testing.T) {
	// Latin-script text read as windows-1252 is left to textfix's guess,
	// even when another charset would also decode it.
	for _, s := range []string{
		"Últimas notícias: eleições em São Paulo, ação e reação",
		"Grüße aus Köln, Überflutung in Düsseldorf",
		"Le président a annoncé une réforme",
		"“Não é só isso” – disse – “é também à noite…” – € 5 – ½ – © – «ação»",
		"„Wir schaffen das“, sagte die Präsidentin – ‚vielleicht‘ – über Gebühr",
		"¿Qué pasó? ¡Sí! Año 2024 – 1º de enero, £ 5, 3 × 4 = 12",
		"Ærø og Åland: Søren går på øen",
	} {
		b, _ := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if name, _, ok := detectLegacy(b); ok {
			t.Errorf("detectLegacy(%q in windows-1252) chose %s", s, name)
		}
	}
}

func TestAuthorName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"desk@example.com (Night Desk)", "Night Desk"},
		{"Night Desk <desk@example.com>", "Night Desk"},
		{`"Night Desk" <desk@example.com>`, "Night Desk"},
		{"desk@example.com", "desk@example.com"},
		{"A Writer", "A Writer"},
		{"desk@example.com ()", "desk@example.com ()"},
	}
	for _, tt := range tests {
		if got := authorName(tt.in); got != tt.want {
			t.Errorf("authorName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"rss_extensions.xml", "atom_entries.xml", "rss1_rdf.xml", "rss091.xml", "broken.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	f.Add([]byte("<rss><channel><item><description>&lt;p&gt;x</description></item></channel></rss>"), "text/xml; charset=koi8-r")
	f.Add([]byte("\x00<\x00r\x00s\x00s\x00>\x00<\x00/\x00r\x00s\x00s\x00>"), "")
	f.Add([]byte("<feed><entry><content type=\"xhtml\"><div><p>a</p></div></content></entry></feed>"), "utf-16")
	f.Fuzz(func(t *testing.T, b []byte, httpCharset string) {
		stories, err := Parse(b, httpCharset)
		if err != nil {
			var pe *story.ParseError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("Parse error %v is not a *story.ParseError with a reason", err)
			}
			if stories != nil {
				t.Fatalf("Parse returned stories and an error")
			}
			return
		}
		if len(stories) > story.MaxItems {
			t.Fatalf("%d stories, more than story.MaxItems", len(stories))
		}
		for _, s := range stories {
			if s.Format != "rss" && s.Format != "atom" {
				t.Fatalf("Format %q", s.Format)
			}
			for _, p := range s.Body {
				if p == "" {
					t.Fatalf("empty paragraph in %q", s.Body)
				}
			}
		}
	})
}
