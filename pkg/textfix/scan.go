package textfix

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The steps a text needs, as scan finds them.
const (
	needEntities uint8 = 1 << iota
	needMojibake
	needControls
	needWhitespace
	needNFC
	needUTF8 // the text is not valid UTF-8: every step must look
	needAll  = needEntities | needMojibake | needControls | needWhitespace | needNFC | needUTF8
)

// mask returns the needs that the repairs o asks for can meet.
func (o Options) mask() uint8 {
	m := needUTF8
	if o.HTMLEntities {
		m |= needEntities
	}
	if o.Mojibake {
		m |= needMojibake
	}
	if o.Controls {
		m |= needControls
	}
	if o.Whitespace {
		m |= needWhitespace
	}
	if o.NFC {
		m |= needNFC
	}
	return m
}

// Word-at-a-time helpers: eight bytes of the text in a uint64, little end
// first.
const (
	hi8  = 0x8080808080808080
	lo7  = 0x7F7F7F7F7F7F7F7F
	ones = 0x0101010101010101
)

// load8 returns s[i:i+8] as a little-endian word.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// skipASCII returns the offset of the first non-ASCII byte of s at or
// after i, or len(s).
func skipASCII(s string, i int) int {
	for i+8 <= len(s) && load8(s, i)&hi8 == 0 {
		i += 8
	}
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	return i
}

// eq8 sets the high bit of each byte of the ASCII word w that equals c.
func eq8(w uint64, c byte) uint64 {
	return ^((w ^ ones*uint64(c)) + lo7) & hi8
}

// below8 sets the high bit of each byte of the ASCII word w below c.
func below8(w uint64, c byte) uint64 {
	return ^(w + ones*uint64(0x80-c)) & hi8
}

// scan reports which of the repairs o asks for s may need, in one pass
// that does not allocate. A step scan leaves out would not change s; a step
// it names may still find nothing to do. ASCII is read eight bytes at a
// time; only non-ASCII runes are decoded, and each is classified with one
// look-up in the rune table: a possible mojibake lead or continuation,
// a rune NFC must look at, or a control or space the other repairs change.
// Mojibake is only suspected where a lead is followed by a continuation of
// the same charset (or a stand-in for a lost byte) that decode together
// into something the repair could accept with no charset vouched for yet:
// a strong pair (see pairLevel). Once it finds one, scan stops and names
// every step (see mojibakeFound).
func scan(s string, o Options) uint8 {
	need, _ := scanAt(s, o)
	return need
}

// scanAt is scan that also returns the offset of the lead of the first
// strong pair, where the mojibake repair starts (-1 when there is none).
func scanAt(s string, o Options) (uint8, int) {
	var need uint8
	prevH, prevNL := false, true // as in needsWhitespace
	nfcFrom := -1                // start of a stretch the norm package must check
	var lead uint8               // the charsets of the mojibake lead just read, if a non-ASCII rune follows
	leadAt := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if nfcFrom >= 0 {
				// ASCII is made of stable NFC starters.
				if !isNormal(s[nfcFrom:i]) {
					need |= needNFC
				}
				nfcFrom = -1
			}
			if i+8 <= len(s) {
				if w := load8(s, i); w&hi8 == 0 && below8(w, 0x20)|eq8(w, '&')|eq8(w, 0x7F) == 0 {
					// Eight printable ASCII bytes: only runs of spaces matter.
					sp := eq8(w, ' ')
					if sp&(sp>>8) != 0 || prevH && sp&0x80 != 0 {
						need |= needWhitespace
					}
					prevH, prevNL = sp>>63 != 0, false
					i += 8
					continue
				}
			}
			switch {
			case c == ' ' || c == '\t':
				if prevH {
					need |= needWhitespace
				}
				prevH, prevNL = true, false
			case c == '\n' || c == '\r':
				if prevH {
					need |= needWhitespace
				}
				if c == '\r' {
					need |= needControls
				}
				prevH, prevNL = false, true
			case c < 0x20 || c == 0x7F:
				need |= needControls
				prevH, prevNL = false, false
			case c == '&':
				if o.HTMLEntities && entityEnd(s, i) > 0 {
					need |= needEntities
				}
				prevH, prevNL = false, false
			default:
				prevH, prevNL = false, false
			}
			i++
			continue
		}
		// Decode the rune, two- and three-byte sequences in line.
		var r rune
		var n int
		if c < 0xE0 && c >= 0xC2 && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
			r, n = rune(c&0x1F)<<6|rune(s[i+1]&0x3F), 2
		} else if c >= 0xE1 && c < 0xF0 && c != 0xED && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			r, n = rune(c&0x0F)<<12|rune(s[i+1]&0x3F)<<6|rune(s[i+2]&0x3F), 3
		} else if r, n = utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && n == 1 {
			return needAll & o.mask(), -1
		}
		v := runeInfo(r)
		if lead != 0 {
			// The rune after a mojibake lead: a continuation of the same
			// charset, or U+FFFD for a lost byte.
			m := lead & uint8(v>>rContShift)
			if r == utf8.RuneError {
				m = lead
			}
			if m != 0 && pairLevel(s, leadAt, m) == pairStrong {
				return mojibakeFound(s, i, o), leadAt
			}
			lead = 0
		}
		if v == 0 {
			// The common case: a letter or symbol no repair looks at.
			if nfcFrom >= 0 {
				if !isNormal(s[nfcFrom:i]) {
					need |= needNFC
				}
				nfcFrom = -1
			}
			prevH, prevNL = false, false
			i += n
			continue
		}
		if v&rNFC != 0 {
			if nfcFrom < 0 {
				nfcFrom = runeStartBefore(s, i)
			}
		} else if nfcFrom >= 0 {
			if !isNormal(s[nfcFrom:i]) {
				need |= needNFC
			}
			nfcFrom = -1
		}
		h := false
		if v&rOdd != 0 {
			switch {
			case r == 0xA0:
				if prevH || prevNL {
					need |= needWhitespace
				}
				h = true
			case r < 0xA0 || r == 0xFEFF:
				need |= needControls
			default:
				need |= needWhitespace
			}
		}
		prevH, prevNL = h, false
		if o.Mojibake && v&rLead != 0 {
			// A lead: the pair with a non-ASCII rune is checked when that
			// rune is read; with ' ' or '?' (stand-ins), now.
			if j := i + n; j < len(s) && s[j] >= utf8.RuneSelf {
				lead, leadAt = uint8(v&rLead), i
			} else if j < len(s) && (s[j] == ' ' || s[j] == '?') {
				if m := pairMask(s, j, lookup(r)); m != 0 && pairLevel(s, i, m) == pairStrong {
					return mojibakeFound(s, i, o), i
				}
			}
		}
		i += n
	}
	if nfcFrom >= 0 && !isNormal(s[nfcFrom:]) {
		need |= needNFC
	}
	if prevH {
		need |= needWhitespace
	}
	return need & o.mask(), -1
}

