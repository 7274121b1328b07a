// Package newstext holds text helpers shared by the wire-format parsers:
// splitting paragraphs, reading datelines, recognising photo captions and
// agency end marks, and parsing the many ways feeds write a date.
//
// The helpers are heuristics tuned to how news agencies write. Each is
// conservative: when in doubt it leaves the text alone, since wrongly
// cutting an article is worse than keeping a stray end mark.
package newstext

import (
	"strings"
	"unicode"
)

// Paragraphs splits plain text into paragraphs.
//
// The rule: when the text has a blank line (empty or only spaces) anywhere,
// paragraphs are separated by blank lines and the single line breaks inside
// a paragraph are hard wraps, joined with a space. When it has none, every
// line is a paragraph, as in feeds that write one paragraph per line.
// Within a paragraph every run of white space (including no-break spaces and
// tabs) becomes one space; paragraphs are trimmed and empty ones dropped.
// Line ends may be LF, CRLF or CR; a leading byte order mark is dropped.
func Paragraphs(s string) []string {
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")

	blankSeparated := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			blankSeparated = true
			break
		}
	}

	var paras []string
	var cur []string
	flush := func() {
		if p := strings.Join(strings.Fields(strings.Join(cur, " ")), " "); p != "" {
			paras = append(paras, p)
		}
		cur = cur[:0]
	}
	for _, l := range lines {
		if !blankSeparated || strings.TrimSpace(l) == "" {
			cur = append(cur, l)
			flush()
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return paras
}

// isUpperWord reports whether w has letters and all of them are upper case.
func isUpperWord(w string) bool {
	letters := false
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters = true
			if !unicode.IsUpper(r) {
				return false
			}
		}
	}
	return letters
}

// startsUpper reports whether the first letter of w is upper case and comes
// before any digit.
func startsUpper(w string) bool {
	for _, r := range w {
		switch {
		case unicode.IsLetter(r):
			return unicode.IsUpper(r) || unicode.IsTitle(r)
		case unicode.IsDigit(r):
			return false
		}
	}
	return false
}
