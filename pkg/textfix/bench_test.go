package textfix

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// benchText repeats lines until it has about n bytes.
func benchText(lines []string, n int) string {
	var b strings.Builder
	for b.Len() < n {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func BenchmarkFix(b *testing.B) {
	clean := readCleanLines(b)
	var english, damaged, partial []string
	for _, l := range clean {
		if strings.HasPrefix(l, "The ") || strings.HasPrefix(l, "“We") || strings.HasPrefix(l, "Fans") {
			english = append(english, l)
		}
		damaged = append(damaged, misdecode(l, cp1252))
		partial = append(partial, l, misdecode(l, cp1252))
	}
	ascii := "BEIJING, May 1 (Xinhua) -- China firmly supports the Peruvian government and people in their fight against COVID-19, Chinese President Xi Jinping said on Thursday."
	cases := []struct{ name, text string }{
		{"clean-ascii", benchText([]string{ascii}, 64<<10)},
		{"clean-english", benchText(english, 64<<10)},
		{"clean-multilingual", benchText(clean, 64<<10)},
		{"damaged-half-the-lines", benchText(partial, 64<<10)},
		{"damaged-cp1252", benchText(damaged, 64<<10)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				Fix(c.text)
			}
		})
	}
}

// BenchmarkFixNewsItem repairs a news item of a few KB whose only fault is
// one space at the end of its header line, and the same item without it.
func BenchmarkFixNewsItem(b *testing.B) {
	body := benchText(readCleanLines(b), 3500)
	for _, c := range []struct{ name, text string }{
		{"trailing-space", "Ariticle : \n" + body},
		{"clean", "Ariticle :\n" + body},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			for b.Loop() {
				Fix(c.text)
			}
		})
	}
}

// BenchmarkFixLines calls Fix once a line, as a pipeline does per record.
func BenchmarkFixLines(b *testing.B) {
	clean := readCleanLines(b)
	var english, damaged []string
	for _, l := range clean {
		if isEnglishLike(l) {
			english = append(english, l)
		}
		for _, k := range damageKinds {
			if d := k.damage(l); d != l {
				damaged = append(damaged, d)
			}
		}
	}
	for _, c := range []struct {
		name  string
		lines []string
	}{{"english", english}, {"clean", clean}, {"damaged", damaged}} {
		size := 0
		for _, l := range c.lines {
			size += len(l)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range c.lines {
					Fix(l)
				}
			}
		})
	}
}

// isEnglishLike reports whether l is ASCII but for typographic punctuation
// and symbols: the bulk of an English-language wire (as bench/textfix picks
// its English lines).
func isEnglishLike(l string) bool {
	for _, r := range l {
		if r >= 0x80 && !strings.ContainsRune("’‘“”–—…€£¥°−", r) {
			return false
		}
	}
	return true
}

// BenchmarkDamagedLineBounds sets the cost of Fix on a damaged line, one
// call a line, beside two bare passes over the same lines that any repair
// of them needs at least: checking that a line is valid UTF-8, and
// decoding each rune, looking it up and writing its byte in one charset
// (docs/textfix.md, Speed). All report ns/line.
func BenchmarkDamagedLineBounds(b *testing.B) {
	var lines []string
	for _, l := range readCleanLines(b) {
		for _, k := range damageKinds {
			if d := k.damage(l); d != l {
				lines = append(lines, d)
			}
		}
	}
	perLine := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(lines)), "ns/line")
	}
	b.Run("fix", func(b *testing.B) {
		for b.Loop() {
			for _, l := range lines {
				Fix(l)
			}
		}
		perLine(b)
	})
	b.Run("valid-utf8", func(b *testing.B) {
		for b.Loop() {
			for _, l := range lines {
				utf8.ValidString(l)
			}
		}
		perLine(b)
	})
	buf := make([]byte, 0, 1024)
	b.Run("decode-lookup-write", func(b *testing.B) {
		for b.Loop() {
			for _, l := range lines {
				buf = buf[:0]
				for i := 0; i < len(l); {
					j := skipASCII(l, i)
					buf = append(buf, l[i:j]...)
					for i = j; i < len(l) && l[i] >= utf8.RuneSelf; {
						r, n := decodeRune(l, i)
						if e := lookup(r); e != nil {
							buf = append(buf, e.b[cp1252])
						}
						i += n
					}
				}
			}
		}
		perLine(b)
	})
}
