package newstext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dateline is the place, date and agency that open a wire story, as in
// "BEIJING, May 1 (Xinhua) --". Fields hold the text as written; Date is not
// parsed, and any of Date and Agency may be empty.
type Dateline struct {
	Place  string
	Date   string
	Agency string
}

// maxLead bounds how far into a paragraph a dateline's separator may be.
const maxLead = 120

// SplitDateline splits a wire dateline off the start of paragraph p:
//
//	BEIJING, May 1 (Xinhua) -- China firmly ...  -> {BEIJING, May 1, Xinhua}, "China firmly ..."
//	LIMA, Peru, May 2 (Reuters) - Peru's ...      -> {LIMA, May 2, Reuters}, "Peru's ..."
//	Berlin (dpa) - Die ...                        -> {Berlin, "", dpa}, "Die ..."
//	WASHINGTON — The Senate ...                   -> {WASHINGTON, "", ""}, "The Senate ..."
//
// The shape is PLACE[, REGION...][, DATE] [(AGENCY)] SEPARATOR TEXT, where the
// separator is "--", an em or en dash, or a hyphen with a space after it.
// Place is the words before the first comma or parenthesis: at most five
// words, written in capitals or Title Case; a region between place and date
// is checked the same way and then dropped. The date is the comma-separated
// parts that hold digits. To keep ordinary sentences such as
// "Xi said (in a call) -- that ..." or "Apple (AAPL) - shares ..." whole, a
// dateline with a Title Case place needs a date or a well-known agency, one
// without an agency needs its place in capitals, and the text after the
// separator must not be empty. ok is false, and rest is p, when p does not
// start with a dateline.
func SplitDateline(p string) (d Dateline, rest string, ok bool) {
	s := strings.TrimLeftFunc(p, unicode.IsSpace)
	start, end, hyphen := findSeparator(s)
	if start < 0 {
		return Dateline{}, p, false
	}
	lead := strings.TrimSpace(s[:start])
	rest = strings.TrimLeftFunc(s[end:], unicode.IsSpace)
	if lead == "" || rest == "" {
		return Dateline{}, p, false
	}

	before := lead
	if strings.HasSuffix(lead, ")") {
		open := strings.LastIndexByte(lead, '(')
		if open < 0 {
			return Dateline{}, p, false
		}
		d.Agency = strings.TrimSpace(lead[open+1 : len(lead)-1])
		before = strings.TrimSpace(lead[:open])
		if !validAgency(d.Agency) {
			return Dateline{}, p, false
		}
	} else if hyphen && !strings.HasSuffix(s[:start], " ") {
		return Dateline{}, p, false
	}
	if strings.ContainsAny(before, "()") {
		return Dateline{}, p, false
	}

	parts := strings.Split(before, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	d.Place = parts[0]
	upper, valid := checkPlace(d.Place)
	if !valid {
		return Dateline{}, p, false
	}
	var dates []string
	for _, part := range parts[1:] {
		if strings.ContainsFunc(part, unicode.IsDigit) {
			dates = append(dates, part)
			continue
		}
		if len(dates) > 0 {
			return Dateline{}, p, false // a region after the date
		}
		if _, valid := checkPlace(part); !valid {
			return Dateline{}, p, false
		}
	}
	if len(parts) > 4 {
		return Dateline{}, p, false
	}
	if len(dates) > 0 {
		d.Date = strings.Join(dates, ", ")
		if !validDate(d.Date) {
			return Dateline{}, p, false
		}
	}

	switch {
	case d.Agency == "" && !upper:
		return Dateline{}, p, false
	case d.Agency != "" && !upper && d.Date == "" && !knownAgency(d.Agency):
		return Dateline{}, p, false
	}
	return d, rest, true
}

// findSeparator finds the first dateline separator outside parentheses in
// the first maxLead bytes of s: "--" (or a longer run of hyphens), an em, en
// or horizontal bar dash, or a hyphen followed by a space. It returns the
// byte range of the separator, and whether it is a single hyphen; start is
// -1 when there is none.
func findSeparator(s string) (start, end int, hyphen bool) {
	depth := 0
	for i := 0; i < len(s) && i < maxLead; {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '(':
			depth++
		case r == ')':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case r == '\u2014' || r == '\u2013' || r == '\u2015':
			return i, i + size, false
		case r == '-' && strings.HasPrefix(s[i:], "--"):
			j := i
			for j < len(s) && s[j] == '-' {
				j++
			}
			return i, j, false
		case r == '-' && i > 0 && (s[i-1] == ' ' || s[i-1] == ')') && strings.HasPrefix(s[i+1:], " "):
			return i, i + 1, true
		case r == '.' || r == ';' || r == ':' || r == '!' || r == '?' || r == '"':
			// A sentence or a quote comes before any separator: not a
			// dateline. The dot of "St." or "Jan." is let through.
			if r != '.' || !abbrevDot(s[:i]) {
				return -1, -1, false
			}
		}
		i += size
	}
	return -1, -1, false
}

