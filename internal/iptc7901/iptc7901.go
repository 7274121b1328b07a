// Package iptc7901 reads IPTC 7901 teletype transmissions (the framing
// ANPA-1312 shares) into stories.
//
// A transmission holds one or more messages. Each is framed by control
// characters:
//
//	SOH header line            \x01bdt0000 3 pl 1609  dpa 0000
//	keyword line(s)            Vorschau/Politik/Deutschland/
//	STX text                   \x02(Eil)
//	                           Headline line(s) =
//
//	                           Body ...
//	ETX date-time group        \x03240942 Sep 24
//	DEL fill, EOT              \x7f \x7f\x04
//
// A message starts at SOH (or at STX when it has no header) and ends at
// EOT, at the next SOH or at an STX after its ETX. Text outside messages
// (line noise, SYN fill) is ignored. Line ends may be CRLF, LF or CR.
//
// # Header
//
// The header line is read by position, as dpa writes it: selector and
// sequence number ("bdt0000": service "bdt", number 0000), priority,
// category, word count, agency ("dpa", "dpa-spe", or a regional service
// such as "lni"), agency sequence number and an optional reference.
// Provider is the agency field as written. The lines between the header
// and STX are the keyword line ("Partei/Deutschland/Grüne/"); its
// slash-separated keywords, without repeats and at most 100, are the
// Subjects.
//
// SourceID is built from the header when either sequence number is not
// zero: "<selector><number>/<agency><number>/<yyyymmddhhmm>" (the date
// from the date-time group, since sequence numbers restart), missing parts
// left out. Transmissions whose numbers are 0000, as the corpus samples
// are, get "sha256:" and the first 32 hex digits of the SHA-256 of the
// text between STX and ETX (control characters removed, line ends
// normalised), so a repeated message gets the same ID and a changed one a
// new ID.
//
// # Date
//
// The date-time group after ETX is DDHHMM MMM YY, "251037 Sep 24" for
// 25 September 2024 10:37, with English or German month abbreviations
// (Okt, Dez, Mär, Mai ...). Date is written "2024-09-25T10:37" without an
// offset: the group is the agency's wall-clock time, and the normalizer
// applies the source's zone. A group that cannot be read leaves Date
// empty.
//
// # Headline
//
// The text opens with a headline block ending in " =" (the 7901 end of
// headline), possibly wrapped over several lines. In it, leading lines in
// parentheses are notes: "(Eil)" or "(Blitz)" is the priority, "(KORR-
// Bericht)" a genre, "(Berichtigung: ...)" a correction and
// "(Aktualisierung ...)" an update, which give the "correction" and
// "update" Signals; the English and Spanish forms ("Correction", "Update",
// "VERSIÓN CORREGIDA") are read too. "(Achtung) ...", "KILL KILL KILL" and
// "*** ELIMINAR - ELIMINAR ***" withdraw a story: Signals "kill" and
// PubStatus "canceled"; the notice after "(Achtung)" runs to the first line
// that ends a sentence. Trailing parenthesised lines such as
// "(Foto Produktion)" are editorial notes and are dropped. A last line
// starting "Von ", "By ", "Por " or "Par " is the Byline. What remains is
// the Title, its lines joined with a space (without one after a hyphen
// that ends a line before a capital, as in "Grünen-" "Spitze"). When no
// line of the first block ends in "=", a first block of at most three
// lines followed by more text is the headline; otherwise there is none.
//
// # Body
//
// The body runs from the headline to the notepad, a line starting "# "
// after a blank line ("# Notizblock": editorial notes, contacts, not for
// publication), or to ETX. A closing line such as "dpa kre/su yysw a3 lön
// mda" (the agency and editors' initials) at its end is dropped.
//
// Paragraphs: the body is split at blank lines, and inside a block a line
// starts a new paragraph when
//
//   - it is indented (after removing the indentation all lines share) and
//     does not continue a list item: old wire copy indents paragraphs;
//   - it is an indented list item ("  * ") or a table row ("|"): each row
//     is a paragraph, with its runs of spaces collapsed;
//   - or its first word would have fitted at the end of the line before:
//     teletype text is wrapped greedily at a fixed width (69 at dpa), so
//     such a short line ends a paragraph or a line of a list. The width is
//     taken as the longest line that another line follows; below 40
//     nothing is taken to be wrapped.
//
// Other lines continue the paragraph and are joined with a space.
//
// dpa stories may open with a teaser paragraph before the one that holds
// the dateline ("Peine (dpa/lni) - ..."). When the first paragraph has no
// dateline and the second starts with one that names an agency, that
// dateline is taken out of the second paragraph and put in Dateline, since
// the normalizer looks for a dateline only in the first paragraph.
//
// # Control characters, charset, errors and limits
//
// Bytes are decoded with textfix.Decode (the corpus is UTF-8; legacy
// 8-bit text is read as windows-1252) and its repairs go to Fixes. Stray
// control characters in the header, keywords and text (BEL, which marks
// flashes, and any other C0 control or DEL but tab and line ends) are
// removed and recorded in Fixes as "control-chars"; the DEL fill after ETX
// is framing and is not.
//
// Input without SOH or STX returns a *story.ParseError with Reason
// "iptc7901_no_framing", a message whose text is empty "iptc7901_no_body";
// a message with a headline and no body is a story with an empty Body. In
// a transmission of several messages the messages that parse are returned
// and broken ones are dropped; only when none parses is the first error
// returned. Inputs larger than story.MaxInputBytes ("iptc7901_too_large")
// or with more than story.MaxItems messages ("iptc7901_too_many_stories")
// are refused.
package iptc7901

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wirefeed/wirefeed/internal/newstext"
	"github.com/wirefeed/wirefeed/internal/story"
	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// Format is the story.Story Format of every story Parse returns.
