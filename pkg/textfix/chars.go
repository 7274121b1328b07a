package textfix

import (
	"sync"
	"unicode"
)

// class is the coarse kind of a rune that the mojibake scorer reasons about.
type class uint8

const (
	clsSpace   class = iota // whitespace, and the edges of the text
	clsASCIIP               // ASCII punctuation and symbols
	clsDigit                // 0-9
	clsUpper                // uppercase letter
	clsLower                // lowercase letter
	clsLetter               // letter without case (CJK, Arabic, Hebrew, ...)
	clsMark                 // combining mark
	clsPunct                // non-ASCII punctuation: quotes, dashes, ellipsis ...
	clsSym                  // symbols: currency, ©, °, math, arrows, box drawing ...
	clsControl              // C0 (except whitespace) and C1 controls
	clsNBSP                 // U+00A0
	clsRepl                 // U+FFFD
	clsEmoji                // pictographs
	clsOther                // anything else (format characters ...)
)

// script is the writing system of a letter, coarse enough to notice a word
// that jumps from one alphabet to another.
type script uint8

const (
	scNone script = iota
	scLatin
	scGreek
	scCyrillic
	scHebrew
	scArabic
	scCJK
	scOther
)

// A runeProp packs what the scorer needs to know of a rune: its class
// (bits 0-3), script (bits 4-6) and rarity (bits 8-11).
type runeProp uint16

func makeProp(c class, s script, rarity int) runeProp {
	return runeProp(c) | runeProp(s)<<4 | runeProp(rarity)<<8
}

func (p runeProp) class() class   { return class(p & 0x0F) }
func (p runeProp) script() script { return script(p >> 4 & 0x07) }
func (p runeProp) rarity() int    { return int(p >> 8) }

// propsLimit bounds the runes whose props are kept in a table: the
// alphabets, punctuation and symbols that mojibake is made of, and most of
// the scripts it decodes to.
const propsLimit = 0x3100

// propsTable returns the props of the runes below propsLimit, computed on
// first use.
var propsTable = sync.OnceValue(func() *[propsLimit]runeProp {
	t := new([propsLimit]runeProp)
	for r := range t {
		c, s := slowProps(rune(r))
		t[r] = makeProp(c, s, slowRarity(rune(r)))
	}
	return t
})

// cjkProp is the prop of the CJK ideographs U+4E00-U+9FFF and the Hangul
// syllables U+AC00-U+D7A3.
var cjkProp = makeProp(clsLetter, scCJK, 0)

// propOf returns the props of r; t is propsTable().
func propOf(t *[propsLimit]runeProp, r rune) runeProp {
	if uint32(r) < propsLimit {
		return t[r]
	}
	if r >= 0x4E00 && r < 0xA000 || r >= 0xAC00 && r < 0xD7A4 {
		return cjkProp
	}
	c, s := slowProps(r)
	return makeProp(c, s, slowRarity(r))
}

// props returns the class and script of r.
func props(r rune) (class, script) {
	p := propOf(propsTable(), r)
	return p.class(), p.script()
}

