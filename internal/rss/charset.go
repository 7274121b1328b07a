package rss

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// decodeFeed turns the raw bytes of a feed into UTF-8 text whose XML
// declaration, if any, no longer names an encoding, and reports how the
// bytes were read as fix codes (those of textfix.Decode, plus
// "charset:utf-16be" and the like for BOM-less UTF-16/32 and
// "charset:detected:<name>" for an undeclared legacy charset).
//
// The order of precedence:
//
//  1. a byte order mark;
//  2. UTF-16 or UTF-32 without a BOM, recognised by the NUL bytes around
//     the first '<' (XML 1.0, appendix F);
//  3. the HTTP charset (httpCharset may be a bare name or a whole
//     Content-Type value);
//  4. the XML declaration's encoding;
//  5. UTF-8 when the bytes are valid UTF-8; otherwise, for bytes that do
//     not read as a Latin-script language in windows-1252, the legacy
//     charset that reads best (see detectLegacy); otherwise windows-1252.
//
// Steps 1 and 3-5 are textfix.Decode's. A media type without a charset
// parameter ("text/xml") declares nothing: RFC 3023's rule that text/*
// without a charset means US-ASCII was dropped by RFC 7303, and real feeds
// served as text/xml are rarely ASCII.
func decodeFeed(b []byte, httpCharset string) (string, []string) {
	var s string
	var codes []string
	if enc, name := sniffWide(b); enc != nil {
		out, err := enc.NewDecoder().Bytes(b)
		codes = []string{"charset:" + name}
		if err != nil || !utf8.Valid(out) {
			out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
			codes = append(codes, "invalid-utf8")
		}
		s = string(out)
	} else {
		// An unknown declared charset is not fatal: Decode still returns
		// its best reading of the bytes, which the XML parser then judges.
		s, codes, _ = textfix.Decode(b, charsetParam(httpCharset))
		if hasCode(codes, guessedCodePrefix) {
			if name, text, ok := detectLegacy(b); ok {
				s, codes = text, []string{"charset:detected:" + name}
			}
		}
	}
	return stripXMLEncoding(strings.TrimPrefix(s, "\uFEFF")), codes
}

// guessedCodePrefix is the code textfix.Decode reports when it read
// undeclared, invalid UTF-8 bytes as windows-1252.
const guessedCodePrefix = "charset:guessed:"

func hasCode(codes []string, prefix string) bool {
	for _, c := range codes {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// sniffWide recognises UTF-16 and UTF-32 without a byte order mark by the
// way the first character, '<', is spelt.
func sniffWide(b []byte) (encoding.Encoding, string) {
	if len(b) < 4 {
		return nil, ""
	}
	switch {
	case b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == '<':
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be"
	case b[0] == '<' && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le"
	case b[0] == 0 && b[1] == '<' && b[2] == 0 && b[3] != 0:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be"
	case b[0] == '<' && b[1] == 0 && b[2] != 0 && b[3] == 0:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le"
	}
	return nil, ""
}

// charsetParam returns the charset named by an HTTP Content-Type value, or
// v itself when it is a bare charset name. It is lenient about spaces and
// quotes ("charset = 'us-ascii'") and returns "" for a media type without
// a charset parameter or with a malformed one ("charset:iso-8859-1").
func charsetParam(v string) string {
	v = strings.TrimSpace(v)
	if !strings.ContainsAny(v, "/;=") {
		return strings.Trim(v, `"'`)
	}
	const key = "charset"
	for i := 0; i+len(key) <= len(v); i++ {
		// Compare in place: lower-casing v could change its length.
		if !strings.EqualFold(v[i:i+len(key)], key) {
			continue
		}
		rest := strings.TrimLeft(v[i+len(key):], " \t")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		if end := strings.IndexAny(rest, "; \t,"); end >= 0 {
			rest = rest[:end]
		}
		return strings.Trim(rest, `"'`)
	}
	return ""
}

// stripXMLEncoding rewrites the XML declaration at the start of s, if
// any, without its encoding pseudo-attribute, so that an XML parser reads
// the (already decoded) text as UTF-8.
func stripXMLEncoding(s string) string {
	t := strings.TrimLeft(s, " \t\r\n")
	if !strings.HasPrefix(t, "<?xml") || len(t) < 6 || !isXMLSpace(t[5]) {
		return s
	}
	end := strings.Index(t, "?>")
	if end < 0 {
		return s
	}
	decl := t[:end]
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return s
	}
	j := i + len("encoding")
	for j < len(decl) && isXMLSpace(decl[j]) {
		j++
	}
	if j >= len(decl) || decl[j] != '=' {
		return s
	}
	j++
	for j < len(decl) && isXMLSpace(decl[j]) {
		j++
	}
	if j < len(decl) && (decl[j] == '"' || decl[j] == '\'') {
		q := decl[j]
		if k := strings.IndexByte(decl[j+1:], q); k >= 0 {
			j += k + 2
		} else {
			j = len(decl)
		}
	} else {
		for j < len(decl) && !isXMLSpace(decl[j]) {
			j++
		}
	}
	return strings.TrimRight(decl[:i], " \t\r\n") + decl[j:] + t[end:]
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
