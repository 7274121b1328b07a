// Package textdump parses the "text dump" wire format: a few "Key : value"
// header lines, a body marker, then the article body with one paragraph per
// line.
//
//	URL : http://www.example.com/2020-05/01/c_1.htm
//	ID : XINH2020050100060
//
//	Date : 2020-05-01 10:15:28
//	Title : A headline
//	Ariticle :
//	First paragraph.
//	Second paragraph.
//
// The body marker is spelled "Ariticle" in the feeds that use this format;
// "Article" is accepted as well. Keys are matched case-insensitively and the
// spaces around the colon are optional.
//
// Parse works on decoded text: repair mojibake (see pkg/textfix) before
// parsing, since trimming a line also trims the no-break space that some
// mojibake sequences end in.
package textdump

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSize is the largest input, in bytes, that Parse accepts.
const MaxSize = 4 << 20

// Doc is a parsed text dump.
type Doc struct {
	URL   string `json:"url,omitempty"`
	ID    string `json:"id,omitempty"`
	Date  string `json:"date,omitempty"`
	Title string `json:"title"`
	// Body holds the body lines in order, each trimmed; blank lines are
	// dropped. Nothing else is changed: captions, datelines and end marks
	// are left for the caller (see internal/newstext).
	Body []string `json:"body"`
	// Extra holds header lines other than URL, ID, Date and Title, keyed by
	// the lower-cased key. It is nil when there are none.
	Extra map[string]string `json:"extra,omitempty"`
}

// Sentinel errors returned by Parse, to be tested with errors.Is. Reason
// gives the short code of each, for use as a metric label.
var (
	// ErrTooLarge: the input is longer than MaxSize ("too_large").
	ErrTooLarge = errors.New("textdump: input too large")
	// ErrNotTextDump: no URL, ID, Date or Title header and no body marker
	// ("not_textdump").
	ErrNotTextDump = errors.New("textdump: not a text dump")
	// ErrNoBody: the body marker is missing or the body is empty ("no_body").
	ErrNoBody = errors.New("textdump: no body")
	// ErrMissingField: a required header is missing; the error is a
	// *MissingFieldError naming it ("missing_<field>").
	ErrMissingField = errors.New("textdump: missing required field")
)

// MissingFieldError reports a required header that is absent or empty.
// errors.Is(err, ErrMissingField) holds for it.
type MissingFieldError struct {
	// Field is "title", or "id_and_url" when neither ID nor URL is given.
	Field string
}

func (e *MissingFieldError) Error() string {
	return "textdump: missing " + strings.ReplaceAll(e.Field, "_", " ")
}

// Is reports whether target is ErrMissingField.
func (e *MissingFieldError) Is(target error) bool { return target == ErrMissingField }

// Reason returns a short, stable code for err, suitable as a metric label:
// "too_large", "not_textdump", "no_body", "missing_title",
// "missing_id_and_url"; "" for nil and "other" for errors not from this
// package.
func Reason(err error) string {
	var mf *MissingFieldError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &mf):
		return "missing_" + mf.Field
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrNotTextDump):
		return "not_textdump"
	case errors.Is(err, ErrNoBody):
		return "no_body"
	}
	return "other"
}

// maxKeyLen bounds a header key, so that prose with a colon in it is not
// taken for a header.
const maxKeyLen = 32

