package golden

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/story"
)

func TestText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "len=0 sha256=e3b0c44298fc1c14"},
		{"abc", "len=3 sha256=ba7816bf8f01cfea"},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Text("Grüße"); !strings.HasPrefix(got, "len=5 ") {
		t.Errorf("Text(%q) = %q, want the length in runes, 5", "Grüße", got)
	}
	shape := regexp.MustCompile(`^len=\d+ sha256=[0-9a-f]{16}$`)
	for _, s := range []string{"x", "Ein Satz.", strings.Repeat("long ", 1000)} {
		if got := Text(s); !shape.MatchString(got) || strings.Contains(got, strings.TrimSpace(s)) {
			t.Errorf("Text(%.20q) = %q, want len=N sha256=16 hex digits and none of the text", s, got)
		}
	}
	if Text("a") == Text("a ") {
		t.Error("Text does not tell a trailing space apart")
	}
}

func TestDiff(t *testing.T) {
	got := diff("a\nb\nc\n", "a\nB\nc\nd\n")
	for _, want := range []string{"line 2:", `want "b"`, `got "B"`, "line 4:", "want 4 lines, got 5"} {
		if !strings.Contains(got, want) {
			t.Errorf("diff = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "line 1:") || strings.Contains(got, "line 3:") {
		t.Errorf("diff = %q shows lines that are the same", got)
	}
	var want, many strings.Builder
	for range 20 {
		want.WriteString("x\n")
		many.WriteString("y\n")
	}
	if got := diff(want.String(), many.String()); strings.Count(got, "line ") != maxDiffLines || !strings.Contains(got, "more lines differ") {
		t.Errorf("diff of 20 changed lines = %q, want %d and a note", got, maxDiffLines)
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg = format
}

func TestCompare(t *testing.T) {
	if *update {
		t.Skip("Compare writes with -update")
	}
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Compare(r, path, []byte("one\ntwo\n"))
	if r.failed {
		t.Errorf("Compare failed on equal content")
	}
	Compare(r, path, []byte("one\n2\n"))
	if !r.failed || !strings.Contains(r.msg, "-update") {
		t.Errorf("Compare on different content: failed %v, message %q; want a failure that names -update", r.failed, r.msg)
	}
}

func TestSamples(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"f/a.xml", "f/sub/b.json", "f/LICENSE", "f/LICENSE-MIT", "f/NOTICE", "f/README.md"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := Samples(t, dir, "f")
	if want := []string{"f/a.xml", "f/sub/b.json"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Samples = %q, want %q", got, want)
	}
	if got, want := Path("f/sub/b.json"), filepath.Join("testdata", "golden", "f", "sub", "b.json.golden"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}

func TestStories(t *testing.T) {
	st := story.Story{
		Format: "ninjs", SourceID: "urn:x:1", Version: 2, URL: "https://example.com/1",
		Title: "A title", Date: "2024-01-02T03:04:05Z", Byline: "By Someone", Language: "en",
		Provider: "Example", PubStatus: "usable", Signals: []string{"correction"}, Fixes: []string{"control-chars"},
		Dateline: &story.Dateline{Place: "Town", Agency: "EX"}, Subjects: []string{"one", "two"},
		Captions: []string{"A caption"}, Body: []string{"First paragraph.", "Second paragraph."},
	}
	got := Stories([]story.Story{st}, nil, Text)
	for _, text := range []string{st.Title, st.Byline, "Town", "one", "two", "A caption", "First paragraph.", "Second paragraph."} {
		if strings.Contains(got, text) {
			t.Errorf("Stories with Text copies %q:\n%s", text, got)
		}
	}
	for _, fact := range []string{`source_id: "urn:x:1"`, "version: 2", `url: "https://example.com/1"`, `date: "2024-01-02T03:04:05Z"`,
		`language: "en"`, `provider: "Example"`, `pub_status: "usable"`, `signals: ["correction"]`, `fixes: ["control-chars"]`,
		`agency="EX"`, "subjects: 2", "captions: 1", "paragraphs: 2", "title: " + Text(st.Title), "body[1]: " + Text(st.Body[1])} {
		if !strings.Contains(got, fact) {
			t.Errorf("Stories lacks %q:\n%s", fact, got)
		}
	}
	if got := Stories([]story.Story{st}, nil, Verbatim); !strings.Contains(got, `body[0]: "First paragraph."`) {
		t.Errorf("Stories with Verbatim:\n%s", got)
	}

	if got := Outcome([]story.Story{st}, nil); got != "parsed" {
		t.Errorf("Outcome of a story = %q, want parsed", got)
	}
	if got := Outcome(nil, nil); got != "no stories" {
		t.Errorf("Outcome of nothing = %q, want no stories", got)
	}
	for _, tt := range []struct {
		err           error
		want, outcome string
	}{
		{&story.SkipError{Reason: "x_photo", Detail: "item 1 is a photo"}, "skipped: x_photo\ndetail: item 1 is a photo\n", "skipped x_photo"},
		{&story.ParseError{Reason: "x_bad", Err: errors.New("line 3")}, "rejected: x_bad\nerror: line 3\n", "rejected x_bad"},
		{errors.New("plain"), "error of type *errors.errorString: plain\n", "error of type *errors.errorString: plain"},
	} {
		if got := Stories(nil, tt.err, Text); got != tt.want {
			t.Errorf("Stories(%v) = %q, want %q", tt.err, got, tt.want)
		}
		if got := Outcome(nil, tt.err); got != tt.outcome {
			t.Errorf("Outcome(%v) = %q, want %q", tt.err, got, tt.outcome)
		}
	}
}

func TestTally(t *testing.T) {
	var c Tally
	c.Add("a/x.xml", []story.Story{{}, {}}, nil)
	c.Add("a/y.xml", nil, &story.ParseError{Reason: "bad", Err: errors.New("e")})
	c.Add("b/z.xml", []story.Story{{}}, nil)
	a, b := c.counts["a"], c.counts["b"]
	if len(c.folders) != 2 || a.files != 2 || a.stories != 2 || a.outcomes["parsed"] != 1 || a.outcomes["rejected bad"] != 1 || b.files != 1 || b.stories != 1 {
		t.Errorf("tally: folders %q, a %+v, b %+v", c.folders, a, b)
	}
	c.Log(t)
}