// mojibakeFound is what scan returns once it has found mojibake at s[i]:
// the mojibake repair will change the text, and the text it makes is
// scanned again, so the other steps are left to that scan, or to
// themselves should the repair change nothing. Only the rest of the text
// must be valid UTF-8, or every step must look.
func mojibakeFound(s string, i int, o Options) uint8 {
	if !utf8.ValidString(s[i:]) {
		return needAll & o.mask()
	}
	return (needAll &^ needUTF8) & o.mask()
}

// decodeRune is utf8.DecodeRuneInString(s[i:]) with the two- and
// three-byte sequences of the common scripts decoded in line.
func decodeRune(s string, i int) (rune, int) {
	c := s[i]
	switch {
	case c >= 0xC2 && c < 0xE0 && i+1 < len(s):
		if d := s[i+1]; d&0xC0 == 0x80 {
			return rune(c&0x1F)<<6 | rune(d&0x3F), 2
		}
	case c >= 0xE1 && c < 0xF0 && c != 0xED && i+2 < len(s):
		if d, e := s[i+1], s[i+2]; d&0xC0 == 0x80 && e&0xC0 == 0x80 {
			return rune(c&0x0F)<<12 | rune(d&0x3F)<<6 | rune(e&0x3F), 3
		}
	}
	return utf8.DecodeRuneInString(s[i:])
}

// isNormal reports whether a stretch of s is in NFC: the norm package's
// quick check, which does not allocate, and its full check when that is
// not enough.
func isNormal(s string) bool {
	return norm.NFC.QuickSpanString(s) == len(s) || norm.NFC.IsNormalString(s)
}

// runeStartBefore returns the offset of the rune that ends at s[i].
func runeStartBefore(s string, i int) int {
	j := i - 1
	for j > 0 && i-j < utf8.UTFMax && !utf8.RuneStart(s[j]) {
		j--
	}
	return max(j, 0)
}

// isNFC reports whether s, valid UTF-8, is in normalisation form C. Only
// the stretches around runes that are not stable NFC starters are handed
// to the norm package: a stable starter neither changes nor combines with
// what precedes it, so NFC never looks across one.
func isNFC(s string) bool {
	from := -1
	for i := 0; i < len(s); {
		if i+8 <= len(s) && load8(s, i)&hi8 == 0 {
			if from >= 0 {
				if !isNormal(s[from:i]) {
					return false
				}
				from = -1
			}
			i += 8
			continue
		}
		if s[i] < utf8.RuneSelf {
			if from >= 0 {
				if !isNormal(s[from:i]) {
					return false
				}
				from = -1
			}
			i++
			continue
		}
		r, n := decodeRune(s, i)
		if runeInfo(r)&rNFC != 0 {
			if from < 0 {
				from = runeStartBefore(s, i)
			}
		} else if from >= 0 {
			if !isNormal(s[from:i]) {
				return false
			}
			from = -1
		}
		i += n
	}
	return from < 0 || isNormal(s[from:])
}
