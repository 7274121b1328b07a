package textfix

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// A seq is one candidate: runes [start, end) of the text that, encoded in a
// charset, form one UTF-8 sequence.
type seq struct {
	start, end int
	out        rune
	lossy      bool // a U+FFFD or '?' stood for a lost byte; out is U+FFFD
	space      bool // a space stood for byte 0xA0 (a lost no-break space)
	c1         bool // a C1 control stood for its own byte (ISO-8859-1 style)
}

// A cluster is a run of adjacent candidates in one charset; it is repaired
// or kept as a whole.
type cluster struct {
	cs         charset
	start, end int // runes
	seqs       []seq
	score      int
}

const (
	acceptScore = 4 // a cluster is repaired when its score reaches this
	strongScore = 7 // a cluster this good vouches for others of its charset
	docBonus    = 2 // added to clusters whose charset is vouched for elsewhere
)

// mayHaveMojibake is the fast path: it reports whether s has any adjacent
// pair of runes that could start a mis-decoded UTF-8 sequence. It does not
// allocate.
func mayHaveMojibake(s string) bool {
	var prev *alphaEntry
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if prev != nil && (c == ' ' || c == '?') && prev.lead != 0 {
				return true
			}
			prev = nil
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		e := lookup(r)
		if prev != nil {
			if r == utf8.RuneError || (e != nil && prev.lead&e.cont != 0) {
				return true
			}
		}
		if e != nil && e.lead != 0 {
			prev = e
		} else {
			prev = nil
		}
	}
	return false
}

// parseSeq tries to read one UTF-8 sequence encoded in charset k at rs[i].
func parseSeq(rs []rune, i int, k charset) (seq, bool) {
	e := lookup(rs[i])
	bit := uint8(1) << k
	if e == nil || e.lead&bit == 0 {
		return seq{}, false
	}
	b0 := e.b[k]
	n := 2
	if b0 >= 0xF0 {
		n = 4
	} else if b0 >= 0xE0 {
		n = 3
	}
	if i+n > len(rs) {
		return seq{}, false
	}
	s := seq{start: i, end: i + n}
	var buf [4]byte
	buf[0] = b0
	real := 0
	for j := 1; j < n; j++ {
		r := rs[i+j]
		if ce := lookup(r); ce != nil && ce.cont&bit != 0 {
			buf[j] = ce.b[k]
			if r < 0xA0 && decodeTable[k][buf[j]] != r {
				s.c1 = true
			}
			real++
			continue
		}
		switch r {
		case 0xFFFD, '?':
			s.lossy = true
			buf[j] = 0x80
		case ' ':
			s.space = true
			buf[j] = 0xA0
		default:
			return seq{}, false
		}
	}
	if s.lossy {
		// A lost byte must be surrounded by evidence: at least one real
		// continuation byte, except after a two-byte lead.
		if n > 2 && real == 0 {
			return seq{}, false
		}
		if s.space {
			return seq{}, false
		}
		s.out = utf8.RuneError
		return s, true
	}
	if s.space && n > 2 && real == 0 {
		return seq{}, false
	}
	if b0 == 0xED && buf[1] >= 0xA0 {
		return parseSurrogates(rs, i, k, s, buf)
	}
	r, size := utf8.DecodeRune(buf[:n])
	if r == utf8.RuneError || size != n {
		return seq{}, false
	}
	s.out = r
	return s, true
}

// parseSurrogates reads a UTF-16 surrogate pair encoded as two three-byte
// sequences (CESU-8), as Java and some databases write astral characters.
func parseSurrogates(rs []rune, i int, k charset, s seq, hi [4]byte) (seq, bool) {
	if hi[1] > 0xAF || s.space || i+6 > len(rs) {
		return seq{}, false
	}
	lo, ok := parseRawSeq(rs, i+3, k)
	if !ok || lo[0] != 0xED || lo[1] < 0xB0 {
		return seq{}, false
	}
	h := rune(hi[1]&0x0F)<<6 | rune(hi[2]&0x3F)
	l := rune(lo[1]&0x0F)<<6 | rune(lo[2]&0x3F)
	s.out = 0x10000 + h<<10 + l
	s.end = i + 6
	return s, true
}

// parseRawSeq returns the three bytes of rs[i:i+3] in charset k.
func parseRawSeq(rs []rune, i int, k charset) ([3]byte, bool) {
	var b [3]byte
	bit := uint8(1) << k
	for j := 0; j < 3; j++ {
		e := lookup(rs[i+j])
		if e == nil {
			return b, false
		}
		if j == 0 && e.lead&bit == 0 || j > 0 && e.cont&bit == 0 {
			return b, false
		}
		b[j] = e.b[k]
	}
	return b, true
}

// fixMojibakeLayer undoes one layer of mis-decoding wherever the scorer is
// convinced. It returns the charsets used as a bit mask (latin1 included).
func fixMojibakeLayer(s string) (string, uint16) {
	if !mayHaveMojibake(s) {
		return s, 0
	}
	rs := []rune(s)
	var cls []cluster
	for k := charset(0); k < numCharsets; k++ {
		cls = appendClusters(cls, rs, k)
	}
	if len(cls) == 0 {
		return s, 0
	}
	var vouched [numCharsets]int
	for i := range cls {
		c := &cls[i]
		c.score = scoreCluster(rs, c)
		if c.score >= strongScore && !c.lossy() {
			vouched[c.cs]++
		}
	}
	var accepted []*cluster
	for i := range cls {
		c := &cls[i]
		sc := c.score
		if n := vouched[c.cs]; n > 1 || n == 1 && (sc < strongScore || c.lossy()) {
			sc += docBonus
		}
		if sc >= acceptScore {
			c.score = sc
			accepted = append(accepted, c)
		}
	}
	if len(accepted) == 0 {
		return s, 0
	}
	sort.SliceStable(accepted, func(i, j int) bool { return accepted[i].score > accepted[j].score })
	taken := make([]bool, len(rs))
	var chosen []*cluster
	for _, c := range accepted {
		free := true
		for i := c.start; i < c.end; i++ {
			if taken[i] {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		for i := c.start; i < c.end; i++ {
			taken[i] = true
		}
		chosen = append(chosen, c)
	}
	sort.Slice(chosen, func(i, j int) bool { return chosen[i].start < chosen[j].start })
	var b strings.Builder
	b.Grow(len(s))
	var used uint16
	pos := 0
	for _, c := range chosen {
		for _, r := range rs[pos:c.start] {
			b.WriteRune(r)
		}
		c1 := false
		for _, q := range c.seqs {
			b.WriteRune(q.out)
			c1 = c1 || q.c1
		}
		if c.cs == cp1252 && c1 {
			used |= 1 << latin1
		} else {
			used |= 1 << c.cs
		}
		pos = c.end
	}
	for _, r := range rs[pos:] {
		b.WriteRune(r)
	}
	return b.String(), used
}

func (c *cluster) lossy() bool {
	for _, q := range c.seqs {
		if q.lossy {
			return true
		}
	}
	return false
}

// appendClusters finds the clusters of charset k in rs.
func appendClusters(cls []cluster, rs []rune, k charset) []cluster {
	var cur *cluster
	for i := 0; i < len(rs); {
		q, ok := parseSeq(rs, i, k)
		if !ok {
			cur = nil
			i++
			continue
		}
		if cur == nil || cur.end != q.start {
			cls = append(cls, cluster{cs: k, start: q.start})
			cur = &cls[len(cls)-1]
		}
		cur.seqs = append(cur.seqs, q)
		cur.end = q.end
		i = q.end
	}
	return cls
}
