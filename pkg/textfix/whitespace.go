package textfix

import (
	"strings"
	"unicode/utf8"
)

// isOddSpace reports whether r is a space character other than ' ', '\t'
// and U+00A0 that should read as a plain space.
func isOddSpace(r rune) bool {
	return r >= 0x2000 && r <= 0x200A || r == 0x202F || r == 0x205F || r == 0x1680
}

// fixWhitespace turns odd spaces into ' ', collapses runs of horizontal
// space and trims it at line ends. A no-break space between two visible
// characters is kept. The text between the runs it changes is copied as
// it is, in one piece.
func fixWhitespace(s string) (string, bool) {
	if !needsWhitespace(s) {
		return s, false
	}
	var b strings.Builder
	pos := 0 // s[:pos] is written to b
	for i := 0; i < len(s); {
		if byteFlags[s[i]]&fSpace == 0 {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isHSpace(r) {
			i += n
			continue
		}
		// A run of horizontal space: s[i:j].
		j, count := i+n, 1
		for j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if !isHSpace(r2) {
				break
			}
			j += n2
			count++
		}
		var repl string
		switch {
		case j == len(s) || s[j] == '\n' || s[j] == '\r':
			// trailing space: drop it
		case count == 1 && (r == '\t' || r == ' '):
			repl = s[i:j]
		case count == 1 && r == 0xA0 && i > 0 && s[i-1] != '\n' && s[i-1] != '\r':
			repl = s[i:j]
		default:
			repl = " "
		}
		if repl != s[i:j] {
			if pos == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[pos:i])
			b.WriteString(repl)
			pos = j
		}
		i = j
	}
	if pos == 0 {
		return s, false
	}
	b.WriteString(s[pos:])
	return b.String(), true
}

func isHSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == 0xA0 || isOddSpace(r)
}

// needsWhitespace is the allocation-free check that fixWhitespace would
// change s.
func needsWhitespace(s string) bool {
	prevH, prevNL := false, true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if prevH {
				return true
			}
			prevH, prevNL = true, false
			i++
			continue
		case c == '\n' || c == '\r':
			if prevH {
				return true
			}
			prevH, prevNL = false, true
			i++
			continue
		case c < 0x80 || byteFlags[c]&fSpace == 0:
			// A plain byte, or a rune no space begins with.
			prevH, prevNL = false, false
			i++
			for i < len(s) && s[i] >= 0x80 && s[i] < 0xC0 {
				i++
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == 0xA0:
			if prevH || prevNL {
				return true
			}
			prevH = true
		case isOddSpace(r):
			return true
		default:
			prevH, prevNL = false, false
		}
	}
	return prevH
}
