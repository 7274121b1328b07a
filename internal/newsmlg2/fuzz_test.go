package newsmlg2

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/wirefeed/wirefeed/internal/story"
)

// FuzzParse checks that Parse never panics, returns only skip and parse
// errors, and returns well-formed stories.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, path := range files {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"<newsItem/>",
		`<newsMessage><itemSet><newsItem guid="a"><contentMeta><headline>h</headline></contentMeta></newsItem></itemSet></newsMessage>`,
		`<newsItem guid="a"><contentSet><inlineData contenttype="text/html">&lt;p&gt;x&lt;table&gt;&lt;tr&gt;&lt;td&gt;a</inlineData></contentSet></newsItem>`,
		`<newsItem guid="a"><contentSet><inlineXML><nitf><body><body.head><hl1>t</hl1></body.head><media><media-caption>c</media-caption></media><pre>p</pre></body></nitf></inlineXML></contentSet></newsItem>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		stories, err := Parse(b)
		if err != nil {
			var se *story.SkipError
			var pe *story.ParseError
			if !errors.As(err, &se) && !errors.As(err, &pe) {
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
			if st.Format != Format {
				t.Fatalf("format %q", st.Format)
			}
			if st.Title == "" && len(st.Body) == 0 {
				t.Fatalf("a story with neither title nor body: %+v", st)
			}
			for _, s := range append([]string{st.Title, st.Byline, st.SourceID}, st.Body...) {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 %q", s)
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
