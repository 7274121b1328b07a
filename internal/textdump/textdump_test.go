package textdump

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/recordtest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Doc
	}{
		{
			name: "minimal",
			in:   "ID : X1\nTitle : T\nAriticle :\nBody.",
			want: &Doc{ID: "X1", Title: "T", Body: []string{"Body."}},
		},
		{
			name: "url only, article marker, no spaces",
			in:   "URL:https://a.example/1\nTitle:T\nArticle:\nP1\nP2\n",
			want: &Doc{URL: "https://a.example/1", Title: "T", Body: []string{"P1", "P2"}},
		},
		{
			name: "keys in any case",
			in:   "uRl : u\nid : i\nDATE : 2020-05-01 10:15:28\ntitle : t\nARITICLE :\nb\n",
			want: &Doc{URL: "u", ID: "i", Date: "2020-05-01 10:15:28", Title: "t", Body: []string{"b"}},
		},
		{
			name: "CRLF, BOM, trailing blanks, blank lines",
			in:   "\ufeffURL : u \r\nID : i\r\n\r\nTitle : t  \r\nAriticle : \r\n  a  \r\n\r\n\t b\t\r\n\r\n",
			want: &Doc{URL: "u", ID: "i", Title: "t", Body: []string{"a", "b"}},
		},
		{
			name: "lone CR",
			in:   "ID : i\rTitle : t\rAriticle :\ra\rb",
			want: &Doc{ID: "i", Title: "t", Body: []string{"a", "b"}},
		},
		{
			name: "text after the marker is the first body line",
			in:   "ID : i\nTitle : t\nAriticle : First.\nSecond.\n",
			want: &Doc{ID: "i", Title: "t", Body: []string{"First.", "Second."}},
		},
		{
			name: "colon in the value",
			in:   "ID : i\nTitle : Xi: China supports Peru\nDate : 2020-05-01 10:15:28\nAriticle :\nb",
			want: &Doc{ID: "i", Title: "Xi: China supports Peru", Date: "2020-05-01 10:15:28", Body: []string{"b"}},
		},
		{
			name: "wrapped title",
			in:   "ID : i\nTitle : a long\n   title\nAriticle :\nb",
			want: &Doc{ID: "i", Title: "a long title", Body: []string{"b"}},
		},
		{
			name: "URL on the line after an empty URL header",
			in:   "URL :\nhttps://a.example/x\nTitle : t\nAriticle :\nb",
			want: &Doc{URL: "https://a.example/x", Title: "t", Body: []string{"b"}},
		},
		{
			name: "extra headers",
			in:   "ID : i\nSource : Wire\nByline: A. Writer\nTitle : t\nAriticle :\nb",
			want: &Doc{ID: "i", Title: "t", Body: []string{"b"}, Extra: map[string]string{"source": "Wire", "byline": "A. Writer"}},
		},
		{
			name: "first non-empty value wins",
			in:   "ID :\nID : i1\nID : i2\nTitle : t\nAriticle :\nb",
			want: &Doc{ID: "i1", Title: "t", Body: []string{"b"}},
		},
		{
			name: "header-like lines in the body stay in the body",
			in:   "ID : i\nTitle : t\nAriticle :\nTitle : not a header\nAriticle : nor this",
			want: &Doc{ID: "i", Title: "t", Body: []string{"Title : not a header", "Ariticle : nor this"}},
		},
		{
			name: "inner spaces kept",
			in:   "ID : i\nTitle : t\nAriticle :\nan  opportunity to  further ties",
			want: &Doc{ID: "i", Title: "t", Body: []string{"an  opportunity to  further ties"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): unexpected error %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		target error
		reason string
	}{
		{"empty", "", ErrNotTextDump, "not_textdump"},
		{"blank", " \n\r\n\t", ErrNotTextDump, "not_textdump"},
		{"prose", "The storm reached the coast.\nFerries are cancelled.", ErrNotTextDump, "not_textdump"},
		{"prose with a colon", "Note: the storm reached the coast.\nFerries are cancelled.", ErrNotTextDump, "not_textdump"},
		{"bare URL line", "http://a.example/x\nTitle : t", ErrNotTextDump, "not_textdump"},
		{"only extra headers", "Source : x\nAriticle :\nb", ErrMissingField, "missing_title"},
		{"no marker", "ID : i\nTitle : t\n", ErrNoBody, "no_body"},
		{"no marker, prose after headers", "ID : i\nTitle : t\nBody text without a marker.", ErrNoBody, "no_body"},
		{"empty body", "ID : i\nTitle : t\nAriticle : \n\n  \n", ErrNoBody, "no_body"},
		{"no title", "ID : i\nAriticle :\nb", ErrMissingField, "missing_title"},
		{"empty title", "ID : i\nTitle :\nAriticle :\nb", ErrMissingField, "missing_title"},
		{"no id and no url", "Title : t\nDate : 2020-05-01\nAriticle :\nb", ErrMissingField, "missing_id_and_url"},
		{"too large", "ID : i\nTitle : t\nAriticle :\n" + strings.Repeat("x", MaxSize), ErrTooLarge, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if len(in) > 80 {
				in = in[:80] + "..."
			}
			doc, err := Parse(tt.in)
			if !errors.Is(err, tt.target) {
				t.Fatalf("Parse(%q) = %v, %v; want error %v", in, doc, err, tt.target)
			}
			if doc != nil {
				t.Errorf("Parse(%q) returned a Doc with error %v", in, err)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason(Parse(%q)) = %q, want %q", in, got, tt.reason)
			}
		})
	}
}

