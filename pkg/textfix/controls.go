package textfix

import (
	"strings"
	"unicode/utf8"
)

// fixControls maps C1 controls that windows-1252 defines to their
// punctuation and removes stray C0 controls, DEL and U+FEFF. CR LF and lone
// CR become LF. It reports whether each kind of repair happened.
func fixControls(s string) (out string, c1, c0 bool) {
	i := firstControl(s)
	if i < 0 {
		return s, false, false
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\r':
				c0 = true
				if i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
				b.WriteByte('\n')
			case c < 0x20 && c != '\n' && c != '\t', c == 0x7F:
				c0 = true
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r >= 0x80 && r < 0xA0:
			if m := decodeTable[cp1252][r]; m != r {
				b.WriteRune(m)
				c1 = true
				continue
			}
		case r == 0xFEFF:
			c0 = true
			continue
		}
		b.WriteRune(r)
	}
	if !c1 && !c0 {
		return s, false, false
	}
	return b.String(), c1, c0
}

// fromLatin returns s with every byte that is not part of a valid UTF-8
// sequence read as windows-1252.
func fromLatin(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(decodeTable[cp1252][s[i]])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// firstControl returns the offset of the first rune fixControls would
// change, or -1.
func firstControl(s string) int {
	for i := 0; i < len(s); i++ {
		if byteFlags[s[i]]&fCtrl == 0 {
			continue
		}
		switch c := s[i]; {
		case c < 0x80:
			return i
		case c == 0xC2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] < 0xA0:
			return i // U+0080-U+009F
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBB && s[i+2] == 0xBF:
			return i // U+FEFF
		}
	}
	return -1
}

// Byte flags for the scans over clean text.
const (
	fCtrl  = 1 << iota // may start a control fixControls changes
	fSpace             // may start horizontal space: ' ', '\t', or a lead of U+00A0 / odd spaces
	fLine              // '\n' or '\r'
	fHigh              // not ASCII
	fAmp               // '&'
)

// byteFlags classifies bytes for the scans.
var byteFlags = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		if c != '\n' && c != '\t' {
			t[c] |= fCtrl
		}
	}
	t[0x7F] |= fCtrl
	t[0xC2] |= fCtrl | fSpace
	t[0xEF] |= fCtrl
	t[' '] |= fSpace
	t['\t'] |= fSpace
	t[0xE1] |= fSpace
	t[0xE2] |= fSpace
	t['\n'] |= fLine
	t['\r'] |= fLine | fCtrl
	t['&'] |= fAmp
	for c := 0x80; c < 0x100; c++ {
		t[c] |= fHigh
	}
	return t
}()
