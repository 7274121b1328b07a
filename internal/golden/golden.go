// Package golden keeps the golden files of the parser tests: it compares a
// test's output with its golden file, or rewrites the file when the tests
// run with -update (as the gofmt tests of the Go repository do).
//
// The corpus tests read public samples at run time. Their text is the
// publishers' and must not be copied into the repository, so a golden file
// over a corpus sample holds the facts of each story (identifiers, dates,
// languages, counts, status, signals, reasons) as written and every piece
// of free text as a fingerprint made by Text.
package golden

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirefeed/wirefeed/internal/recordtest"
)

// update is the -update flag of every test binary that imports the
// package; a test package must not define its own.
var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Compare checks that got is the content of the golden file at path, and
// otherwise fails the test with the first lines that differ. With -update
// it writes got to path instead, creating the folders it needs.
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept it):\n%s", path, diff(string(want), string(got)))
	}
}

// maxDiffLines is how many differing lines a failed Compare shows.
const maxDiffLines = 8

// diff shows the lines where want and got differ, by line number, up to
// maxDiffLines of them.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)); i++ {
		wl, gl := line(w, i), line(g, i)
		if wl == gl {
			continue
		}
		if shown == maxDiffLines {
			b.WriteString("(more lines differ)\n")
			break
		}
		fmt.Fprintf(&b, "line %d:\n  want %q\n   got %q\n", i+1, wl, gl)
		shown++
	}
	if len(w) != len(g) {
		fmt.Fprintf(&b, "want %d lines, got %d\n", len(w), len(g))
	}
	return b.String()
}

// line returns lines[i], or "" past the end.
func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// Text is a fingerprint of s that copies none of it: its length in runes
// and the first 16 hex digits of the SHA-256 of its exact bytes, as in
// "len=123 sha256=0123456789abcdef". A change to the text changes the
// fingerprint; the text cannot be read back from it.
func Text(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("len=%d sha256=%s", utf8.RuneCountInString(s), hex.EncodeToString(sum[:8]))
}

// Verbatim shows s as a quoted Go string. It is for the project's own
// fixtures, whose text may be copied; corpus text goes through Text.
func Verbatim(s string) string {
	return fmt.Sprintf("%q", s)
}

// Corpus returns the folder of the shared sample corpus beside the
// repository, or skips the test when there is none.
func Corpus(t testing.TB) string {
	t.Helper()
	return recordtest.SharedDir(t, "corpus")
}

// Samples lists the sample files under the folder sub of the corpus, as
// slash-separated paths relative to the corpus, in lexical order. Licence,
// notice and read-me files are not samples. The test fails when there are
// none.
func Samples(t testing.TB, corpus, sub string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(corpus, sub), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isSample(d.Name()) {
			return err
		}
		rel, err := filepath.Rel(corpus, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no sample files under %s", sub)
	}
	return files
}

// isSample says whether a corpus file name is a sample rather than a
// licence, notice or read-me.
func isSample(name string) bool {
	return !strings.HasPrefix(name, "LICENSE") && name != "NOTICE" && !strings.HasSuffix(name, ".md")
}

// EachSample runs f, as a subtest named by the sample's path in the
// corpus, on each sample file under the corpus folder sub (see Samples)
// and its content.
func EachSample(t *testing.T, sub string, f func(t *testing.T, rel string, content []byte)) {
	t.Helper()
	corpus := Corpus(t)
	for _, rel := range Samples(t, corpus, sub) {
		t.Run(rel, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(corpus, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			f(t, rel, b)
		})
	}
}

// Path returns the golden file of the corpus sample rel (a path that
// Samples returned): testdata/golden/<rel>.golden.
func Path(rel string) string {
	return filepath.Join("testdata", "golden", filepath.FromSlash(rel)+".golden")
}
