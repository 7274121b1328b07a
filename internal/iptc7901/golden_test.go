package iptc7901

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/story"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// corpusDir returns the shared sample corpus, found by walking up from the
// test's directory to one that holds shared/corpus. The test is skipped
// when there is none.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		c := filepath.Join(dir, "shared", "corpus")
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no shared/corpus directory above the test's directory: the corpus tests need the sample corpus checked out beside the repository")
		}
		dir = parent
	}
}

// render writes the key fields of Parse's result, one per line, for the
// golden files.
func render(stories []story.Story, err error) string {
	var sb strings.Builder
	var se *story.SkipError
	var pe *story.ParseError
	switch {
	case errors.As(err, &se):
		fmt.Fprintf(&sb, "skipped: %s\ndetail: %s\n", se.Reason, se.Detail)
		return sb.String()
	case errors.As(err, &pe):
		fmt.Fprintf(&sb, "rejected: %s\nerror: %v\n", pe.Reason, pe.Err)
		return sb.String()
	case err != nil:
		fmt.Fprintf(&sb, "error of type %T: %v\n", err, err)
		return sb.String()
	}
	for i, st := range stories {
		if i > 0 {
			sb.WriteString("\n")
		}
		fmt.Fprintf(&sb, "story %d of %d\n", i+1, len(stories))
		fmt.Fprintf(&sb, "format: %s\n", st.Format)
		fmt.Fprintf(&sb, "source_id: %q\n", st.SourceID)
		fmt.Fprintf(&sb, "version: %d\n", st.Version)
		fmt.Fprintf(&sb, "title: %q\n", st.Title)
		fmt.Fprintf(&sb, "date: %q\n", st.Date)
		fmt.Fprintf(&sb, "updated: %q\n", st.Updated)
		fmt.Fprintf(&sb, "language: %q\n", st.Language)
		fmt.Fprintf(&sb, "provider: %q\n", st.Provider)
		fmt.Fprintf(&sb, "pub_status: %q\n", st.PubStatus)
		fmt.Fprintf(&sb, "signals: %q\n", st.Signals)
		fmt.Fprintf(&sb, "byline: %q\n", st.Byline)
		if st.Dateline != nil {
			fmt.Fprintf(&sb, "dateline: place=%q date=%q agency=%q\n", st.Dateline.Place, st.Dateline.Date, st.Dateline.Agency)
		} else {
			sb.WriteString("dateline: none\n")
		}
		fmt.Fprintf(&sb, "body: %d paragraphs\n", len(st.Body))
		for j, p := range st.Body {
			if j == 2 {
				break
			}
			fmt.Fprintf(&sb, "body[%d]: %q\n", j, p)
		}
		fmt.Fprintf(&sb, "captions: %d\n", len(st.Captions))
		fmt.Fprintf(&sb, "subjects: %d %q\n", len(st.Subjects), st.Subjects)
		fmt.Fprintf(&sb, "fixes: %q\n", st.Fixes)
	}
	return sb.String()
}

// checkGolden compares got with the golden file, or rewrites it with
// -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

// TestCorpusGolden parses every file of the corpus's anpa folder and
// compares the key fields with testdata/golden/<path>.golden. The .iptc
// transmissions must parse; the other files (dpa's JSON inputs, licence
// and notice) must be rejected as unframed.
func TestCorpusGolden(t *testing.T) {
	root := filepath.Join(corpusDir(t), "anpa")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	iptc := 0
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		isIPTC := strings.HasSuffix(path, ".iptc")
		if isIPTC {
			iptc++
		}
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if Sniff(string(b)) != isIPTC {
				t.Errorf("Sniff = %v, want %v", !isIPTC, isIPTC)
			}
			stories, err := Parse(b)
			var pe *story.ParseError
			switch {
			case isIPTC && (err != nil || len(stories) == 0):
				t.Errorf("Parse: %d stories, %v; want the transmission read", len(stories), err)
			case !isIPTC && (!errors.As(err, &pe) || pe.Reason != ReasonNoFraming):
				t.Errorf("Parse of a file that is not a transmission: %v, want %s", err, ReasonNoFraming)
			}
			checkGolden(t, filepath.Join("testdata", "golden", rel+".golden"), render(stories, err))
		})
	}
	if iptc != 6 {
		t.Errorf("found %d .iptc files under %s, want the 6 the corpus describes", iptc, root)
	}
}

// TestFixtureGolden parses the edge-case fixtures in testdata and compares
// them with testdata/golden/fixtures/<name>.golden.
func TestFixtureGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.iptc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			stories, err := Parse(b)
			checkGolden(t, filepath.Join("testdata", "golden", "fixtures", name+".golden"), render(stories, err))
		})
	}
}