func slowProps(r rune) (class, script) {
	if r < 0x80 {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v':
			return clsSpace, scNone
		case r < 0x20 || r == 0x7F:
			return clsControl, scNone
		case r >= '0' && r <= '9':
			return clsDigit, scNone
		case r >= 'A' && r <= 'Z':
			return clsUpper, scLatin
		case r >= 'a' && r <= 'z':
			return clsLower, scLatin
		}
		return clsASCIIP, scNone
	}
	switch {
	case r < 0xA0:
		return clsControl, scNone
	case r == 0xA0:
		return clsNBSP, scNone
	case r == 0xFFFD:
		return clsRepl, scNone
	case r == 0xAA || r == 0xBA || r == 0xB5 || r == 0xA7 || r == 0xB6 || r == 0xAD:
		// ª º µ § ¶ and the soft hyphen behave like symbols.
		return clsSym, scNone
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF:
		return clsEmoji, scNone
	case r >= 0x2B0 && r < 0x300 && r != 0x2BC:
		return clsSym, scNone // spacing modifier letters: ˆ ˇ ˘ ˙ ˛ ˜ ˝ ...
	}
	if unicode.IsLetter(r) {
		sc := scriptOf(r)
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			return clsUpper, sc
		case unicode.IsLower(r):
			return clsLower, sc
		}
		return clsLetter, sc
	}
	switch {
	case unicode.IsMark(r):
		return clsMark, scNone
	case unicode.IsDigit(r):
		return clsDigit, scNone
	case unicode.IsNumber(r):
		return clsSym, scNone // ² ³ ¹ ¼ ½ ¾ ...
	case unicode.IsPunct(r):
		return clsPunct, scNone
	case unicode.IsSymbol(r):
		return clsSym, scNone
	case unicode.IsSpace(r):
		return clsSpace, scNone
	case unicode.IsControl(r):
		return clsControl, scNone
	}
	return clsOther, scNone
}

func scriptOf(r rune) script {
	switch {
	case r < 0x250, r >= 0x1E00 && r < 0x1F00, r >= 0xFB00 && r < 0xFB07:
		return scLatin
	case r >= 0x370 && r < 0x400, r >= 0x1F00 && r < 0x2000:
		return scGreek
	case r >= 0x400 && r < 0x530:
		return scCyrillic
	case r >= 0x590 && r < 0x600:
		return scHebrew
	case r >= 0x600 && r < 0x700, r >= 0x750 && r < 0x780:
		return scArabic
	case r >= 0x3000 && r < 0xA000, r >= 0xAC00 && r < 0xD7B0, r >= 0xF900 && r < 0xFB00,
		r >= 0xFF00 && r < 0xFFF0, r >= 0x20000 && r < 0x40000:
		return scCJK
	}
	return scOther
}

// rarity is how unlikely r is in clean text, from 0 (common) up. It is the
// unigram part of the badness score.
func rarity(r rune) int {
	return propOf(propsTable(), r).rarity()
}

