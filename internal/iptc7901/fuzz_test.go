package iptc7901

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirefeed/wirefeed/internal/story"
)

// FuzzParse checks that Parse never panics, returns only parse errors, and
// returns stories without control characters or empty paragraphs.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.iptc"))
	for _, path := range files {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"\x01",
		"\x02",
		"\x01h\n\x02(\n(\n(x =\n\n  * a\n    b\n| c |\n\x03999999 Feb 99\x04",
		"\x01bdt0001 1 pl 1  dpa 0001\r\n\r\nA/B/\r\n\x02(Achtung) x\r\nT =\r\n\r\ndpa x\r\n\x03010101 Jan 01\r\n\x7f\x04",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		stories, err := Parse(b)
		if err != nil {
			var pe *story.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if stories != nil {
				t.Fatalf("stories %v with error %v", stories, err)
			}
			return
		}
		if len(stories) == 0 || len(stories) > story.MaxItems {
			t.Fatalf("%d stories without an error", len(stories))
		}
		for _, st := range stories {
			if st.Format != Format || st.SourceID == "" {
				t.Fatalf("format %q source id %q", st.Format, st.SourceID)
			}
			for _, s := range append([]string{st.Title, st.Byline}, st.Body...) {
				if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
					t.Fatalf("invalid UTF-8 or a control character in %q", s)
				}
			}
			for _, p := range st.Body {
				if p == "" {
					t.Fatalf("empty paragraph in %q", st.Body)
				}
			}
		}
	})
}
