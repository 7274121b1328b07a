package ninjs

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/story"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// corpusDir returns the shared corpus folder, found by walking up from the
// test's working directory to a directory that holds shared/corpus. The
// test is skipped when there is none.
func corpusDir(t testing.TB) string {
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
			t.Skip("no shared/corpus folder above the working directory; the corpus tests need the shared sample corpus")
		}
		dir = parent
	}
}

// corpusFiles lists the files under corpus/sub, relative to corpus, that
// are samples (not licences or read-me files).
func corpusFiles(t testing.TB, corpus, sub string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(corpus, sub), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		base := d.Name()
		if strings.HasPrefix(base, "LICENSE") || base == "NOTICE" || strings.HasSuffix(base, ".md") {
			return nil
		}
		rel, err := filepath.Rel(corpus, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no sample files under %s", sub)
	}
	return files
}

// render writes the key fields of stories, or the error's reason, as the
// text of a golden file.
func render(header string, stories []story.Story, err error) string {
	var b strings.Builder
	b.WriteString(header)
	var pe *story.ParseError
	var se *story.SkipError
	switch {
	case errors.As(err, &pe):
		fmt.Fprintf(&b, "error: %s\n", pe.Reason)
		return b.String()
	case errors.As(err, &se):
		fmt.Fprintf(&b, "skip: %s\n", se.Reason)
		return b.String()
	case err != nil:
		fmt.Fprintf(&b, "error (untyped): %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "stories: %d\n", len(stories))
	for i, s := range stories {
		fmt.Fprintf(&b, "\n[%d]\n", i+1)
		field := func(name, v string) {
			if v != "" {
				fmt.Fprintf(&b, "%s: %s\n", name, v)
			}
		}
		field("format", s.Format)
		field("source_id", s.SourceID)
		if s.Version != 0 {
			fmt.Fprintf(&b, "version: %d\n", s.Version)
		}
		field("url", s.URL)
		field("title", s.Title)
		field("date", s.Date)
		field("updated", s.Updated)
		field("byline", s.Byline)
		field("language", s.Language)
		field("provider", s.Provider)
		field("pubstatus", s.PubStatus)
		field("signals", strings.Join(s.Signals, " "))
		if d := s.Dateline; d != nil {
			fmt.Fprintf(&b, "dateline: %q %q %q\n", d.Place, d.Date, d.Agency)
		}
		field("fixes", strings.Join(s.Fixes, " "))
		fmt.Fprintf(&b, "subjects: %d\n", len(s.Subjects))
		fmt.Fprintf(&b, "captions: %d\n", len(s.Captions))
		fmt.Fprintf(&b, "paragraphs: %d\n", len(s.Body))
		for j, p := range s.Body {
			if j == 2 {
				break
			}
			fmt.Fprintf(&b, "body[%d]: %s\n", j, p)
		}
		if len(s.Captions) > 0 {
			fmt.Fprintf(&b, "caption[0]: %s\n", s.Captions[0])
		}
	}
	return b.String()
}

// checkGolden compares got with the golden file at path, or rewrites the
// file when -update is set.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("output differs from %s (run go test -update to accept)\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n   got %q\n", i+1, wl, gl)
			if shown++; shown == 5 {
				break
			}
		}
	}
	return b.String()
}