const Format = "iptc7901"

// Reasons of the *story.ParseError values Parse returns.
const (
	ReasonNoFraming      = "iptc7901_no_framing"
	ReasonNoBody         = "iptc7901_no_body"
	ReasonTooLarge       = "iptc7901_too_large"
	ReasonTooManyStories = "iptc7901_too_many_stories"
)

// Framing characters.
const (
	soh = '\x01'
	stx = '\x02'
	etx = '\x03'
	eot = '\x04'
)

// Parse reads a transmission into its stories. See the package
// documentation for the fields, the paragraph rule and the errors.
func Parse(b []byte) ([]story.Story, error) {
	if len(b) > story.MaxInputBytes {
		return nil, &story.ParseError{Reason: ReasonTooLarge, Err: fmt.Errorf("%d bytes, limit %d", len(b), story.MaxInputBytes)}
	}
	// Decode reports an error only for an unknown charset given as its
	// second argument, and none is given; the text is its best reading.
	text, fixes, _ := textfix.Decode(b, "")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	msgs := messages(text)
	if len(msgs) == 0 {
		return nil, &story.ParseError{Reason: ReasonNoFraming, Err: errors.New("no SOH or STX: not an IPTC 7901 transmission")}
	}
	if len(msgs) > story.MaxItems {
		return nil, &story.ParseError{Reason: ReasonTooManyStories, Err: fmt.Errorf("more than %d messages", story.MaxItems)}
	}
	var stories []story.Story
	var first error
	for _, m := range msgs {
		st, err := parseMessage(m)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		st.Fixes = append(slices.Clone(fixes), st.Fixes...)
		stories = append(stories, st)
	}
	if len(stories) == 0 {
		return nil, first
	}
	return stories, nil
}

// messages splits a transmission into messages: each starts at SOH, or at
// STX when no SOH comes first, and ends before EOT, the next SOH or an STX
// after its ETX.
func messages(text string) []string {
	var msgs []string
	next := -1 // the next SOH or EOT after a message's start, kept so that the text is scanned once
	for i := 0; i < len(text) && len(msgs) <= story.MaxItems; {
		start := strings.IndexAny(text[i:], "\x01\x02")
		if start < 0 {
			break
		}
		start += i
		if next <= start {
			next = len(text)
			if j := strings.IndexAny(text[start+1:], "\x01\x04"); j >= 0 {
				next = start + 1 + j
			}
		}
		end := next
		if e := strings.IndexByte(text[start:end], etx); e >= 0 {
			if j := strings.IndexByte(text[start+e:end], stx); j >= 0 {
				end = start + e + j
			}
		}
		msgs = append(msgs, text[start:end])
		i = end
		if i < len(text) && text[i] == eot {
			i++
		}
	}
	return msgs
}

// header is the SOH line, read by position.
type header struct {
	service, number      string
	priority, category   string
	words                string
	agency, agencyNumber string
}

func parseHeader(line string) header {
	var h header
	f := strings.Fields(line)
	field := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	sel := field(0)
	cut := len(sel)
	for cut > 0 && sel[cut-1] >= '0' && sel[cut-1] <= '9' {
		cut--
	}
	h.service, h.number = sel[:cut], sel[cut:]
	h.priority, h.category, h.words = field(1), field(2), field(3)
	h.agency, h.agencyNumber = field(4), field(5)
	return h
}