// Parse parses a text dump.
//
// Lines may end in LF, CRLF or CR; a leading byte order mark, blank lines and
// spaces around lines are ignored. The header runs up to the body marker. A
// header line that is not of the form "Key : value" continues the value of
// the header before it, as a wrapped title does. When a key repeats, the
// first non-empty value is kept. Everything after the marker is body; text
// after the marker on its own line is the first body line.
//
// A Doc needs a Title, an ID or a URL, and a non-empty body; Date is
// optional. Parse returns an error wrapping one of the sentinel errors of
// this package otherwise.
func Parse(text string) (*Doc, error) {
	if len(text) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(text), MaxSize)
	}
	text = strings.TrimPrefix(text, "\uFEFF")

	doc := &Doc{}
	var (
		known    bool   // a URL, ID, Date or Title header was seen
		marker   bool   // the body marker was seen
		lastKey  string // key of the previous header line, for continuations
		anyLines bool   // a non-blank line was seen
	)
	for rest := text; rest != ""; {
		var line string
		line, rest = nextLine(rest)
		line = strings.TrimSpace(line)
		if marker {
			if line != "" {
				doc.Body = append(doc.Body, line)
			}
			continue
		}
		if line == "" {
			continue
		}
		anyLines = true
		key, value, ok := splitHeader(line)
		if !ok {
			if lastKey == "" {
				// Prose before any header: not this format.
				return nil, fmt.Errorf("%w: first line is not a header", ErrNotTextDump)
			}
			doc.appendTo(lastKey, line)
			continue
		}
		if isMarker(key) {
			marker = true
			if value != "" {
				doc.Body = append(doc.Body, value)
			}
			continue
		}
		switch key {
		case "url", "id", "date", "title":
			known = true
		}
		doc.set(key, value)
		lastKey = key
	}

	switch {
	case !known && !marker:
		if !anyLines {
			return nil, fmt.Errorf("%w: empty input", ErrNotTextDump)
		}
		return nil, fmt.Errorf("%w: no URL, ID, Date or Title header", ErrNotTextDump)
	case doc.Title == "":
		return nil, &MissingFieldError{Field: "title"}
	case doc.ID == "" && doc.URL == "":
		return nil, &MissingFieldError{Field: "id_and_url"}
	case !marker:
		return nil, fmt.Errorf("%w: body marker missing", ErrNoBody)
	case len(doc.Body) == 0:
		return nil, fmt.Errorf("%w: body is empty", ErrNoBody)
	}
	return doc, nil
}

// Sniff reports whether text looks like a text dump: its first non-blank
// line is a URL, ID, Date or Title header. It reads only the start of text.
func Sniff(text string) bool {
	const window = 4096
	if len(text) > window {
		text = text[:window]
	}
	text = strings.TrimPrefix(text, "\uFEFF")
	for rest := text; rest != ""; {
		var line string
		line, rest = nextLine(rest)
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, _, ok := splitHeader(line)
		if !ok {
			return false
		}
		switch key {
		case "url", "id", "date", "title":
			return true
		}
		return false
	}
	return false
}

// nextLine returns the first line of s, without its line end, and the rest.
// A line ends in "\n", "\r\n" or a lone "\r".
func nextLine(s string) (line, rest string) {
	i := strings.IndexAny(s, "\r\n")
	if i < 0 {
		return s, ""
	}
	line, rest = s[:i], s[i+1:]
	if s[i] == '\r' && strings.HasPrefix(rest, "\n") {
		rest = rest[1:]
	}
	return line, rest
}

// splitHeader splits a trimmed line "Key : value" into the lower-cased key and
// the trimmed value. A key is a short run of letters, digits, spaces, '-',
// '_' and '.', starting with a letter, of at most three words. A value that
// starts with "//" means the line is a bare URL, not a header.
func splitHeader(line string) (key, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimSpace(line[:i])
	value = strings.TrimSpace(line[i+1:])
	if key == "" || len(key) > maxKeyLen || strings.HasPrefix(value, "//") {
		return "", "", false
	}
	r, _ := utf8.DecodeRuneInString(key)
	if !unicode.IsLetter(r) {
		return "", "", false
	}
	for _, r := range key {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == ' ', r == '-', r == '_', r == '.':
		default:
			return "", "", false
		}
	}
	if strings.Count(key, " ") > 2 {
		return "", "", false
	}
	return strings.ToLower(strings.Join(strings.Fields(key), " ")), value, true
}

// isMarker reports whether key (lower-cased) is the body marker.
func isMarker(key string) bool {
	return key == "ariticle" || key == "article"
}

// set stores a header value; the first non-empty value of a key wins.
func (d *Doc) set(key, value string) {
	if p := d.field(key); p != nil {
		if *p == "" {
			*p = value
		}
		return
	}
	if d.Extra == nil {
		d.Extra = make(map[string]string)
	}
	if d.Extra[key] == "" {
		d.Extra[key] = value
	}
}

// appendTo adds a continuation line to the value of key.
func (d *Doc) appendTo(key, line string) {
	if p := d.field(key); p != nil {
		*p = joinSpace(*p, line)
		return
	}
	d.Extra[key] = joinSpace(d.Extra[key], line)
}

func (d *Doc) field(key string) *string {
	switch key {
	case "url":
		return &d.URL
	case "id":
		return &d.ID
	case "date":
		return &d.Date
	case "title":
		return &d.Title
	}
	return nil
}

func joinSpace(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}
