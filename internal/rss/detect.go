package rss

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// detectSample bounds the bytes detectLegacy looks at.
const detectSample = 256 << 10

// minDetectScore is the score a charset needs to replace windows-1252.
const minDetectScore = 0.6

// detectLegacy guesses the charset of undeclared bytes that are not UTF-8,
// for feeds in East Asian, Cyrillic, Greek, Hebrew or Thai legacy charsets
// that say nothing about their encoding. It returns the charset's name
// and the decoded text, or ok false to keep windows-1252.
//
// Each charset is scored from 0 to 1 on the first detectSample bytes:
//
//   - windows-1252 scores the share of non-ASCII letters that stand in
//     words with ASCII letters, as accented letters do in Latin-script
//     text ("Notícias"); see latinShare. (A Latin-2 feed without a
//     declaration is beyond this guess: it reads as windows-1252.)
//   - A multi-byte charset (EUC-KR, EUC-JP, Shift_JIS, GBK, Big5) scores 0
//     if any sequence is invalid or decodes to a private-use character;
//     otherwise its score is the share of characters in the charset's
//     common core: the Hangul syllables of KS X 1001, the kana and level-1
//     kanji of JIS X 0208, the level-1 hanzi of GB 2312, the level-1 hanzi
//     of Big5, and each set's punctuation rows. Japanese needs some kana,
//     or the score is halved.
//   - A single-byte charset (windows-1251, KOI8-R, windows-1253,
//     windows-1255, windows-874) scores the share of its script's letters
//     among the non-ASCII characters (letters glued to ASCII letters do
//     not count: these scripts do not mix so), times, for Cyrillic and
//     Greek, the share of words cased as words are (lower, Title or
//     UPPER) and a penalty when fewer than half the letters are lower
//     case, times how well the letters fit the language's ten commonest.
//
// Another charset replaces windows-1252 if it scores higher and at least
// minDetectScore; among equal scores the earlier candidate wins, so
// Korean text, which is also valid GBK, reads as EUC-KR.
func detectLegacy(b []byte) (name, text string, ok bool) {
	sample := b
	if len(sample) > detectSample {
		sample = sample[:detectSample]
	}
	// windows-1252 holds unless another charset reads better.
	best, bestScore := -1, latinShare(sample)
	for i, c := range candidates {
		var score float64
		if c.single != nil {
			score = c.single.score(sample)
		} else {
			score = c.multi.score(sample)
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 || bestScore < minDetectScore {
		return "", "", false
	}
	enc := candidates[best].encoding()
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", "", false
	}
	if !utf8.Valid(out) {
		out = []byte(strings.ToValidUTF8(string(out), "\uFFFD"))
	}
	return candidates[best].name, string(out), true
}

// candidate is a legacy charset detectLegacy may choose.
type candidate struct {
	name   string
	multi  *multiByte
	single *singleByte
}

func (c candidate) encoding() encoding.Encoding {
	if c.single != nil {
		return c.single.cm
	}
	return c.multi.enc
}

// candidates in order of preference on equal scores.
var candidates = []candidate{
	{name: "euc-kr", multi: &multiByte{enc: korean.EUCKR, core: func(b []byte) bool {
		return b[0] >= 0xA1 && b[0] <= 0xA3 || b[0] >= 0xB0 && b[0] <= 0xC8 && b[1] >= 0xA1
	}}},
	{name: "euc-jp", multi: &multiByte{enc: japanese.EUCJP, needKana: true, core: func(b []byte) bool {
		return b[0] >= 0xA1 && b[0] <= 0xA5 || b[0] >= 0xB0 && b[0] <= 0xCF || b[0] == 0x8E
	}, kana: func(b []byte) bool { return b[0] == 0xA4 || b[0] == 0xA5 || b[0] == 0x8E }}},
	{name: "shift_jis", multi: &multiByte{enc: japanese.ShiftJIS, needKana: true, core: func(b []byte) bool {
		return len(b) == 1 || b[0] >= 0x81 && b[0] <= 0x83 || b[0] >= 0x88 && b[0] <= 0x98
	}, kana: func(b []byte) bool { return len(b) == 1 || b[0] == 0x82 || b[0] == 0x83 }}},
	{name: "gbk", multi: &multiByte{enc: simplifiedchinese.GBK, core: func(b []byte) bool {
		return len(b) == 2 && b[1] >= 0xA1 && (b[0] >= 0xA1 && b[0] <= 0xA3 || b[0] >= 0xB0 && b[0] <= 0xD7)
	}}},
	{name: "big5", multi: &multiByte{enc: traditionalchinese.Big5, core: func(b []byte) bool {
		return len(b) == 2 && (b[0] >= 0xA1 && b[0] <= 0xA3 || b[0] >= 0xA4 && b[0] <= 0xC6)
	}}},
	{name: "windows-1251", single: &singleByte{cm: charmap.Windows1251, script: unicode.Cyrillic, cased: true, common: "оеаинтсрвл"}},
	{name: "koi8-r", single: &singleByte{cm: charmap.KOI8R, script: unicode.Cyrillic, cased: true, common: "оеаинтсрвл"}},
	{name: "windows-1253", single: &singleByte{cm: charmap.Windows1253, script: unicode.Greek, cased: true, common: "αοειτνσςρυ"}},
	{name: "windows-1255", single: &singleByte{cm: charmap.Windows1255, script: unicode.Hebrew, common: "יוהלארמתבנ"}},
	{name: "windows-874", single: &singleByte{cm: charmap.Windows874, script: unicode.Thai}},
}

// multiByte scores a double-byte charset.
type multiByte struct {
	enc      encoding.Encoding
	core     func(seq []byte) bool // the sequence is in the charset's common core
	needKana bool
	kana     func(seq []byte) bool
}

func (m *multiByte) score(sample []byte) float64 {
	out, err := m.enc.NewDecoder().Bytes(sample)
	if err != nil {
		return 0
	}
	enc := m.enc.NewEncoder()
	var buf [8]byte
	total, core, kana := 0, 0, 0
	for _, r := range string(out) {
		if r < utf8.RuneSelf {
			continue
		}
		if r == utf8.RuneError || unicode.Is(unicode.Co, r) {
			return 0
		}
		enc.Reset()
		n, _, err := enc.Transform(buf[:], []byte(string(r)), true)
		if err != nil || n == 0 {
			return 0
		}
		total++
		if m.core(buf[:n]) {
			core++
		}
		if m.kana != nil && m.kana(buf[:n]) {
			kana++
		}
	}
	if total < 2 {
		return 0
	}
	score := float64(core) / float64(total)
	if m.needKana && kana*20 < total {
		score /= 2
	}
	return score
}

// singleByte scores a single-byte charset for one script.
type singleByte struct {
	cm     *charmap.Charmap
	script *unicode.RangeTable
	cased  bool
	common string // the language's ten commonest letters, lower case
}

// expectedCommon is the least share of letters that the ten commonest
// letters of a language make up in ordinary text; fewer lowers the score.
const expectedCommon = 0.45

func (s *singleByte) score(sample []byte) float64 {
	var letters, lower, other, common, words, goodWords int
	var word []rune
	endWord := func() {
		if len(word) > 0 {
			words++
			if wellCased(word) {
				goodWords++
			}
			word = word[:0]
		}
	}
	for i, c := range sample {
		if c < utf8.RuneSelf {
			endWord()
			continue
		}
		r := s.cm.DecodeByte(c)
		glued := i > 0 && isASCIILetter(sample[i-1]) || i+1 < len(sample) && isASCIILetter(sample[i+1])
		switch {
		case glued && unicode.IsLetter(r):
			other++
			endWord()
		case unicode.Is(s.script, r):
			letters++
			if s.common != "" && strings.ContainsRune(s.common, unicode.ToLower(r)) {
				common++
			}
			if unicode.IsLower(r) {
				lower++
			}
			if unicode.IsLetter(r) {
				word = append(word, r)
			}
		case r == utf8.RuneError || unicode.IsLetter(r) || unicode.IsControl(r):
			other++
			endWord()
		default:
			// Punctuation and symbols (« » – … №) are neither for nor
			// against.
			endWord()
		}
	}
	endWord()
	if letters < 3 {
		return 0
	}
	score := float64(letters) / float64(letters+other)
	if s.cased && words > 0 {
		score *= float64(goodWords) / float64(words)
		// Text is mostly lower case; a reading that is all capitals is
		// likely the wrong one.
		if f := 0.5 + float64(lower)/float64(letters); f < 1 {
			score *= f
		}
	}
	if s.common != "" {
		if fit := float64(common) / float64(letters) / expectedCommon; fit < 1 {
			score *= fit
		}
	}
	return score
}

// wellCased reports whether a word is lower case, Title case or UPPER case.
func wellCased(w []rune) bool {
	upper := 0
	for _, r := range w {
		if unicode.IsUpper(r) {
			upper++
		}
	}
	switch {
	case upper == 0, upper == len(w):
		return true
	case upper == 1:
		return unicode.IsUpper(w[0])
	}
	return false
}

// latinShare is the share of the non-ASCII bytes that, read as
// windows-1252, are letters in a word that also has an ASCII letter
// ("notícias", not "Ïðàâî"), among all non-ASCII bytes but common
// punctuation and symbols (see latinNeutral) and one-letter words ("à",
// "é").
func latinShare(sample []byte) float64 {
	counted, latin := 0, 0
	for i := 0; i < len(sample); {
		// One word: a run of ASCII letters and non-ASCII bytes.
		j, hasASCII := i, false
		for j < len(sample) && (sample[j] >= utf8.RuneSelf || isASCIILetter(sample[j])) {
			hasASCII = hasASCII || sample[j] < utf8.RuneSelf
			j++
		}
		if j == i {
			i++
			continue
		}
		if j-i > 1 {
			for _, c := range sample[i:j] {
				if c < utf8.RuneSelf || latinNeutral(c) {
					continue
				}
				counted++
				if hasASCII && unicode.IsLetter(charmap.Windows1252.DecodeByte(c)) {
					latin++
				}
			}
		}
		i = j
	}
	if counted == 0 {
		return 1
	}
	return float64(latin) / float64(counted)
}

// latinNeutral reports whether windows-1252 byte c is punctuation or a
// symbol that Latin-script text uses on its own or next to words:
// € ‚ „ … ‹ ‘ ’ “ ” • – — › no-break space ¡ £ § © ª « soft hyphen ® ° ± ² ³ ´ ·
// º » ¼ ½ ¾ ¿. Rarer symbols (¤ ¥ ¦ ¨ ¬ ¯ ¶ ¸ ¹ and the like) count
// against Latin: legacy CJK text read as windows-1252 is full of them.
func latinNeutral(c byte) bool {
	switch c {
	case 0x80, 0x82, 0x84, 0x85, 0x8B, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x9B,
		0xA0, 0xA1, 0xA3, 0xA7, 0xA9, 0xAA, 0xAB, 0xAD, 0xAE,
		0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB7, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF:
		return true
	}
	return false
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