// parseMessage reads one message.
func parseMessage(m string) (story.Story, error) {
	var headLine string
	rest := m
	if rest[0] == soh {
		rest = rest[1:]
		if j := strings.IndexAny(rest, "\n\x02"); j >= 0 {
			headLine, rest = rest[:j], rest[j:]
		} else {
			headLine, rest = rest, ""
		}
	}
	k := strings.IndexByte(rest, stx)
	if k < 0 {
		return story.Story{}, &story.ParseError{Reason: ReasonNoFraming, Err: fmt.Errorf("message %q has no STX", truncate(headLine))}
	}
	preamble, text, trailer := rest[:k], rest[k+1:], ""
	if e := strings.IndexByte(text, etx); e >= 0 {
		text, trailer = text[:e], text[e+1:]
	}
	var dirty bool
	clean := func(s string) string {
		c, removed := removeControls(s)
		dirty = dirty || removed
		return c
	}
	h := parseHeader(clean(headLine))
	preamble, text = clean(preamble), clean(text)
	trailer, _ = removeControls(trailer)

	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	normalized := strings.TrimSpace(strings.Join(lines, "\n"))
	if normalized == "" {
		return story.Story{}, &story.ParseError{Reason: ReasonNoBody, Err: fmt.Errorf("message %q has no text", truncate(headLine))}
	}

	st := story.Story{Format: Format, Provider: h.agency, Subjects: keywords(preamble)}
	date, key := parseDTG(trailer)
	st.Date = date
	st.SourceID = sourceID(h, key, normalized)
	if dirty {
		st.Fixes = []string{"control-chars"}
	}

	head, body := splitHeadline(lines)
	hl := readHeadline(head)
	st.Title, st.Byline, st.Signals = hl.title, hl.byline, hl.signals
	if hl.kill {
		st.PubStatus = "canceled"
	}
	paras := paragraphs(trimBody(body))
	if len(paras) >= 2 {
		if _, _, ok := newstext.SplitDateline(paras[0]); !ok {
			if d, rest, ok := newstext.SplitDateline(paras[1]); ok && d.Agency != "" {
				st.Dateline = &story.Dateline{Place: d.Place, Date: d.Date, Agency: d.Agency}
				paras[1] = rest
			}
		}
	}
	st.Body = paras
	return st, nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// removeControls removes C0 control characters other than tab and line
// feed, and DEL, and reports whether it removed any.
func removeControls(s string) (string, bool) {
	isControl := func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f }
	if !strings.ContainsFunc(s, isControl) {
		return s, false
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, s), true
}

// maxKeywords bounds the keywords kept from a message: real keyword lines
// hold a handful.
const maxKeywords = 100

// keywords splits the keyword lines at slashes and keeps the first
// maxKeywords distinct ones.
func keywords(preamble string) []string {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(preamble, "\n") {
		for _, k := range strings.Split(line, "/") {
			if len(out) == maxKeywords {
				return out
			}
			if k = strings.Join(strings.Fields(k), " "); k != "" && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// sourceID names the message by its header numbers or, when they are
// zero, by a hash of its text.
func sourceID(h header, dateKey, text string) string {
	nonZero := func(s string) bool { return strings.Trim(s, "0") != "" }
	if nonZero(h.number) || nonZero(h.agencyNumber) {
		var parts []string
		if sel := h.service + h.number; sel != "" {
			parts = append(parts, sel)
		}
		if a := h.agency + h.agencyNumber; a != "" {
			parts = append(parts, a)
		}
		if dateKey != "" {
			parts = append(parts, dateKey)
		}
		return strings.Join(parts, "/")
	}
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// months maps English and German month names and abbreviations, lower
// case, to months.
var months = map[string]time.Month{
	"jan": 1, "januar": 1, "january": 1, "jän": 1, "jänner": 1,
	"feb": 2, "februar": 2, "february": 2,
	"mar": 3, "mär": 3, "mrz": 3, "märz": 3, "march": 3,
	"apr": 4, "april": 4,
	"may": 5, "mai": 5,
	"jun": 6, "juni": 6, "june": 6,
	"jul": 7, "juli": 7, "july": 7,
	"aug": 8, "august": 8,
	"sep": 9, "sept": 9, "september": 9,
	"oct": 10, "okt": 10, "oktober": 10, "october": 10,
	"nov": 11, "november": 11,
	"dec": 12, "dez": 12, "dezember": 12, "december": 12,
}

// parseDTG reads the date-time group "DDHHMM MMM YY" on the first
// non-blank line of s. It returns the date as "2006-01-02T15:04" and as
// "200601021504" for IDs, or empty strings.
func parseDTG(s string) (date, key string) {
	var f []string
	for _, line := range strings.Split(s, "\n") {
		if f = strings.Fields(line); len(f) > 0 {
			break
		}
	}
	if len(f) < 3 || len(f[0]) != 6 || !allDigits(f[0]) || !allDigits(f[2]) {
		return "", ""
	}
	day, hour, minute := atoi(f[0][:2]), atoi(f[0][2:4]), atoi(f[0][4:])
	month := months[strings.ToLower(strings.TrimSuffix(f[1], "."))]
	year := atoi(f[2])
	switch len(f[2]) {
	case 2:
		if year += 2000; year >= 2070 {
			year -= 100
		}
	case 4:
	default:
		return "", ""
	}
	t := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	if month == 0 || hour > 23 || minute > 59 || t.Day() != day || t.Month() != month {
		return "", ""
	}
	return t.Format("2006-01-02T15:04"), t.Format("200601021504")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi reads a short run of ASCII digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// sniffLen is how far into a text Sniff looks.
const sniffLen = 4096

// Sniff reports whether text looks like an IPTC 7901 transmission, for
// callers that must guess an input's format: within its first 4 KiB an
// STX follows an SOH, or the text starts with STX.
func Sniff(text string) bool {
	head := text[:min(len(text), sniffLen)]
	if strings.HasPrefix(head, string(stx)) {
		return true
	}
	i := strings.IndexByte(head, soh)
	return i >= 0 && strings.IndexByte(head[i:], stx) > 0
}