func slowRarity(r rune) int {
	if r >= 0xA0 && r < 0x10000 && (unicode.Is(unicode.Cn, r) || unicode.Is(unicode.Cf, r) && !commonFormat(r)) {
		// Nothing clean text holds, nor a repair may make: an unassigned
		// code point ("×½" is windows-1252 for U+05FD) or a format
		// character no text uses (U+0605 ARABIC NUMBER MARK ABOVE).
		return 6
	}
	switch {
	case r < 0x80:
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return 2
		}
		return 0
	case r < 0xA0:
		return 5 // C1 control
	case r < 0x100:
		switch r {
		case 0xC3, 0xC2: // Ã Â: the two classic mojibake leads
			return 3
		case 0xA4, 0xA6, 0xA8, 0xAF, 0xB4, 0xB8, 0xAC, 0xB6, 0xAD, 0xB1, 0xD0, 0xDE, 0xF0, 0xFE,
			0xCC, 0xCD, 0xCE, 0xCF:
			return 1 // ¤ ¦ ¨ ¯ ´ ¸ ¬ ¶ SHY ± Ð Þ ð þ Ì Í Î Ï
		}
		return 0
	case r < 0x180:
		switch r {
		case 0x102, 0x139: // Ă Ĺ: see isNotoriousLead
			return 2
		case 0x138, 0x17F: // ĸ ſ
			return 4
		case 0x149, 0x13F, 0x140, 0x174, 0x175, 0x176, 0x177: // ŉ Ŀ ŀ Ŵ ŵ Ŷ ŷ
			return 3
		}
		return 0 // Latin Extended-A
	case r < 0x250:
		switch {
		case r == 0x192: // ƒ
			return 2
		case r >= 0x1A0 && r <= 0x1B0, r >= 0x1CD && r <= 0x1DC, r >= 0x218 && r <= 0x21B:
			return 0 // Vietnamese horn letters, pinyin, Romanian comma below
		}
		return 4
	case r < 0x2B0:
		return 5 // IPA
	case r < 0x300:
		switch r {
		case 0x2C6, 0x2C7, 0x2D8, 0x2D9, 0x2DA, 0x2DB, 0x2DC, 0x2DD, 0x2BC:
			return 1 // ˆ ˇ ˘ ˙ ˚ ˛ ˜ ˝ ʼ
		}
		return 5
	case r < 0x370:
		switch {
		case r <= 0x30C, r == 0x327, r == 0x328, r == 0x336:
			return 1 // common combining diacritics, and the strike-through overlay
		}
		return 3
	case r < 0x3E2:
		return 0 // Greek
	case r < 0x400:
		return 4
	case r < 0x460:
		return 0 // Cyrillic
	case r < 0x530:
		return 4 // historic and extended Cyrillic
	case r < 0x590:
		return 3 // Armenian
	case r < 0x5D0:
		return 4 // Hebrew points
	case r < 0x600:
		return 0
	case r < 0x700:
		switch {
		case r >= 0x610 && r <= 0x61A, r >= 0x6D6 && r <= 0x6ED:
			return 4 // Quranic annotation marks
		case r >= 0x64B && r <= 0x65F:
			return 2 // harakat
		}
		return 0 // Arabic
	case r < 0x900:
		return 5 // Syriac, Thaana, NKo, Samaritan, Mandaic ...
	case r < 0xE80:
		return 0 // Indic scripts, Thai
	case r < 0x1100:
		return 2
	case r < 0x1E00:
		return 5
	case r < 0x1F00:
		return 0 // Latin Extended Additional (Vietnamese)
	case r < 0x2000:
		return 2 // Greek Extended
	case r < 0x2070:
		switch r {
		case 0x201A, 0x201E, 0x2020, 0x2021, 0x2030, 0x2039, 0x203A:
			return 1 // ‚ „ † ‡ ‰ ‹ ›
		}
		return 0
	case r >= 0x2500 && r < 0x25A0:
		return 1 // box drawing, blocks
	case r < 0x2C00:
		return 0 // symbols, arrows, math, geometric shapes, dingbats
	case r < 0x3000:
		return 4
	case r < 0x3100:
		return 0 // CJK punctuation, kana
	case r < 0x3400:
		return 2
	case r < 0x4E00:
		return 4 // CJK Extension A, hexagrams
	case r < 0xA000:
		return 0 // CJK
	case r < 0xAC00:
		return 5
	case r < 0xD7B0:
		return 0 // Hangul
	case r < 0xE000:
		return 6 // surrogates
	case r < 0xF900:
		return 6 // private use
	case r < 0xFB00:
		return 2
	case r < 0xFB07:
		return 1 // Latin ligatures
	case r < 0xFE00:
		return 4
	case r < 0xFE10:
		return 0 // variation selectors
	case r < 0xFF00:
		return 4
	case r < 0xFFF0:
		return 0 // full-width forms
	case r == 0xFFFD:
		return 2
	case r < 0x10000:
		return 6
	case r >= 0x1F000 && r < 0x1FB00:
		return 0 // emoji
	case r >= 0x20000 && r < 0x30000:
		return 3
	}
	return 5
}

// commonFormat reports whether r is a format character that clean text
// holds: the soft hyphen, zero-width spaces and joiners, direction marks,
// embeddings and isolates, the word joiner and invisible operators, and
// the byte order mark.
func commonFormat(r rune) bool {
	switch {
	case r == 0xAD, r == 0x61C, r == 0xFEFF:
		return true
	case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x2064, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// isApostrophe reports whether r may stand between two letters of a word.
func isApostrophe(r rune) bool {
	return r == '\'' || r == 0x2019 || r == 0xB4 || r == 0x2BC
}