func TestMissingFieldError(t *testing.T) {
	_, err := Parse("ID : i\nAriticle :\nb")
	var mf *MissingFieldError
	if !errors.As(err, &mf) || mf.Field != "title" {
		t.Fatalf("errors.As(%v, *MissingFieldError) = %v, field %v; want field title", err, mf, mf)
	}
	if got, want := err.Error(), "textdump: missing title"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrTooLarge, "too_large"},
		{ErrNotTextDump, "not_textdump"},
		{ErrNoBody, "no_body"},
		{&MissingFieldError{Field: "title"}, "missing_title"},
		{&MissingFieldError{Field: "id_and_url"}, "missing_id_and_url"},
		{errors.Join(errors.New("decode"), ErrNoBody), "no_body"},
		{errors.New("something else"), "other"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"URL : http://a.example/1\nID : X", true},
		{"\ufeff\r\n\r\nID : X1\r\n", true},
		{"  date:2020-05-01\n", true},
		{"Title : t", true},
		{"", false},
		{"\n\n", false},
		{"Source : x\nTitle : t", false},
		{"The storm reached the coast.", false},
		{"Note: the storm reached the coast.", false},
		{"<?xml version=\"1.0\"?><rss/>", false},
		{"{\"uri\": \"x\"}", false},
		{"http://a.example/\nTitle : t", false},
	}
	for _, tt := range tests {
		if got := Sniff(tt.in); got != tt.want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestSeed parses the original example item, kept in the shared/seeds folder
// beside the repository.
func TestSeed(t *testing.T) {
	dir := recordtest.SharedDir(t, "seeds")
	b, err := os.ReadFile(filepath.Join(dir, "xinhua-peru-2020-05-01.txt"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(string(b))
	if err != nil {
		t.Fatalf("Parse(seed): %v", err)
	}
	for _, c := range []struct{ field, got, want string }{
		{"URL", doc.URL, "http://www.xinhuanet.com/english/2020-05/01/c_139023018.htm"},
		{"ID", doc.ID, "XINH2020050100060"},
		{"Date", doc.Date, "2020-05-01 10:15:28"},
		{"Title", doc.Title, "China pledges continuous support for Peru in COVID-19 fight: Xi"},
	} {
		if c.got != c.want {
			t.Errorf("seed %s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if doc.Extra != nil {
		t.Errorf("seed Extra = %v, want none", doc.Extra)
	}
	// 14 paragraphs and captions, then the end mark "■", which the seed
	// carries as mojibake: "â–" plus a no-break space that trimming drops.
	// Repairing it is the text-repair package's job, not this one's.
	if len(doc.Body) != 15 {
		t.Fatalf("seed body has %d lines, want 15 (14 text lines and the damaged end mark):\n%s",
			len(doc.Body), strings.Join(doc.Body, "\n"))
	}
	for _, c := range []struct {
		line           int
		prefix, suffix string
	}{
		{0, "Passengers wear", "/Xinhua)"},
		{1, "BEIJING, May 1 (Xinhua) -- ", "on Thursday."},
		{4, "A woman", "/ANDINA)"},
		{12, "Noting that", "the epidemic."},
		{13, "", "role."}, // trailing spaces trimmed
		{14, "\u00e2\u2013", ""},
	} {
		got := doc.Body[c.line]
		if !strings.HasPrefix(got, c.prefix) || !strings.HasSuffix(got, c.suffix) {
			t.Errorf("seed body line %d = %q, want %q...%q", c.line, got, c.prefix, c.suffix)
		}
	}
	if got := doc.Body[14]; got != "\u00e2\u2013" {
		t.Errorf("seed body line 14 = %q, want the damaged end mark %q", got, "\u00e2\u2013")
	}
	if !Sniff(string(b)) {
		t.Error("Sniff(seed) = false, want true")
	}
}

// result is what the golden files hold: the Doc, or the error and its reason.
type result struct {
	Doc    *Doc   `json:"doc,omitempty"`
	Error  string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// TestGolden parses each testdata/*.input and compares the result with the
// .golden file beside it. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.input"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.input files")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var g result
			g.Doc, err = Parse(string(src))
			if err != nil {
				g.Error, g.Reason = err.Error(), Reason(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			golden.Compare(t, strings.TrimSuffix(in, ".input")+".golden", buf.Bytes())
		})
	}
}

func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.input"))
	for _, in := range inputs {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("ID : i\nTitle : t\nAriticle :\nb")
	f.Add("\ufeffURL:u\r\nTitle:t\r\nArticle:x\r")
	f.Add("Title : a\n b\n c: d\nArticle :")
	f.Fuzz(func(t *testing.T, in string) {
		Sniff(in)
		doc, err := Parse(in)
		if err != nil {
			if doc != nil {
				t.Fatalf("Parse(%q) returned a Doc and error %v", in, err)
			}
			if r := Reason(err); r == "" || r == "other" {
				t.Fatalf("Parse(%q) error %v has reason %q", in, err, r)
			}
			return
		}
		if doc.Title == "" || (doc.ID == "" && doc.URL == "") || len(doc.Body) == 0 {
			t.Fatalf("Parse(%q) = %#v: required field empty", in, doc)
		}
		for i, l := range doc.Body {
			if l == "" || l != strings.TrimSpace(l) || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("Parse(%q) body line %d = %q: not a trimmed non-empty line", in, i, l)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("URL : https://a.example/1\nID : X1\n\nDate : 2020-05-01 10:15:28\nTitle : A title\nAriticle : \n")
	for range 20 {
		sb.WriteString("BEIJING, May 1 (Xinhua) -- China firmly supports the government and people in their fight, said the president on Thursday.\n")
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
