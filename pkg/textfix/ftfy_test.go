package textfix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ftfyCase is one test case of ftfy's own suite.
type ftfyCase struct {
	Label         string  `json:"label"`
	Comment       string  `json:"comment"`
	Original      string  `json:"original"`
	FixedEncoding *string `json:"fixed-encoding"`
	Fixed         string  `json:"fixed"`
	Expect        string  `json:"expect"`
}

// ftfyCorpusDir finds the ftfy test cases: a folder shared/corpus/ftfy
// beside one of the directories above the test's working directory.
func ftfyCorpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		cand := filepath.Join(dir, "shared", "corpus", "ftfy")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("ftfy corpus not found: no shared/corpus/ftfy beside any parent of the test directory")
		}
		dir = parent
	}
}

// ftfyExpectation returns what our repair should produce for c, and the
// options to produce it with.
//
// ftfy's "fixed" is the output of its fix_text, which also straightens curly
// quotes, expands ligatures and narrows full-width letters; we never do
// those, so when "fixed-encoding" (the output of its fix_encoding) is given
// we compare against it, with HTML entity decoding off, as fix_encoding
// does. fix_encoding keeps C0 controls that fix_text removes; we remove them
// in the same step as C1 repair, so they are removed from that expectation
// too. Whitespace repair is off: ftfy keeps runs of spaces. When only
// "fixed" is given, curly and straight quotes compare equal.
func ftfyExpectation(c ftfyCase) (want string, o Options, uncurl bool) {
	o = DefaultOptions()
	o.Whitespace = false
	if c.FixedEncoding != nil {
		o.HTMLEntities = false
		return stripC0(*c.FixedEncoding), o, false
	}
	return c.Fixed, o, true
}

func stripC0(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
}

// deliberateDifferences are ftfy cases where we knowingly give another
// answer, with the reason. They are logged and counted, not failed.
var deliberateDifferences = map[string]string{
	// "Bremer/Mccoy – DrÃ¥ber": ftfy leaves it because the string as a whole
	// could be Latin-1 or MacRoman; the case's own comment says it was
	// meant to be Latin-1, and "Dråber" is what repairing the damaged word
	// alone gives.
	"Sort of negative: this inconsistent mojibake could be Latin-1 or MacRoman, and it was meant to be Latin-1, but it's safest to not decode it as either": "we repair the damaged word to the Latin-1 reading the case says was meant",
}

var quoteUncurler = strings.NewReplacer("‘", "'", "’", "'", "“", `"`, "”", `"`, "„", `"`, "‚", "'")

func TestFtfyCorpus(t *testing.T) {
	dir := ftfyCorpusDir(t)
	for _, file := range []string{"in-the-wild", "synthetic", "negative", "language-names", "known-failures"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var cases []ftfyCase
			if err := json.Unmarshal(data, &cases); err != nil {
				t.Fatal(err)
			}
			passed, ftfyFails, weFix, differ := 0, 0, 0, 0
			for _, c := range cases {
				want, o, uncurl := ftfyExpectation(c)
				got, _ := FixWith(c.Original, o)
				ok := got == want || uncurl && quoteUncurler.Replace(got) == quoteUncurler.Replace(want)
				if c.Expect == "fail" {
					ftfyFails++
					if ok {
						weFix++
					} else {
						t.Logf("ftfy known failure, not fixed here either: %s\n input: %q\n   got: %q\n  want: %q", c.Label, c.Original, got, want)
					}
					continue
				}
				if ok {
					passed++
					continue
				}
				if why, known := deliberateDifferences[c.Label]; known {
					differ++
					t.Logf("deliberate difference (%s)\n input: %q\n   got: %q\n  ftfy: %q", why, c.Original, got, want)
					continue
				}
				t.Errorf("%s\n input: %q\n   got: %q\n  want: %q", c.Label, c.Original, got, want)
			}
			t.Logf("%s: passed %d/%d of the cases ftfy passes (%d deliberate differences); fixed %d/%d of ftfy's known failures",
				file, passed, len(cases)-ftfyFails, differ, weFix, ftfyFails)
		})
	}
}
