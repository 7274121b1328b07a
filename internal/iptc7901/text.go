package iptc7901

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// blank reports whether a line holds only white space.
func blank(l string) bool { return strings.TrimSpace(l) == "" }

// splitHeadline separates the headline block (its " =" removed) from the
// lines after it. lines are right-trimmed.
func splitHeadline(lines []string) (head, rest []string) {
	i := 0
	for i < len(lines) && blank(lines[i]) {
		i++
	}
	j := i
	for j < len(lines) && !blank(lines[j]) {
		j++
	}
	for k := i; k < j; k++ {
		if strings.HasSuffix(lines[k], "=") {
			head = slices.Clone(lines[i : k+1])
			head[len(head)-1] = strings.TrimSpace(strings.TrimSuffix(head[len(head)-1], "="))
			return head, lines[k+1:]
		}
	}
	if j-i <= 3 && slices.ContainsFunc(lines[j:], func(l string) bool { return !blank(l) }) {
		return lines[i:j], lines[j:]
	}
	return nil, lines[i:]
}

// headline is what a headline block says.
type headline struct {
	title, byline string
	signals       []string
	kill          bool
}

// noteSignals maps the first word of a parenthesised note, lower case, to
// the signal it gives.
var noteSignals = map[string]string{
	"berichtigung": "correction", "korrektur": "correction", "correction": "correction",
	"corrección": "correction", "aktualisierung": "update", "update": "update",
	"actualización": "update",
}

// signalLines are whole headline lines, lower case, that give a signal.
var signalLines = map[string]string{
	"correction": "correction", "berichtigung": "correction",
	"versión corregida": "correction", "update": "update",
	"aktualisierung": "update", "actualización": "update",
	"kill kill kill": "kill", "*** eliminar - eliminar ***": "kill",
	"atencion redacciones": "", "atención redacciones": "",
	"refile": "", "wiederholung": "", "rpt rpt": "",
}

// bylinePrefixes start a byline line.
var bylinePrefixes = []string{"Von ", "By ", "Por ", "Par "}

// readHeadline reads a headline block.
func readHeadline(lines []string) headline {
	var h headline
	addSignal := func(s string) {
		if s != "" && !slices.Contains(h.signals, s) {
			h.signals = append(h.signals, s)
		}
		if s == "kill" {
			h.kill = true
		}
	}
	units := group(lines)
	for len(units) > 0 {
		u := units[0]
		if s, ok := signalLines[strings.ToLower(u)]; ok {
			addSignal(s)
		} else if rest, ok := strings.CutPrefix(u, "(Achtung)"); ok && (rest == "" || rest[0] == ' ') {
			addSignal("kill")
			// The notice after "(Achtung)" is a sentence that may be
			// wrapped: it runs to the first line that ends one, leaving
			// at least one line for the title.
			for !sentenceEnd(units[0]) && len(units) > 2 {
				units = units[1:]
			}
		} else if inner, ok := note(u); ok {
			word, _, _ := strings.Cut(strings.TrimSpace(inner), " ")
			addSignal(noteSignals[strings.ToLower(strings.TrimRight(word, ":"))])
		} else {
			break
		}
		units = units[1:]
	}
	for len(units) > 1 {
		if _, ok := note(units[len(units)-1]); !ok {
			break
		}
		units = units[:len(units)-1]
	}
	if n := len(units); n > 1 {
		for _, p := range bylinePrefixes {
			if strings.HasPrefix(units[n-1], p) {
				h.byline = units[n-1]
				units = units[:n-1]
				break
			}
		}
	}
	h.title = joinLines(units)
	return h
}

// sentenceEnd reports whether u ends a sentence.
func sentenceEnd(u string) bool {
	return strings.HasSuffix(u, ".") || strings.HasSuffix(u, "!")
}

// maxNoteLines bounds the lines of a parenthesised note.
const maxNoteLines = 10

// group joins the lines of a parenthesised note that runs over several
// lines (at most maxNoteLines) into one unit; other lines are units of
// their own. Units are trimmed.
func group(lines []string) []string {
	var units []string
	for i := 0; i < len(lines); i++ {
		u := strings.TrimSpace(lines[i])
		if strings.HasPrefix(u, "(") {
			parts := []string{u}
			depth := strings.Count(u, "(") - strings.Count(u, ")")
			for depth > 0 && i+1 < len(lines) && len(parts) < maxNoteLines {
				i++
				next := strings.TrimSpace(lines[i])
				parts = append(parts, next)
				depth += strings.Count(next, "(") - strings.Count(next, ")")
			}
			u = strings.Join(parts, " ")
		}
		if u != "" {
			units = append(units, u)
		}
	}
	return units
}

