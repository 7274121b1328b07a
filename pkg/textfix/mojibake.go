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
	question   bool // the lost byte was shown as '?'
	space      bool // a space stood for byte 0xA0, or byte 0xA0 was lost
	c1         bool // a C1 control stood for its own byte (ISO-8859-1 style)
}

// A cluster is a run of adjacent candidates in one charset; it is repaired
// or kept as a whole.
type cluster struct {
	cs         charset
	start, end int // runes
	seqs       []seq
	score      int
	lossy      bool // some seq is lossy
	question   bool // some seq relies on a '?'
	clean      bool // no seq is lossy or relies on a space
}

const (
	acceptScore = 4 // a cluster is repaired when its score reaches this
	lossyAccept = 2 // ... or this, when it only merges a lead into U+FFFD
	strongScore = 6 // a cluster this good vouches for others of its charset
	docBonus    = 3 // added to clusters whose charset is vouched for
	bigDocBonus = 5 // ... by three strong clusters or more
	maxDepth    = 3 // layers looked ahead when scoring a cluster
)

// Levels of a suspicious pair: a lead followed by a continuation of the
// same charset, or by a stand-in for a lost byte.
const (
	pairNone   = iota // no cluster the scorer could accept starts here
	pairWeak          // a lone sequence, repaired only where its charset is vouched for
	pairStrong        // a cluster that may be repaired on its own
)

// pairMask returns the charsets in which lead e, followed by the text at
// s[j:], may start a sequence: the mask candidates computes for e's rune.
func pairMask(s string, j int, e *alphaEntry) uint8 {
	if j >= len(s) {
		return 0
	}
	if c := s[j]; c < utf8.RuneSelf {
		switch c {
		case ' ':
			m := e.sp
			// A three- or four-byte lead, a space for 0xA0, a continuation.
			if long := e.lead &^ e.lead2 & nbspCharsets; long != 0 && j+1 < len(s) {
				r, _ := utf8.DecodeRuneInString(s[j+1:])
				if ce := lookup(r); ce != nil {
					m |= long & ce.cont
				}
			}
			return m
		case '?':
			return e.lead2
		}
		return 0
	}
	r, _ := decodeRune(s, j)
	if r == utf8.RuneError {
		return e.lead
	}
	if ne := lookup(r); ne != nil {
		return e.lead & ne.cont
	}
	return 0
}

// pairLevel rates the suspicious pair whose lead starts at s[i], where m
// is its pairMask, by what the repair of the line would make of it. A
// cluster starts with a sequence that parses in some charset; when another
// sequence of that charset follows, it is strong. A lone sequence is scored
// as repairRunes scores it (the score depends on three runes of context on
// each side of it, within the line, and nothing else): one that may be
// accepted on its own is strong; one that only the largest bonus for other
// strong clusters could carry is weak; one that nothing could carry, or
// that decodes to a rare character, is none. It does not allocate.
func pairLevel(s string, i int, m uint8) int {
	// Most pairs in clean text fail to form a whole sequence, or decode to
	// a rare character: that much can be read off the bytes.
	r, n := decodeRune(s, i)
	e := lookup(r)
	viable := uint8(0)
	for k := charset(0); k < numCharsets; k++ {
		if m&(1<<k) != 0 && mayParse(s, i+n, e, k) {
			viable |= 1 << k
		}
	}
	if m = viable; m == 0 {
		return pairNone
	}
	// The line's runes from ctx before the lead on, enough for the
	// sequence, the one after it and their context.
	start := i
	for k := 0; k < ctx && start > 0 && s[start-1] != '\n'; k++ {
		_, n := utf8.DecodeLastRuneInString(s[:start])
		start -= n
	}
	var buf [24]rune
	rs, p, j := buf[:0], 0, start
	for j < len(s) && s[j] != '\n' && len(rs) < len(buf) {
		if j == i {
			p = len(rs)
		}
		r, n := decodeRune(s, j)
		rs = append(rs, r)
		j += n
	}
	// rs holds what parseSeq and scoreCluster read of a sequence at rs[p]
	// and of one right after it (up to p+15). Only a longer cluster can
	// reach the end of rs before the end of the line.
	cut := j < len(s) && s[j] != '\n'

	level := pairNone
	for k := charset(0); k < numCharsets; k++ {
		if m&(1<<k) == 0 {
			continue
		}
		q, ok := parseSeq(rs, p, k)
		if !ok || hopeless(q.out) {
			continue
		}
		if q.end < len(rs) {
			if _, ok := parseSeq(rs, q.end, k); ok {
				// A longer cluster: strong, unless one of its sequences
				// decodes to a rare character.
				if longCluster(rs, q.end, k, cut) {
					return pairStrong
				}
				continue
			}
		}
		one := [1]seq{q}
		c := cluster{cs: k, start: q.start, end: q.end, seqs: one[:], lossy: q.lossy, question: q.question, clean: !q.lossy && !q.space}
		lossy := c.lossy && !c.question
		switch sc := scoreCluster(rs, &c, 0); {
		case sc == rejected:
		case sc >= acceptScore, lossy && sc >= lossyAccept:
			return pairStrong
		case sc+bigDocBonus >= acceptScore, lossy && sc+bigDocBonus >= lossyAccept:
			level = pairWeak
		}
	}
	return level
}

