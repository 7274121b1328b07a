package textfix

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// ErrUnknownCharset is returned (wrapped) by Decode when the declared
// charset is unknown and the bytes are not valid UTF-8.
var ErrUnknownCharset = errors.New("textfix: unknown charset")

// sniffLen is how far into the bytes Decode looks for an in-document
// charset declaration, as the HTML standard's prescan does.
const sniffLen = 1024

// Decode turns raw bytes into valid UTF-8: BOM (UTF-8/16/32) first, then the declared charset
// (the `declared` argument, e.g. from an HTTP Content-Type or an envelope field; empty when unknown),
// then a charset declared inside the bytes (XML declaration encoding=, HTML <meta charset> / http-equiv),
// then a sound choice between UTF-8 and legacy single-byte encodings (windows-1252 by default) when
// nothing is declared. An HTTP/declared charset overrides the in-document one (as feedparser's tests describe).
// Returns the text, the repairs applied ("bom", "charset:windows-1252", "charset:guessed:windows-1252", "invalid-utf8" ...) and
// an error only when a declared charset is unknown AND the bytes are not valid UTF-8 (never panics).
//
// declared may be a bare name ("ISO-8859-1") or a whole Content-Type value
// ("text/xml; charset=koi8-r"). Names follow the WHATWG Encoding standard, as
// browsers do: "iso-8859-1" and "us-ascii" mean windows-1252. When a
// single-byte charset is declared but the bytes are valid UTF-8 with
// non-ASCII sequences, the declaration is taken to be wrong and the text is
// read as UTF-8 ("charset:mislabelled:utf-8"); legacy text almost never forms
// valid multi-byte UTF-8 by chance. When the error is returned, the text is
// still the best guess.
func Decode(b []byte, declared string) (string, []string, error) {
	if s, codes, ok := decodeBOM(b); ok {
		return s, codes, nil
	}
	if name := charsetParam(declared); name != "" {
		enc, canon, err := lookupCharset(name)
		if err != nil {
			if utf8.Valid(b) {
				return string(b), nil, nil
			}
			s, codes := guess(b)
			return s, codes, fmt.Errorf("%w %q", ErrUnknownCharset, name)
		}
		return decodeAs(b, enc, canon)
	}
	if name := sniffCharset(b); name != "" {
		if enc, canon, err := lookupCharset(name); err == nil && !strings.HasPrefix(canon, "utf-16") {
			return decodeAs(b, enc, canon)
		}
	}
	s, codes := guess(b)
	return s, codes, nil
}

// decodeBOM decodes b when it starts with a byte order mark.
func decodeBOM(b []byte) (string, []string, bool) {
	var enc encoding.Encoding
	var name string
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		s, codes := decodeUTF8(b[3:])
		return s, append([]string{"bom"}, codes...), true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		enc, name = utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM), "utf-32le"
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		enc, name = utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM), "utf-32be"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		enc, name = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le"
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		enc, name = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be"
	default:
		return "", nil, false
	}
	codes := []string{"bom", "charset:" + name}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
		codes = append(codes, "invalid-utf8")
	}
	return string(out), codes, true
}

// decodeAs decodes b in the named encoding.
func decodeAs(b []byte, enc encoding.Encoding, canon string) (string, []string, error) {
	if canon == "utf-8" {
		s, codes := decodeUTF8(b)
		return s, codes, nil
	}
	if isSingleByte(canon) && hasMultiByteUTF8(b) {
		return string(b), []string{"charset:mislabelled:utf-8"}, nil
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		// Only the replacement encoding and broken multi-byte input get
		// here; keep what decoded and mark the rest.
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return string(out), []string{"charset:" + canon}, nil
}

// decodeUTF8 returns b as a string, reading any invalid byte as windows-1252.
func decodeUTF8(b []byte) (string, []string) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	return fromLatin(string(b)), []string{"invalid-utf8"}
}

// guess chooses between UTF-8 and windows-1252 for undeclared bytes. Valid
// UTF-8 is UTF-8. Bytes with more well-formed multi-byte sequences than
// stray high bytes are UTF-8 with a few legacy bytes mixed in (a common
// result of concatenating sources); the stray bytes are read as
// windows-1252. Anything else is windows-1252.
func guess(b []byte) (string, []string) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	good, bad := 0, 0
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			bad++
		} else {
			good++
		}
		i += n
	}
	if good > bad {
		return fromLatin(string(b)), []string{"invalid-utf8"}
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for _, c := range b {
		sb.WriteRune(decodeTable[cp1252][c])
	}
	return sb.String(), []string{"charset:guessed:windows-1252"}
}

