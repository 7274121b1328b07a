package newstext

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsCaption reports whether paragraph p is a photo or video caption as wire
// services write them into a body: text ending in a parenthesised (or
// bracketed) credit, optionally followed by a full stop, such as
//
//	... on March 6, 2020. (Photo by Ana Torres/Xinhua)
//	... in Lima, Peru. (Xinhua/Luis Mendez/ANDINA)
//	... (AP Photo/Jane Doe)   (REUTERS/John Smith)   (dpa/Max Muster)
//	... (Photo: Jane Doe/Agency)   [Photo/VCG]
//
// The credit either starts with a word such as Photo, Foto or Video followed
// by "by", a colon or a slash, or is two to four names separated by slashes,
// each capitalised (or a lower-case agency such as dpa), without digits, and
// at least one with lower-case letters. So "(WHO)", "(year/year)",
// "(EUR/USD)" and "(km/h)" do not make a caption.
func IsCaption(p string) bool {
	s := strings.TrimRightFunc(p, unicode.IsSpace)
	s = strings.TrimSuffix(s, ".")
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	credit, ok := trailingGroup(s)
	if !ok {
		return false
	}
	credit = strings.TrimSpace(credit)
	if credit == "" || len(credit) > 100 {
		return false
	}
	return photoCredit(credit) || slashCredit(credit)
}

// trailingGroup returns the content of the bracketed group that ends s.
func trailingGroup(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	var open, close byte
	switch s[len(s)-1] {
	case ')':
		open, close = '(', ')'
	case ']':
		open, close = '[', ']'
	default:
		return "", false
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case close:
			depth++
		case open:
			depth--
			if depth == 0 {
				return s[i+1 : len(s)-1], true
			}
		}
	}
	return "", false
}

// photoWords start a credit, in the languages of the feeds.
var photoWords = []string{
	"photos", "photo", "fotos", "foto", "videos", "video", "images", "image",
	"pictures", "picture", "pic", "bild", "фото",
}

// photoCredit reports whether credit starts with a photo word followed by
// "by" (or its translation), a colon or a slash.
func photoCredit(credit string) bool {
	lower := strings.ToLower(credit)
	for _, w := range photoWords {
		after, ok := strings.CutPrefix(lower, w)
		if !ok {
			continue
		}
		after = strings.TrimLeftFunc(after, unicode.IsSpace)
		if strings.HasPrefix(after, ":") || strings.HasPrefix(after, "/") {
			return true
		}
		for _, by := range []string{"by ", "von ", "de ", "por ", "par ", "di "} {
			if strings.HasPrefix(after, by) {
				return true
			}
		}
		return false
	}
	return false
}

// lowerCredits are lower-case agency names that appear in credits.
var lowerCredits = map[string]bool{"dpa": true, "epa": true, "apa": true, "picture alliance": true, "dpa-zentralbild": true}

// slashCredit reports whether credit is two to four slash-separated names.
func slashCredit(credit string) bool {
	parts := strings.Split(credit, "/")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	hasLower := false
	for _, part := range parts {
		part = strings.TrimSpace(part)
		words := strings.Fields(part)
		if len(words) == 0 || len(words) > 5 || len(part) > 48 {
			return false
		}
		for _, r := range part {
			if !unicode.IsLetter(r) && !unicode.IsSpace(r) && !strings.ContainsRune(".'’-", r) {
				return false
			}
			if unicode.IsLower(r) {
				hasLower = true
			}
		}
		if !startsUpper(part) && !lowerCredits[strings.ToLower(part)] {
			return false
		}
	}
	return hasLower
}

// endMarks are paragraphs that are nothing but an agency's end mark,
// compared lower-cased with spaces collapsed.
var endMarks = map[string]bool{
	"■": true, "□": true, "▪": true, "(end)": true, "end": true, "ends": true,
	"(ends)": true, "-- end --": true, "--end--": true, "- end -": true,
	"###": true, "# # #": true, "xxx": true, "-30-": true, "(fin)": true,
	"fin": true, "ende": true, "(ende)": true, "(конец)": true, "конец": true,
	"koniec": true, "(koniec)": true, "fim": true, "(fim)": true,
}

// inlineMarks are end marks recognised at the end of the last paragraph,
// matched case-sensitively.
var inlineMarks = []string{"(END)", "(Ends)", "(ends)", "(end)", "-- END --", "ENDS", "xxx", "XXX", "###", "■", "□"}

// StripEndMark removes an agency end mark from the end of a body: a last
// paragraph that is only a mark, such as "■", "(END)", "ENDS", "-- END --",
// "###" or "xxx" (any case), or a mark that ends the last paragraph, as in
// "... in Berlin. ■" or "... said. (END)". A word mark at the end of a
// paragraph counts only after a space and the end of a sentence, so a
// sentence that ends "... the end" keeps its last word. Empty paragraphs
// after the mark go with it. It reports whether a mark was removed; paras is
// not modified.
func StripEndMark(paras []string) ([]string, bool) {
	n := len(paras)
	removed := false
	for n > 0 {
		p := strings.ToLower(strings.Join(strings.Fields(paras[n-1]), " "))
		switch {
		case p == "":
			n--
			continue
		case endMarks[p] || onlySquares(p):
			n--
			removed = true
			continue
		}
		break
	}
	if n == 0 {
		if removed {
			return paras[:0:0], true
		}
		return paras, false
	}
	last, ok := cutInlineMark(paras[n-1])
	if !ok {
		if removed {
			return slices.Clone(paras[:n]), true
		}
		return paras, false
	}
	out := slices.Clone(paras[:n])
	if last == "" {
		return out[:n-1], true
	}
	out[n-1] = last
	return out, true
}

// onlySquares reports whether p is made of square end marks and spaces.
func onlySquares(p string) bool {
	return strings.Trim(p, "■□▪ ") == ""
}

// cutInlineMark removes an end mark from the end of p.
func cutInlineMark(p string) (string, bool) {
	s := strings.TrimRightFunc(p, unicode.IsSpace)
	for _, m := range inlineMarks {
		head, ok := strings.CutSuffix(s, m)
		if !ok {
			continue
		}
		trimmed := strings.TrimRightFunc(head, unicode.IsSpace)
		if m == "■" || m == "□" {
			return trimmed, true
		}
		if len(trimmed) == len(head) {
			return "", false // no space before the mark: part of a word
		}
		if trimmed == "" {
			return "", true
		}
		r, _ := utf8.DecodeLastRuneInString(trimmed)
		if strings.ContainsRune(".!?\"”»'’)]", r) {
			return trimmed, true
		}
		return "", false
	}
	return "", false
}