// mayParse reports whether parseSeq may read a sequence of charset k that
// starts with lead e and goes on at s[j:], and whether its output may be
// accepted. It is false only when the continuations at s[j:] are missing
// or the bytes decode to nothing valid or to a hopeless rune; stand-ins
// for lost bytes are left to parseSeq.
func mayParse(s string, j int, e *alphaEntry, k charset) bool {
	var buf [utf8.UTFMax]byte
	buf[0] = e.b[k]
	n := 2
	if buf[0] >= 0xF0 {
		n = 4
	} else if buf[0] >= 0xE0 {
		n = 3
	}
	for t := 1; t < n; t++ {
		if j >= len(s) || s[j] == '\n' {
			return false
		}
		r, size := decodeRune(s, j)
		j += size
		if ce := lookup(r); ce != nil && ce.cont&(1<<k) != 0 {
			buf[t] = ce.b[k]
			continue
		}
		if r != ' ' {
			return r == '?' || r == utf8.RuneError // a lost byte, read as U+FFFD
		}
		if decodeTable[k][0xA0] != 0xA0 {
			return false
		}
		buf[t] = 0xA0 // a space for a no-break space
		if n == 2 {
			break // see parseLostA0
		}
	}
	r, size := utf8.DecodeRune(buf[:n])
	if size != n {
		return buf[0] == 0xED // maybe half of a surrogate pair
	}
	return !hopeless(r)
}

// hopeless reports whether a cluster that decodes to r must be refused:
// r is rare, and no later layer can take it apart (see scoreCluster).
func hopeless(r rune) bool {
	return rarity(r) >= rareRune && lookup(r) == nil
}

// longCluster reports whether the rest of a cluster of charset k, from
// rs[i] on, may be accepted: none of its sequences is hopeless. When rs
// is cut short of the end of the line, a cluster that comes close to its
// end may be.
func longCluster(rs []rune, i int, k charset, cut bool) bool {
	for i < len(rs) {
		if cut && i+10 > len(rs) {
			return true
		}
		q, ok := parseSeq(rs, i, k)
		if !ok {
			return true
		}
		if hopeless(q.out) {
			return false
		}
		i = q.end
	}
	return true
}

// nextTrigger returns the offset, at or after i, of the next lead of a
// suspicious pair rated weak or strong, and its level; -1 when there is
// none.
func nextTrigger(s string, i int) (int, int) {
	for i < len(s) {
		if i+8 <= len(s) && load8(s, i)&hi8 == 0 {
			i += 8
			continue
		}
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := decodeRune(s, i)
		if x := runeInfo(r) & rIndex; x != 0 {
			if e := &alphabet[x-1]; e.lead != 0 {
				if m := pairMask(s, i+n, e); m != 0 {
					if level := pairLevel(s, i, m); level != pairNone {
						return i, level
					}
				}
			}
		}
		i += n
	}
	return -1, pairNone
}

// startsSeq reports whether lead e followed by rune r (with entry ne) may
// start a sequence in some charset.
func startsSeq(e *alphaEntry, r rune, ne *alphaEntry) bool {
	return leadMask(e, r, ne) != 0
}