// note returns the text inside u when u is wholly in parentheses.
func note(u string) (string, bool) {
	if !strings.HasPrefix(u, "(") || !strings.HasSuffix(u, ")") {
		return "", false
	}
	depth := 0
	for i, r := range u {
		switch r {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 && i != len(u)-1 {
				return "", false
			}
		}
	}
	return u[1 : len(u)-1], depth == 0
}

// joinLines joins wrapped lines with a space, or without one after a
// hyphen that ends a line after a letter when the next line starts with a
// capital ("Grünen-" "Spitze").
func joinLines(lines []string) string {
	var sb strings.Builder
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			continue
		}
		if sb.Len() > 0 {
			prev := sb.String()
			r, _ := utf8.DecodeRuneInString(l)
			if !(hyphenEnd(prev) && unicode.IsUpper(r)) {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(l)
	}
	return sb.String()
}

// hyphenEnd reports whether s ends in a hyphen after a letter.
func hyphenEnd(s string) bool {
	head, ok := strings.CutSuffix(s, "-")
	if !ok {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(head)
	return unicode.IsLetter(r)
}

// trimBody cuts the body at the notepad and drops a closing line of
// initials at its end.
func trimBody(lines []string) []string {
	for i, l := range lines {
		if strings.HasPrefix(l, "# ") && (i == 0 || blank(lines[i-1])) {
			lines = lines[:i]
			break
		}
	}
	for len(lines) > 0 && blank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	if n := len(lines); n > 0 && (n == 1 || blank(lines[n-2])) && closingLine(lines[n-1]) {
		lines = lines[:n-1]
	}
	for len(lines) > 0 && blank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// closingLine reports whether l is a closing line such as "dpa s5" or
// "dpa kre/su yysw a3 lön mda": an agency name starting with dpa and a few
// short lower-case codes.
func closingLine(l string) bool {
	f := strings.Fields(l)
	if len(f) < 2 || len(f) > 10 || len(l) > 60 || !strings.HasPrefix(f[0], "dpa") {
		return false
	}
	for _, w := range f {
		for _, r := range w {
			if !unicode.IsLower(r) && !unicode.IsDigit(r) && !strings.ContainsRune("/-.", r) {
				return false
			}
		}
	}
	return true
}

// minWrapWidth is the narrowest line width taken to be a wrap width.
const minWrapWidth = 40

// paragraphs splits body lines into paragraphs; see the package
// documentation for the rule.
func paragraphs(lines []string) []string {
	indent := -1
	for _, l := range lines {
		if !blank(l) {
			n := len(l) - len(strings.TrimLeft(l, " \t"))
			if indent < 0 || n < indent {
				indent = n
			}
		}
	}
	body := make([]string, len(lines))
	for i, l := range lines {
		if !blank(l) {
			body[i] = strings.TrimRightFunc(l[indent:], unicode.IsSpace)
		}
	}
	width := 0
	for i := 0; i+1 < len(body); i++ {
		if body[i] != "" && body[i+1] != "" && !strings.HasPrefix(strings.TrimSpace(body[i]), "|") {
			width = max(width, utf8.RuneCountInString(body[i]))
		}
	}

	var paras, cur []string
	var prev string
	var inList, inTable bool
	flush := func() {
		if p := strings.Join(strings.Fields(strings.Join(cur, " ")), " "); p != "" {
			paras = append(paras, p)
		}
		cur = cur[:0]
	}
	for _, l := range body {
		if l == "" {
			flush()
			continue
		}
		text := strings.TrimLeft(l, " \t")
		indented := len(text) < len(l)
		item := listItem(text)
		row := strings.HasPrefix(text, "|")
		first, _, _ := strings.Cut(text, " ")
		if len(cur) == 0 || row || inTable || (indented && (item || !inList)) || fits(prev, first, width) {
			flush()
			inList, inTable = item, row
		}
		cur = append(cur, text)
		prev = l
	}
	flush()
	return paras
}

// listItem reports whether a line starts with a list bullet.
func listItem(text string) bool {
	for _, b := range []string{"* ", "- ", "+ ", "• ", "– "} {
		if strings.HasPrefix(text, b) {
			return true
		}
	}
	return false
}

// fits reports whether word would have fitted at the end of prev in a
// text wrapped at width.
func fits(prev, word string, width int) bool {
	return width >= minWrapWidth && utf8.RuneCountInString(prev)+1+utf8.RuneCountInString(word) <= width
}
