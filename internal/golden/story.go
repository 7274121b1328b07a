package golden

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/story"
)

// Stories renders what a parser returned, for a golden file: the skip or
// rejection reason with its detail, or each story's fields, one a line.
// Facts are shown as written: identifiers, URL, version, dates, language,
// provider, status, signals, fixes, the dateline's date and agency, and
// the counts. Free text goes through text: the title, byline, dateline
// place, subjects, captions and every body paragraph. Pass Text for corpus
// samples and Verbatim for the project's own fixtures. Empty fields are
// left out.
func Stories(stories []story.Story, err error, text func(string) string) string {
	var b strings.Builder
	var se *story.SkipError
	var pe *story.ParseError
	switch {
	case errors.As(err, &se):
		fmt.Fprintf(&b, "skipped: %s\ndetail: %s\n", se.Reason, se.Detail)
		return b.String()
	case errors.As(err, &pe):
		fmt.Fprintf(&b, "rejected: %s\nerror: %v\n", pe.Reason, pe.Err)
		return b.String()
	case err != nil:
		fmt.Fprintf(&b, "error of type %T: %v\n", err, err)
		return b.String()
	}
	fmt.Fprintf(&b, "stories: %d\n", len(stories))
	for i, s := range stories {
		fmt.Fprintf(&b, "\n[%d]\n", i+1)
		fact := func(name, v string) {
			if v != "" {
				fmt.Fprintf(&b, "%s: %q\n", name, v)
			}
		}
		prose := func(name, v string) {
			if v != "" {
				fmt.Fprintf(&b, "%s: %s\n", name, text(v))
			}
		}
		codes := func(name string, v []string) {
			if len(v) > 0 {
				fmt.Fprintf(&b, "%s: %q\n", name, v)
			}
		}
		fact("format", s.Format)
		fact("source_id", s.SourceID)
		if s.Version != 0 {
			fmt.Fprintf(&b, "version: %d\n", s.Version)
		}
		fact("url", s.URL)
		prose("title", s.Title)
		fact("date", s.Date)
		fact("updated", s.Updated)
		prose("byline", s.Byline)
		fact("language", s.Language)
		fact("provider", s.Provider)
		fact("pub_status", s.PubStatus)
		codes("signals", s.Signals)
		codes("fixes", s.Fixes)
		if d := s.Dateline; d != nil {
			place := `""`
			if d.Place != "" {
				place = text(d.Place)
			}
			fmt.Fprintf(&b, "dateline: place=%s date=%q agency=%q\n", place, d.Date, d.Agency)
		}
		if len(s.Subjects) > 0 {
			fmt.Fprintf(&b, "subjects: %d %s\n", len(s.Subjects), text(strings.Join(s.Subjects, "\n")))
		} else {
			b.WriteString("subjects: 0\n")
		}
		fmt.Fprintf(&b, "captions: %d\n", len(s.Captions))
		for j, c := range s.Captions {
			fmt.Fprintf(&b, "caption[%d]: %s\n", j, text(c))
		}
		fmt.Fprintf(&b, "paragraphs: %d\n", len(s.Body))
		for j, p := range s.Body {
			fmt.Fprintf(&b, "body[%d]: %s\n", j, text(p))
		}
	}
	return b.String()
}

// Outcome says in a few words what a parser returned: "parsed", "no
// stories", "skipped <reason>", "rejected <reason>", or, for an error of
// another type, "error of type <type>: <error>".
func Outcome(stories []story.Story, err error) string {
	var se *story.SkipError
	var pe *story.ParseError
	switch {
	case errors.As(err, &se):
		return "skipped " + se.Reason
	case errors.As(err, &pe):
		return "rejected " + pe.Reason
	case err != nil:
		return fmt.Sprintf("error of type %T: %v", err, err)
	case len(stories) == 0:
		return "no stories"
	}
	return "parsed"
}

// CompareSample compares what a parser returned for the corpus sample
// rel (a path that Samples returned) with its golden file, Path(rel): a
// line naming the sample, the header lines, if any, and the stories with
// their text fingerprinted (Stories with Text).
func CompareSample(t testing.TB, rel, header string, stories []story.Story, err error) {
	t.Helper()
	Compare(t, Path(rel), []byte("# "+rel+"\n"+header+Stories(stories, err, Text)))
}

// Fixtures parses each of the project's own fixture files that match the
// glob pattern and compares the stories, text shown verbatim, with
// testdata/golden/fixtures/<file name>.golden.
func Fixtures(t *testing.T, pattern string, parse func([]byte) ([]story.Story, error)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures match %s (%v)", pattern, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			stories, err := parse(b)
			got := "# " + name + "\n" + Stories(stories, err, Verbatim)
			Compare(t, filepath.Join("testdata", "golden", "fixtures", name+".golden"), []byte(got))
		})
	}
}
