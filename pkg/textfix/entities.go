package textfix

import (
	"html"
	"strings"
)

// maxEntityLen is the longest reference decoded, "&" and ";" included
// (the longest HTML5 name is 31 bytes).
const maxEntityLen = 34

// decodeEntities decodes HTML character references closed by ';', again and
// again while that changes the text, so that "&amp;eacute;" becomes "é".
func decodeEntities(s string) (string, bool) {
	changed := false
	for {
		out, ok := decodeEntitiesOnce(s)
		if !ok {
			return s, changed
		}
		s, changed = out, true
	}
}

func decodeEntitiesOnce(s string) (string, bool) {
	i := strings.IndexByte(s, '&')
	if i < 0 {
		return s, false
	}
	var b strings.Builder
	pos := 0 // s[:pos] has been written to b
	for i >= 0 {
		next := i + 1
		if end := entityEnd(s, i); end > 0 {
			ref := s[i:end]
			if dec := html.UnescapeString(ref); dec != ref {
				if pos == 0 {
					b.Grow(len(s))
				}
				b.WriteString(s[pos:i])
				b.WriteString(dec)
				pos, next = end, end
			}
		}
		k := strings.IndexByte(s[next:], '&')
		if k < 0 {
			break
		}
		i = next + k
	}
	if pos == 0 {
		return s, false
	}
	b.WriteString(s[pos:])
	return b.String(), true
}

// entityEnd returns the end of a well-formed reference starting at s[i]
// ("&name;", "&#123;" or "&#x1F;"), or -1.
func entityEnd(s string, i int) int {
	j := i + 1
	if j >= len(s) {
		return -1
	}
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isAlnum := func(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	accept := isAlnum
	if s[j] == '#' {
		j++
		accept = isDigit
		if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
			j++
			accept = isHex
		}
	}
	start := j
	for j < len(s) && j-i < maxEntityLen && accept(s[j]) {
		j++
	}
	if j == start || j >= len(s) || s[j] != ';' {
		return -1
	}
	return j + 1
}