// hasMultiByteUTF8 reports whether b is valid UTF-8 with at least one
// multi-byte sequence.
func hasMultiByteUTF8(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func isSingleByte(canon string) bool {
	return strings.HasPrefix(canon, "windows-") || strings.HasPrefix(canon, "iso-8859-") ||
		strings.HasPrefix(canon, "koi8") || canon == "macintosh" || canon == "ibm866" || canon == "x-mac-cyrillic"
}

// lookupCharset finds an encoding by its WHATWG name or label, and returns
// its canonical name.
func lookupCharset(name string) (encoding.Encoding, string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "cp437", "ibm437", "437", "cspc8codepage437":
		return charmap.CodePage437, "ibm437", nil
	case "utf8":
		n = "utf-8"
	}
	enc, err := htmlindex.Get(n)
	if err != nil {
		return nil, "", err
	}
	canon, err := htmlindex.Name(enc)
	if err != nil {
		return nil, "", err
	}
	return enc, canon, nil
}

// charsetParam extracts the charset from a Content-Type value, or returns
// the trimmed, unquoted argument when it is a bare name.
func charsetParam(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	lower := strings.ToLower(v)
	if i := strings.Index(lower, "charset="); i >= 0 {
		v = v[i+len("charset="):]
		if j := strings.IndexAny(v, "; \t"); j >= 0 {
			v = v[:j]
		}
	} else if strings.ContainsAny(v, "/;") {
		return "" // a media type without a charset parameter
	}
	return strings.Trim(v, "\"' ")
}

// sniffCharset finds a charset declared in the first bytes of a document:
// an XML declaration's encoding, or an HTML meta charset / http-equiv.
func sniffCharset(b []byte) string {
	if len(b) > sniffLen {
		b = b[:sniffLen]
	}
	head := bytes.ToLower(b)
	if x := bytes.Index(head, []byte("<?xml")); x >= 0 && x < 16 {
		end := bytes.Index(head[x:], []byte("?>"))
		if end > 0 {
			if v := attrValue(b[x:x+end], head[x:x+end], "encoding"); v != "" {
				return v
			}
		}
	}
	for off := 0; ; {
		m := bytes.Index(head[off:], []byte("<meta"))
		if m < 0 {
			return ""
		}
		start := off + m
		end := bytes.IndexByte(head[start:], '>')
		if end < 0 {
			return ""
		}
		tag, ltag := b[start:start+end], head[start:start+end]
		if v := attrValue(tag, ltag, "charset"); v != "" {
			return v
		}
		if bytes.Contains(ltag, []byte("http-equiv")) {
			if v := attrValue(tag, ltag, "content"); v != "" {
				if cs := charsetParam(v); cs != "" && strings.Contains(strings.ToLower(v), "charset=") {
					return cs
				}
			}
		}
		off = start + end
	}
}

// attrValue returns the value of attribute name (lower case) in tag, a
// start tag or XML declaration without its closing '>'.
func attrValue(tag, ltag []byte, name string) string {
	i := 0
	// Skip the tag name.
	for i < len(tag) && !isSpaceByte(tag[i]) {
		i++
	}
	for i < len(tag) {
		for i < len(tag) && (isSpaceByte(tag[i]) || tag[i] == '/' || tag[i] == '?') {
			i++
		}
		ns := i
		for i < len(tag) && !isSpaceByte(tag[i]) && tag[i] != '=' && tag[i] != '/' && tag[i] != '?' {
			i++
		}
		attr := string(ltag[ns:i])
		for i < len(tag) && isSpaceByte(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] != '=' {
			if i == ns {
				i++ // a stray character: step over it
			}
			continue
		}
		i++
		for i < len(tag) && isSpaceByte(tag[i]) {
			i++
		}
		var val []byte
		if i < len(tag) && (tag[i] == '"' || tag[i] == '\'') {
			q := tag[i]
			k := bytes.IndexByte(tag[i+1:], q)
			if k < 0 {
				return ""
			}
			val = tag[i+1 : i+1+k]
			i += k + 2
		} else {
			vs := i
			for i < len(tag) && !isSpaceByte(tag[i]) {
				i++
			}
			val = tag[vs:i]
		}
		if attr == name {
			return strings.TrimSpace(string(val))
		}
	}
	return ""
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