// leadMask returns the charsets in which lead e followed by rune r (with
// entry ne) may start a sequence.
func leadMask(e *alphaEntry, r rune, ne *alphaEntry) uint8 {
	switch {
	case ne != nil:
		return e.lead & ne.cont
	case r == ' ':
		return e.sp
	case r == '?':
		return e.lead2
	case r == utf8.RuneError:
		return e.lead
	}
	return 0
}

func mayHaveMojibakeRunes(rs []rune) bool {
	var prev *alphaEntry
	var pending uint8
	for _, r := range rs {
		var e *alphaEntry
		if r >= utf8.RuneSelf {
			e = lookup(r)
		}
		if prev != nil && startsSeq(prev, r, e) || pending != 0 && e != nil && e.cont&pending != 0 {
			return true
		}
		pending = 0
		if prev != nil && r == ' ' {
			pending = prev.lead &^ prev.lead2 & nbspCharsets
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
	nbsp := decodeTable[k][0xA0] == 0xA0 // a lost no-break space shows as a space
	if n == 2 && i+1 < len(rs) && rs[i+1] == ' ' {
		if !nbsp {
			return seq{}, false
		}
		return parseLostA0(rs, i, b0)
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
		case 0xFFFD:
			s.lossy = true
			buf[j] = 0x80
		case '?':
			s.lossy, s.question = true, true
			buf[j] = 0x80
		case ' ':
			if !nbsp {
				return seq{}, false
			}
			s.space = true
			buf[j] = 0xA0
		default:
			return seq{}, false
		}
	}
	if s.lossy {
		// A lost byte must be surrounded by evidence: at least one real
		// continuation byte, except after a two-byte lead.
		if n > 2 && real == 0 || s.space {
			return seq{}, false
		}
		if s.question && !validPrefix(buf[:n]) {
			return seq{}, false
		}
		s.out = utf8.RuneError
		return s, true
	}
	if s.space && real == 0 {
		return seq{}, false
	}
	if b0 == 0xED && buf[1] >= 0xA0 {
		return parseSurrogates(rs, i, k, s, buf)
	}
	r, size := utf8.DecodeRune(buf[:n])
	if size != n {
		return seq{}, false
	}
	s.out = r
	return s, true
}

// validPrefix reports whether the bytes before the first lost byte (0x80
// placeholders) could start a valid sequence.
func validPrefix(b []byte) bool {
	switch b[0] {
	case 0xE0:
		return b[1] == 0x80 || b[1] >= 0xA0
	case 0xED:
		return b[1] < 0xA0
	case 0xF0:
		return b[1] == 0x80 || b[1] >= 0x90
	case 0xF4:
		return b[1] < 0x90
	}
	return true
}

// parseLostA0 handles a two-byte lead followed by a space, where the
// second byte, 0xA0 (a no-break space in windows-1252), was turned into a
// plain space or lost. For 0xC3 ("Ã" in windows-1252, the lead of "à")
// the space is only taken as the lost byte where Portuguese glues "à" to
// the next word ("às", "àquele") or where two spaces follow; otherwise the
// byte was lost outright and the space stays.
func parseLostA0(rs []rune, i int, b0 byte) (seq, bool) {
	r, _ := utf8.DecodeRune([]byte{b0, 0xA0})
	s := seq{start: i, end: i + 2, out: r, space: true}
	if b0 != 0xC3 {
		return s, true
	}
	rest := rs[i+2:]
	if len(rest) > 0 && rest[0] == ' ' {
		return s, true
	}
	if len(rest) > 1 && rest[0] == 's' && (len(rest) == 1 || rest[1] == ' ') {
		return s, true
	}
	for _, w := range [...]string{"quele", "quela", "quilo", "queles", "quelas", "quilos"} {
		if hasWordPrefix(rest, w) {
			return s, true
		}
	}
	s.end = i + 1
	return s, true
}

// hasWordPrefix reports whether rs starts with the word w (followed by a
// non-letter or the end).
func hasWordPrefix(rs []rune, w string) bool {
	j := 0
	for _, c := range w {
		if j >= len(rs) || rs[j] != c {
			return false
		}
		j++
	}
	return j == len(rs) || !isLetterRune(rs[j])
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
// convinced. vouched carries the charsets already proven in earlier layers;
// it returns the charsets used as a bit mask (latin1 included).
func fixMojibakeLayer(s string, vouched *uint8) (string, uint16) {
	// Only lines with a suspicious pair are examined rune by rune; a charset
	// proven on one line vouches for the lines after it, and for all lines
	// in the next layer.
	var b strings.Builder
	var used uint16
	pos := 0 // s[:pos] is settled (and written to b once something changed)
	for i := 0; i < len(s); {
		j, level := nextTrigger(s, i)
		if j < 0 {
			break
		}
		start, end := j, j
		for start > 0 && s[start-1] != '\n' {
			start--
		}
		for end < len(s) && s[end] != '\n' {
			end++
		}
		// A weak pair is only repaired with the help of a strong cluster
		// on the line or of a charset already vouched for.
		for k := j; level == pairWeak && *vouched == 0; {
			_, n := utf8.DecodeRuneInString(s[k:])
			if k, level = nextTrigger(s[:end], k+n); k < 0 {
				break
			}
		}
		if level != pairStrong && *vouched == 0 {
			i = end
			continue
		}
		out, u := repairRunes([]rune(s[start:end]), vouched, 0)
		if u != 0 {
			if used == 0 {
				b.Grow(len(s))
			}
			used |= u
			b.WriteString(s[pos:start])
			for _, r := range out {
				b.WriteRune(r)
			}
			pos = end
		}
		i = end
	}
	if used == 0 {
		return s, 0
	}
	b.WriteString(s[pos:])
	return b.String(), used
}

// repairRunes undoes one layer of mis-decoding in rs.
func repairRunes(rs []rune, vouched *uint8, depth int) ([]rune, uint16) {
	cand := candidates(rs)
	var cls []cluster
	for k := charset(0); k < numCharsets; k++ {
		cls = appendClusters(cls, rs, cand, k)
	}
	if len(cls) == 0 {
		return rs, 0
	}
	sort.Slice(cls, func(i, j int) bool { return cls[i].start < cls[j].start })
	prev := *vouched
	// A cluster is strong when its evidence, before the charset's prior,
	// reaches strongScore without assuming lost bytes.
	strong := func(c *cluster) bool { return c.clean && c.score+charsetPrior[c.cs] >= strongScore }
	var nstrong [numCharsets]int
	for i := range cls {
		c := &cls[i]
		c.score = scoreCluster(rs, c, depth)
		if strong(c) {
			nstrong[c.cs]++
		}
	}
	// A charset's evidence is how much better its clusters score than the
	// rival readings of the same runes; it settles close calls between
	// similar charsets (windows-1250 and ISO-8859-2) document-wide.
	rivals := make([]int, len(cls))
	for i := range rivals {
		rivals[i] = acceptScore - 1
	}
	for i := range cls {
		// cls is sorted by start: the overlapping clusters follow i
		// until one starts at or after its end.
		for j := i + 1; j < len(cls) && cls[j].start < cls[i].end; j++ {
			if cls[j].cs != cls[i].cs {
				rivals[i] = max(rivals[i], cls[j].score)
				rivals[j] = max(rivals[j], cls[i].score)
			}
		}
	}
	var evidence [numCharsets]int
	for i := range cls {
		if m := cls[i].score - rivals[i]; m > 0 {
			evidence[cls[i].cs] += m
		}
	}
	best := charset(0)
	for k := range evidence {
		if evidence[k] > evidence[best] {
			best = charset(k)
		}
	}
	for k, n := range nstrong {
		if n > 0 {
			*vouched |= 1 << k
		}
	}
	var accepted []*cluster
	for i := range cls {
		c := &cls[i]
		if c.score == rejected {
			continue
		}
		self := 0
		if strong(c) {
			self = 1
		}
		// Another strong cluster of the same charset, here or in an
		// earlier layer, makes this one more believable.
		if others := nstrong[c.cs] - self; others >= 3 {
			c.score += bigDocBonus
		} else if others > 0 || prev&(1<<c.cs) != 0 {
			c.score += docBonus
		} else if c.question && (c.score < 2*strongScore || !c.hasReal()) {
			continue // a '?' is read as a lost byte only in proven company
		}
		if c.score >= acceptScore || c.lossy && !c.question && c.score >= lossyAccept {
			accepted = append(accepted, c)
		}
	}
	if len(accepted) == 0 {
		return rs, 0
	}
	// Overlapping candidates: the best score wins, the charset with the
	// most evidence in the whole text counting a little extra.
	rank := func(c *cluster) int {
		if evidence[best] > 0 && c.cs == best {
			return c.score + 3
		}
		return c.score
	}
	sort.SliceStable(accepted, func(i, j int) bool {
		a, b := accepted[i], accepted[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra > rb
		}
		return evidence[a.cs] > evidence[b.cs]
	})
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
	chosen = dropHopeless(rs, chosen)
	if len(chosen) == 0 {
		return rs, 0
	}
	out := make([]rune, 0, len(rs))
	var used uint16
	pos := 0
	for _, c := range chosen {
		out = append(out, rs[pos:c.start]...)
		c1 := false
		for _, q := range c.seqs {
			out = append(out, q.out)
			c1 = c1 || q.c1
		}
		if c.cs == cp1252 && c1 {
			used |= 1 << latin1
		} else {
			used |= 1 << c.cs
		}
		pos = c.end
	}
	out = append(out, rs[pos:]...)
	return out, used
}

// dropHopeless leaves alone the words (runs without spaces) where the
// chosen repairs would leave more mojibake-like pairs behind than they
// remove: such text is garbled beyond what a partial repair can explain.
func dropHopeless(rs []rune, chosen []*cluster) []*cluster {
	out := chosen[:0]
	for i := 0; i < len(chosen); {
		// The word around chosen[i], and the chosen clusters inside it.
		ws, we := chosen[i].start, chosen[i].end
		for ws > 0 && rs[ws-1] != ' ' {
			ws--
		}
		for we < len(rs) && rs[we] != ' ' {
			we++
		}
		j := i
		for j < len(chosen) && chosen[j].start < we {
			if chosen[j].end > we {
				we = chosen[j].end
			}
			j++
		}
		fixed, left, c := j-i, 0, i
		for p := ws; p+1 < we; p++ {
			for c < j && chosen[c].end <= p {
				c++
			}
			if c < j && p >= chosen[c].start {
				continue
			}
			if c < j && p+1 >= chosen[c].start {
				continue
			}
			if e := lookup(rs[p]); e != nil && e.lead != 0 {
				if n := lookup(rs[p+1]); n != nil && e.lead&n.cont != 0 {
					left++
				}
			}
		}
		if left < 2 || left < fixed {
			out = append(out, chosen[i:j]...)
		}
		i = j
	}
	return out
}

// hasReal reports whether some seq of c decodes real bytes only.
func (c *cluster) hasReal() bool {
	for _, q := range c.seqs {
		if !q.lossy && !q.space {
			return true
		}
	}
	return false
}

// appendClusters finds the clusters of charset k in rs. cand[i] has bit k
// set where a sequence of charset k may start.
func appendClusters(cls []cluster, rs []rune, cand []uint8, k charset) []cluster {
	bit := uint8(1) << k
	cur := -1
	for i := 0; i < len(rs); {
		if cand[i]&bit == 0 && (cur < 0 || cls[cur].end != i) {
			i++
			continue
		}
		q, ok := parseSeq(rs, i, k)
		if !ok {
			cur = -1
			i++
			continue
		}
		if cur < 0 || cls[cur].end != q.start {
			cls = append(cls, cluster{cs: k, start: q.start, clean: true})
			cur = len(cls) - 1
		}
		c := &cls[cur]
		c.seqs = append(c.seqs, q)
		c.end = q.end
		c.lossy = c.lossy || q.lossy
		c.question = c.question || q.question
		c.clean = c.clean && !q.lossy && !q.space
		i = q.end
	}
	return cls
}

// candidates marks, for each rune of rs, the charsets in which a sequence
// may start there.
func candidates(rs []rune) []uint8 {
	cand := make([]uint8, len(rs))
	for i := 0; i+1 < len(rs); i++ {
		if rs[i] < utf8.RuneSelf {
			continue
		}
		e := lookup(rs[i])
		if e == nil || e.lead == 0 {
			continue
		}
		var ne *alphaEntry
		if rs[i+1] >= utf8.RuneSelf {
			ne = lookup(rs[i+1])
		}
		cand[i] = leadMask(e, rs[i+1], ne)
		if rs[i+1] == ' ' && i+2 < len(rs) {
			// A three- or four-byte lead, a space for 0xA0, a continuation.
			if ce := lookup(rs[i+2]); ce != nil {
				cand[i] |= e.lead &^ e.lead2 & nbspCharsets & ce.cont
			}
		}
	}
	return cand
}
