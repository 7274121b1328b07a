package iptc7901

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/story"
)

// fields collapses white space for comparisons modulo white space.
func fields(s string) string { return strings.Join(strings.Fields(s), " ") }

// firstHTMLParagraph returns the text of the first paragraph of an HTML
// body that is not empty: text up to the first block boundary or br.
func firstHTMLParagraph(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var sb strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return fields(sb.String())
		case html.TextToken:
			sb.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "br", "div", "table", "tr", "li", "ul", "h1", "h2", "h3", "h4", "section":
				if p := fields(sb.String()); p != "" {
					return p
				}
				sb.Reset()
			}
		}
	}
}

// TestDigitalwiresCrossCheck compares each .iptc of the corpus with the
// dpa digitalwires JSON it was made from (same base name): headline,
// byline, date, correction signal and the first body paragraph, modulo
// white space. The 7901 text puts the teaser, when there is one, before
// the article, and the dateline before the article's first paragraph.
func TestDigitalwiresCrossCheck(t *testing.T) {
	root := filepath.Join(golden.Corpus(t), "anpa", "dpa-iptc7901")
	files, err := filepath.Glob(filepath.Join(root, "iptc7901", "*.iptc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .iptc files under %s (%v)", root, err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".iptc")
		t.Run(name, func(t *testing.T) {
			var dw struct {
				Headline       string  `json:"headline"`
				Byline         *string `json:"byline"`
				Teaser         *string `json:"teaser"`
				Dateline       *string `json:"dateline"`
				ArticleHTML    string  `json:"article_html"`
				VersionCreated string  `json:"version_created"`
				Signal         *string `json:"signal"`
			}
			b, err := os.ReadFile(filepath.Join(root, "digitalwires-json", name+".json"))
			if err != nil {
				t.Fatalf("the JSON of %s: %v", name, err)
			}
			if err := json.Unmarshal(b, &dw); err != nil {
				t.Fatal(err)
			}
			b, err = os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			stories, err := Parse(b)
			if err != nil || len(stories) != 1 {
				t.Fatalf("Parse: %d stories, %v", len(stories), err)
			}
			st := stories[0]

			if fields(st.Title) != fields(dw.Headline) {
				t.Errorf("title %q, JSON headline %q", st.Title, dw.Headline)
			}
			if want := deref(dw.Byline); fields(st.Byline) != fields(want) {
				t.Errorf("byline %q, JSON byline %q", st.Byline, want)
			}
			if len(dw.VersionCreated) < 16 || st.Date != dw.VersionCreated[:16] {
				t.Errorf("date %q, JSON version_created %q", st.Date, dw.VersionCreated)
			}
			if deref(dw.Signal) == "sig:correction" && !slices.Contains(st.Signals, "correction") {
				t.Errorf("signals %q, JSON signal %q", st.Signals, deref(dw.Signal))
			}

			first := firstHTMLParagraph(dw.ArticleHTML)
			dateline := fields(deref(dw.Dateline))
			switch teaser := fields(deref(dw.Teaser)); {
			case len(st.Body) == 0:
				t.Fatal("no body")
			case teaser != "":
				if st.Body[0] != teaser {
					t.Errorf("body[0] %q, JSON teaser %q", st.Body[0], teaser)
				}
				if len(st.Body) < 2 || st.Body[1] != first {
					t.Errorf("body[1] %q, JSON first paragraph %q", st.Body[1:min(2, len(st.Body))], first)
				}
				if dateline != "" && (st.Dateline == nil || !strings.HasPrefix(dateline, st.Dateline.Place+" ("+st.Dateline.Agency+")")) {
					t.Errorf("dateline %+v, JSON dateline %q", st.Dateline, dateline)
				}
			default:
				if want := fields(dateline + " " + first); st.Body[0] != want {
					t.Errorf("body[0] %q, JSON dateline and first paragraph %q", st.Body[0], want)
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestFixtures checks the edge-case fixtures in testdata field by field.
func TestFixtures(t *testing.T) {
	parse := func(t *testing.T, name string) ([]story.Story, error) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return Parse(b)
	}
	t.Run("several stories in one stream", func(t *testing.T) {
		stories, err := parse(t, "multi.iptc")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, st := range stories {
			ids = append(ids, st.SourceID)
		}
		want := []string{"bdt0123/dpa0456/202412051430", "bdt0124/dpa0457/202412051450", "dpe0007/dpa0009/202412051500", "bdt0126/dpa0460/202412061200"}
		if !slices.Equal(ids, want) {
			t.Fatalf("ids %q, want %q (the message without STX dropped)", ids, want)
		}
		if st := stories[0]; st.Title != "Bundestag beschließt Haushalt" || !slices.Equal(st.Body, []string{
			"Berlin (dpa) - Der Bundestag hat den Haushalt für das kommende Jahr beschlossen. Die Abstimmung fiel knapp aus.",
			"Die Opposition kritisierte die Pläne scharf.",
		}) {
			t.Errorf("first story: title %q body %q, want the closing line dropped", st.Title, st.Body)
		}
		if st := stories[1]; st.PubStatus != "canceled" || !slices.Equal(st.Signals, []string{"kill"}) || st.Title != "Bundestag beschließt Haushalt" {
			t.Errorf("kill: pub status %q signals %q title %q", st.PubStatus, st.Signals, st.Title)
		}
		if st := stories[2]; !slices.Equal(st.Signals, []string{"correction"}) || st.Title != "URGENT: Stocks fall" || st.Byline != "By Jane Roe" || st.Date != "2024-12-05T15:00" {
			t.Errorf("correction: signals %q title %q byline %q date %q", st.Signals, st.Title, st.Byline, st.Date)
		}
		if st := stories[3]; len(st.Body) != 2 || !strings.HasPrefix(st.Body[1], "Zweiter Absatz") {
			t.Errorf("indented paragraphs: %q", st.Body)
		}
	})
	t.Run("CRLF and BEL", func(t *testing.T) {
		stories, err := parse(t, "bel_crlf.iptc")
		if err != nil {
			t.Fatal(err)
		}
		st := stories[0]
		if st.Title != "Sturm in Bayern" || !slices.Equal(st.Body, []string{"München (dpa) - Ein Sturm hat in Bayern Schäden angerichtet."}) {
			t.Errorf("title %q body %q", st.Title, st.Body)
		}
		if !slices.Contains(st.Fixes, "control-chars") {
			t.Errorf("fixes %q, want control-chars", st.Fixes)
		}
		for _, s := range append([]string{st.Title}, st.Body...) {
			if strings.ContainsAny(s, "\a\r\v\f\x7f") {
				t.Errorf("control character left in %q", s)
			}
		}
	})
	t.Run("no header", func(t *testing.T) {
		stories, err := parse(t, "headerless.iptc")
		if err != nil {
			t.Fatal(err)
		}
		if st := stories[0]; !strings.HasPrefix(st.SourceID, "sha256:") || st.Provider != "" || st.Date != "2023-12-31T12:59" {
			t.Errorf("source id %q provider %q date %q", st.SourceID, st.Provider, st.Date)
		}
	})
	t.Run("headline only", func(t *testing.T) {
		stories, err := parse(t, "headline_only.iptc")
		if err != nil {
			t.Fatal(err)
		}
		if st := stories[0]; st.Title != "Wahllokale geschlossen" || st.Body != nil {
			t.Errorf("title %q body %q", st.Title, st.Body)
		}
	})
	t.Run("windows-1252", func(t *testing.T) {
		stories, err := parse(t, "latin1.iptc")
		if err != nil {
			t.Fatal(err)
		}
		if st := stories[0]; st.Title != "Hitze in München" || st.Body[0] != "München (dpa) - Es wird heiß – sehr heiß." {
			t.Errorf("title %q body %q", st.Title, st.Body)
		}
	})
	t.Run("empty text", func(t *testing.T) {
		stories, err := parse(t, "no_body.iptc")
		if got, want := golden.Outcome(stories, err), "rejected "+ReasonNoBody; got != want {
			t.Errorf("%s (%v), want %s", got, err, want)
		}
	})
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", ReasonNoFraming},
		{"plain text", "Berlin (dpa) - Text.\n", ReasonNoFraming},
		{"json", `{"headline": "x"}`, ReasonNoFraming},
		{"SOH without STX", "\x01bdt0001 3 pl 1  dpa 0001\n\nText\n\x03010101 Jan 24\x04", ReasonNoFraming},
		{"only SOH", "\x01", ReasonNoFraming},
		{"empty text", "\x01bdt0001 3 pl 1  dpa 0001\n\x02 \n\t\n\x03", ReasonNoBody},
		{"only controls in the text", "\x02\a\a\a\x03", ReasonNoBody},
		{"too large", strings.Repeat("x", story.MaxInputBytes+1), ReasonTooLarge},
		{"too many", strings.Repeat("\x02x\x03", story.MaxItems+1), ReasonTooManyStories},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stories, err := Parse([]byte(tt.in))
			if stories != nil {
				t.Errorf("stories %v, want none", stories)
			}
			if got, want := golden.Outcome(nil, err), "rejected "+tt.reason; got != want {
				t.Errorf("%s (%v), want %s", got, err, want)
			}
		})
	}
	stories, err := Parse([]byte(strings.Repeat("\x02x\x03", story.MaxItems)))
	if err != nil || len(stories) != story.MaxItems {
		t.Errorf("%d messages: %d stories, %v", story.MaxItems, len(stories), err)
	}
}

func TestParseDTG(t *testing.T) {
	tests := []struct{ in, date, key string }{
		{"251037 Sep 24", "2024-09-25T10:37", "202409251037"},
		{"\n062130 Okt 24\n\x7f", "2024-10-06T21:30", "202410062130"},
		{"011200 Mär 25", "2025-03-01T12:00", "202503011200"},
		{"311259 Dez 1999", "1999-12-31T12:59", "199912311259"},
		{"010000 jan 69", "2069-01-01T00:00", "206901010000"},
		{"010000 Jan 70", "1970-01-01T00:00", "197001010000"},
		{"310000 Feb 24", "", ""},
		{"012400 Jan 24", "", ""},
		{"011260 Jan 24", "", ""},
		{"251037 Foo 24", "", ""},
		{"251037", "", ""},
		{"25103 Sep 24", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		date, key := parseDTG(tt.in)
		if date != tt.date || key != tt.key {
			t.Errorf("parseDTG(%q) = %q, %q; want %q, %q", tt.in, date, key, tt.date, tt.key)
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in   string
		want header
	}{
		{"bdt0000 3 pl 1609  dpa 0000", header{"bdt", "0000", "3", "pl", "1609", "dpa", "0000"}},
		{"spe0000 3 sp 331  dpa-spe 0000", header{"spe", "0000", "3", "sp", "331", "dpa-spe", "0000"}},
		{"nsb0012 4 vm 71  lni 0034", header{"nsb", "0012", "4", "vm", "71", "lni", "0034"}},
		{"abc", header{service: "abc"}},
		{"", header{}},
	}
	for _, tt := range tests {
		if got := parseHeader(tt.in); got != tt.want {
			t.Errorf("parseHeader(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestReadHeadline(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		title   string
		byline  string
		signals []string
		kill    bool
	}{
		{"plain", []string{"Titel"}, "Titel", "", nil, false},
		{"flash", []string{"(Eil )", "Titel"}, "Titel", "", nil, false},
		{"wrapped correction, genre, byline, picture note",
			[]string{"(Berichtigung: Im zweiten Absatz wurde", "ein Name korrigiert.)", "(KORR-Bericht)", "Der Titel", "Von A und B, dpa", "(Foto Produktion)"},
			"Der Titel", "Von A und B, dpa", []string{"correction"}, false},
		{"update", []string{"(Aktualisierung: neue Zahlen)", "Titel"}, "Titel", "", []string{"update"}, false},
		{"wrapped title", []string{"dpa-Tagesvorschau Politik für Dienstag, 24. September", "2024"}, "dpa-Tagesvorschau Politik für Dienstag, 24. September 2024", "", nil, false},
		{"hyphen break before a capital", []string{"Grünen-", "Spitze tritt ab"}, "Grünen-Spitze tritt ab", "", nil, false},
		{"suspended hyphen", []string{"Landes-", "und Bundespolitik"}, "Landes- und Bundespolitik", "", nil, false},
		{"kill", []string{"(Achtung) Die Meldung wird", "zurückgezogen.", "Titel"}, "Titel", "", []string{"kill"}, true},
		{"english kill", []string{"KILL KILL KILL", "Stocks fall"}, "Stocks fall", "", []string{"kill"}, true},
		{"spanish kill", []string{"*** ELIMINAR - ELIMINAR ***", "ATENCION REDACCIONES"}, "", "", []string{"kill"}, true},
		{"planning note is not a kill", []string{"(Achtung - Planungshinweis)", "Titel"}, "Titel", "", nil, false},
		{"title in parentheses only", []string{"(Titel)"}, "", "", nil, false},
		{"byline alone is a title", []string{"Von Haus aus"}, "Von Haus aus", "", nil, false},
		{"empty", nil, "", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := readHeadline(tt.lines)
			if h.title != tt.title || h.byline != tt.byline || !slices.Equal(h.signals, tt.signals) || h.kill != tt.kill {
				t.Errorf("readHeadline(%q) = %+v, want title %q byline %q signals %q kill %v", tt.lines, h, tt.title, tt.byline, tt.signals, tt.kill)
			}
		})
	}
}

func TestSplitHeadline(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		head, rest int
	}{
		{"terminated", "\nTitel =\n\nText.", 1, 2},
		{"terminated on the second line", "(Eil)\nTitel =\nText.", 2, 1},
		{"short first block without =", "Titel\n\nText.", 1, 2},
		{"first block alone", "Nur Text.", 0, 1},
		{"long first block", "a\nb\nc\nd\n\ne", 0, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, rest := splitHeadline(strings.Split(tt.in, "\n"))
			if len(head) != tt.head || len(rest) != tt.rest {
				t.Errorf("splitHeadline(%q) = %q, %q; want %d and %d lines", tt.in, head, rest, tt.head, tt.rest)
			}
		})
	}
}

func TestParagraphs(t *testing.T) {
	wrapped := "Ein Verein aus dem Schwarzwald baut Nistkästen für Mauersegler und\nverteilt sie an Schulen. Die Kinder hängen sie selbst auf und zählen\nim Sommer die Vögel, die dort brüten."
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"blank lines", "a b\nc\n\nd", []string{"a b c", "d"}},
		{"wrapped lines", wrapped, []string{fields(wrapped)}},
		{"line starting with a dash after a full line",
			"Die Werkstatt, die sie seit Jahren in einem Hinterhof in Freiburg führt\n- und die sie im Herbst aufgeben muss, wenn der Vertrag ausläuft -\nbleibt bis dahin geöffnet.",
			[]string{"Die Werkstatt, die sie seit Jahren in einem Hinterhof in Freiburg führt - und die sie im Herbst aufgeben muss, wenn der Vertrag ausläuft - bleibt bis dahin geöffnet."}},
		{"short line ends a paragraph",
			"Unter www.example.com finden Sie jeden Tag eine aktuelle Übersicht\nüber die wichtigsten Termine der Woche. Hinweise und Fragen nehmen\nwir gern entgegen.\nKontakt:\nRedaktion Termine - Tel.: +49 30 1234 5678\nE-Mail: termine@example.com",
			[]string{"Unter www.example.com finden Sie jeden Tag eine aktuelle Übersicht über die wichtigsten Termine der Woche. Hinweise und Fragen nehmen wir gern entgegen.", "Kontakt:", "Redaktion Termine - Tel.: +49 30 1234 5678", "E-Mail: termine@example.com"}},
		{"list items and continuations",
			"  * Zusammenfassung, «Der Rat stimmt über den neuen Haushalt ab» -\n    80 Zl. und weiter\n  * Video-Digital-Beitrag",
			[]string{"* Zusammenfassung, «Der Rat stimmt über den neuen Haushalt ab» - 80 Zl. und weiter", "* Video-Digital-Beitrag"}},
		{"table rows", "6. Spieltag:\n\n| FC Augsburg   | - | Gladbach | 2:1 |\n| Bremen        | - | Freiburg | 0:1 |",
			[]string{"6. Spieltag:", "| FC Augsburg | - | Gladbach | 2:1 |", "| Bremen | - | Freiburg | 0:1 |"}},
		{"indented paragraphs",
			"   Erster Absatz, der über zwei Zeilen geht und deshalb hier\numbricht.\n   Zweiter Absatz.",
			[]string{"Erster Absatz, der über zwei Zeilen geht und deshalb hier umbricht.", "Zweiter Absatz."}},
		{"common indentation", "  a b\n  c", []string{"a b c"}},
		{"short unwrapped text is joined", "One.\nTwo.", []string{"One. Two."}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := paragraphs(strings.Split(tt.in, "\n")); !slices.Equal(got, tt.want) {
				t.Errorf("paragraphs(%q)\n = %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTrimBody(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"notepad and closing line", "Text.\n\n# Notizblock\n\n## Kontakte\n- X\n\ndpa abc yydd n1 sku\n", "Text."},
		{"closing line without notepad", "Text.\n\ndpa s5\n\n", "Text."},
		{"closing line with umlaut and slash", "Text.\n\ndpa kre/su yysw a3 lön mda", "Text."},
		{"text that is no closing line", "Text.\n\ndpa meldet Rekord", "Text.\n\ndpa meldet Rekord"},
		{"hash inside a paragraph", "Text\n# nicht der Notizblock", "Text\n# nicht der Notizblock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(trimBody(strings.Split(tt.in, "\n")), "\n"); got != tt.want {
				t.Errorf("trimBody(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"noise\x01a\x02b\x03c\x04\x01d\x02e", []string{"\x01a\x02b\x03c", "\x01d\x02e"}},
		{"\x02a\x03\x04\x02b\x03\x04", []string{"\x02a\x03", "\x02b\x03"}},
		{"\x01a\x01b\x02c", []string{"\x01a", "\x01b\x02c"}},
		{"\x02a\x03x\x02b\x03", []string{"\x02a\x03x", "\x02b\x03"}},
		{"no framing", nil},
	}
	for _, tt := range tests {
		if got := messages(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("messages(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSourceID(t *testing.T) {
	h := header{service: "bdt", number: "0000", agency: "dpa", agencyNumber: "0000"}
	a, b := sourceID(h, "202409251037", "text one"), sourceID(h, "202409251037", "text two")
	if !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+32 || a == b {
		t.Errorf("zero numbers: %q and %q, want distinct content hashes", a, b)
	}
	if a != sourceID(h, "", "text one") {
		t.Errorf("content hash depends on the date")
	}
	h.number = "0042"
	if got := sourceID(h, "202409251037", "x"); got != "bdt0042/dpa0000/202409251037" {
		t.Errorf("numbered: %q", got)
	}
	if got := sourceID(header{agency: "dpa", agencyNumber: "7"}, "", "x"); got != "dpa7" {
		t.Errorf("agency number only: %q", got)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"\x01bdt0000 3 pl 1  dpa 0000\n\nA/\n\x02Titel =", true},
		{"\x16\x16\x01h\n\x02x", true},
		{"\x02Titel =\n\nText\x03", true},
		{"\x01 header without text", false},
		{"<newsItem/>", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Sniff(tt.in); got != tt.want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