// abbrevDot reports whether a dot after head ends a short abbreviation such
// as "St", "Ft" or "Sept", or a day number as in "1. Mai".
func abbrevDot(head string) bool {
	i := strings.LastIndexFunc(head, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	w := head[i+1:]
	return w != "" && utf8.RuneCountInString(w) <= 4
}

// connectors are the lower-case words allowed inside a place name, as in
// "Rio de Janeiro" or "Frankfurt am Main".
var connectors = map[string]bool{
	"de": true, "del": true, "la": true, "las": true, "los": true, "el": true,
	"do": true, "da": true, "dos": true, "das": true, "di": true, "du": true,
	"des": true, "le": true, "les": true, "am": true, "an": true, "im": true,
	"der": true, "sur": true, "upon": true, "on": true, "of": true, "y": true,
	"e": true, "i": true, "et": true, "en": true, "au": true, "aux": true,
	"na": true, "nad": true, "pod": true, "w": true, "von": true, "van": true,
	"bei": true, "al": true, "es": true,
}

// checkPlace reports whether s can be a place name: one to five words of
// letters (and . ' ’ - /), the first capitalised and the others capitalised
// or connectors. upper reports whether all its letters are capitals.
func checkPlace(s string) (upper, valid bool) {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 5 || len(s) > 48 {
		return false, false
	}
	for i, w := range words {
		for _, r := range w {
			if !unicode.IsLetter(r) && !strings.ContainsRune(".'’-/", r) {
				return false, false
			}
		}
		if !startsUpper(w) && (i == 0 || !connectors[w]) {
			return false, false
		}
	}
	return isUpperWord(strings.Join(words, "")), true
}

// validAgency reports whether s can be an agency name: one to four words of
// letters (and - / . & '), capitalised, or a single short or well-known
// lower-case word such as "dpa" or "dpa-AFX".
func validAgency(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 4 || len(s) > 40 {
		return false
	}
	for _, w := range words {
		for _, r := range w {
			if !unicode.IsLetter(r) && !strings.ContainsRune("-/.&'’", r) {
				return false
			}
		}
		if !startsUpper(w) && !(len(words) == 1 && (utf8.RuneCountInString(w) <= 5 || knownAgency(w))) {
			return false
		}
	}
	return true
}

// knownAgencies are agencies whose datelines may have a Title Case place and
// no date, as in "Berlin (dpa) -". Matched case-insensitively, on the whole
// agency or on its part before a slash ("dpa/AFX").
var knownAgencies = map[string]bool{
	"ap": true, "afp": true, "reuters": true, "xinhua": true, "dpa": true,
	"dpa-afx": true, "efe": true, "ansa": true, "tass": true, "ria novosti": true,
	"interfax": true, "kyodo": true, "jiji": true, "yonhap": true, "pap": true,
	"ctk": true, "apa": true, "sda": true, "kna": true, "epd": true, "bernama": true,
	"antara": true, "anadolu": true, "aa": true, "pti": true, "ians": true,
	"upi": true, "cna": true, "lusa": true, "agerpres": true, "mti": true,
	"bta": true, "hina": true, "tanjug": true, "belga": true, "anp": true,
	"tt": true, "ntb": true, "ritzau": true, "stt": true, "ukrinform": true,
	"europa press": true, "notimex": true, "andina": true, "télam": true,
	"telam": true, "agência brasil": true, "agencia brasil": true,
}

func knownAgency(s string) bool {
	s = strings.ToLower(s)
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return knownAgencies[strings.TrimSpace(s)]
}

// validDate reports whether s can be the date of a dateline: at most five
// words and 32 bytes, each a number or a word (a month name in any
// language), with at least one number.
func validDate(s string) bool {
	words := strings.Fields(strings.ReplaceAll(s, ",", " "))
	if len(words) == 0 || len(words) > 5 || len(s) > 32 {
		return false
	}
	number := false
	for _, w := range words {
		w = strings.TrimSuffix(w, ".")
		switch {
		case w == "":
			return false
		case strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) < 0:
			number = true
		case strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) < 0:
		default:
			return false
		}
	}
	return number
}
