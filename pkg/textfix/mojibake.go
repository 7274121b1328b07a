package textfix

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// A seq is one candidate: runes [start, end) of the text that, encoded in a
// charset, form one UTF-8 sequence.
type seq struct {
	start, end int32
	out        rune
	lossy      bool // a U+FFFD or '?' stood for a lost byte; out is U+FFFD
	question   bool // the lost byte was shown as '?'
	space      bool // a space stood for byte 0xA0, or byte 0xA0 was lost
	c1         bool // a C1 control stood for its own byte (ISO-8859-1 style)
}

// A cluster is a run of adjacent candidates in one charset; it is repaired
// or kept as a whole.
type cluster struct {
	start, end int32 // runes
	s0, s1     int32 // its seqs, in the repairer's seqs
	score      int
	orig       int // the badness of its window as it is; -1 until rated
	cs         charset
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
	s := seq{start: int32(i), end: int32(i + n)}
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
	s := seq{start: int32(i), end: int32(i + 2), out: r, space: true}
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
	s.end = int32(i + 1)
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
	s.end = int32(i + 6)
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

// fixMojibakeLayer undoes one layer of mis-decoding wherever the scorer
// (or the whole-line repair, fastLine) is convinced. vouched carries the
// charsets already proven in earlier layers; it returns the charsets used
// as a bit mask (latin1 included), and whether the next layer would change
// nothing, so that the caller need not run it.
//
// When no charset is vouched for yet, the lines before the first strong
// pair are left as they are: from is its lead's offset when the caller
// knows it (scanAt), or -1.
func fixMojibakeLayer(s string, vouched *uint8, r *repairer, from int) (string, uint16, bool) {
	// Only lines with a suspicious pair are examined rune by rune; a charset
	// proven on one line vouches for the lines after it, and for all lines
	// in the next layer.
	var b strings.Builder
	var used uint16
	settled := true // the next layer would change nothing
	left := false   // a line with a pair was left as it is
	v0 := *vouched
	pos := 0 // s[:pos] is settled (and written to b once something changed)
	for i := 0; i < len(s); {
		j, level := from, pairStrong
		if from < 0 || *vouched != 0 {
			j, level = nextTrigger(s, i)
		}
		from = -1
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
			left = true
			i = end
			continue
		}
		if out, u, done, ok := r.fast.fastLine(s[start:end], vouched); ok {
			if used == 0 {
				b.Grow(len(s))
			}
			used |= u
			settled = settled && done
			b.WriteString(s[pos:start])
			b.Write(out)
			pos, i = end, end
			continue
		}
		if cap(r.line) < end-start {
			r.line = make([]rune, 0, end-start)
		}
		r.line = appendRunes(r.line[:0], s[start:end])
		out, u := r.repair(r.line, vouched, 0)
		left = left || u == 0
		settled = settled && u == 0
		if u != 0 {
			if used == 0 {
				b.Grow(len(s))
			}
			used |= u
			b.WriteString(s[pos:start])
			for _, c := range out {
				b.WriteRune(c)
			}
			pos = end
		}
		i = end
	}
	if used == 0 {
		return s, 0, true
	}
	// A line left alone may be repaired once a charset is vouched for.
	settled = settled && !(left && *vouched != v0)
	b.WriteString(s[pos:])
	return b.String(), used, settled
}

// appendRunes appends the runes of s to rs.
func appendRunes(rs []rune, s string) []rune {
	for _, c := range s {
		rs = append(rs, c)
	}
	return rs
}

// A repairer holds the buffers that the repair of one line after another
// reuses, and another repairer for looking through the next layer. It is
// made for one call of FixWith and used by one goroutine.
type repairer struct {
	line     []rune
	fast     fastLiner
	cand     []uint8 // the candidate mask of each rune
	pos      []int32 // the runes with a candidate mask
	cls      []cluster
	seqs     []seq
	rivals   []int
	shared   []bool
	accepted []int
	taken    []bool
	chosen   []int
	out      []rune
	deeper   *repairer
}

// repairers recycles repairers, and the buffers they have grown, from one
// call of FixWith to the next: a repairer carries no state between calls,
// and the repair of a short text would otherwise spend more time
// allocating them than repairing.
var repairers = sync.Pool{New: func() any { return new(repairer) }}

// maxPooled bounds the line length (in runes) whose buffers are kept for
// reuse, so that one huge text does not pin its buffers.
const maxPooled = 1 << 14

func newRepairer() *repairer { return repairers.Get().(*repairer) }

// release returns r to the pool, unless its buffers have grown too big.
func (r *repairer) release() {
	for d := r; d != nil; d = d.deeper {
		if cap(d.line) > maxPooled || cap(d.cand) > maxPooled || cap(d.out) > maxPooled {
			return
		}
	}
	repairers.Put(r)
}

// reserve makes room in r's buffers for a line of n runes at once, rather
// than growing them step by step.
func (r *repairer) reserve(n int) {
	if cap(r.cand) < n {
		n = max(n, 64)
		r.cand = make([]uint8, 0, n)
		r.pos = make([]int32, 0, n)
	}
	if r.cls == nil {
		r.cls = make([]cluster, 0, 16)
		r.seqs = make([]seq, 0, 32)
	}
}

// reserveClusters makes room for the work on m clusters.
func (r *repairer) reserveClusters(m int) {
	if cap(r.rivals) < m {
		ints := make([]int, 3*m)
		r.rivals, r.accepted, r.chosen = ints[:0:m], ints[m:m:2*m], ints[2*m:2*m:3*m]
	}
}

// deep returns the repairer for the next layer down.
func (r *repairer) deep() *repairer {
	if r == nil {
		return new(repairer)
	}
	if r.deeper == nil {
		r.deeper = new(repairer)
	}
	return r.deeper
}

// repair undoes one layer of mis-decoding in rs. The runes it returns are
// rs itself when nothing changed, or the repairer's own buffer, valid until
// its next use.
func (r *repairer) repair(rs []rune, vouched *uint8, depth int) ([]rune, uint16) {
	r.reserve(len(rs))
	r.candidates(rs)
	r.cls, r.seqs = r.cls[:0], r.seqs[:0]
	r.appendClusters(rs)
	if len(r.cls) == 0 {
		return rs, 0
	}
	cls := r.cls
	r.reserveClusters(len(cls))
	prev := *vouched
	// A cluster is strong when its evidence, before the charset's prior,
	// reaches strongScore without assuming lost bytes.
	strong := func(c *cluster) bool { return c.clean && c.score+charsetPrior[c.cs] >= strongScore }
	var nstrong [numCharsets]int
	for i := range cls {
		c := &cls[i]
		c.score = r.score(rs, cls[:i], c, depth)
		if strong(c) {
			nstrong[c.cs]++
		}
	}
	// A charset's evidence is how much better its clusters score than the
	// rival readings of the same runes; it settles close calls between
	// similar charsets (windows-1250 and ISO-8859-2) document-wide.
	rivals := r.rivals[:0]
	for range cls {
		rivals = append(rivals, acceptScore-1)
	}
	r.rivals = rivals
	shared := r.shared[:0]
	for range cls {
		shared = append(shared, false)
	}
	r.shared = shared
	for i := range cls {
		// cls is sorted by start: the overlapping clusters follow i
		// until one starts at or after its end.
		for j := i + 1; j < len(cls) && cls[j].start < cls[i].end; j++ {
			if cls[j].cs != cls[i].cs {
				rivals[i] = max(rivals[i], cls[j].score)
				rivals[j] = max(rivals[j], cls[i].score)
				if cls[j].start == cls[i].start && cls[j].end == cls[i].end && r.sameOut(&cls[i], &cls[j]) {
					shared[i], shared[j] = true, true
				}
			}
		}
	}
	// A reading another charset shares tells the two apart only by their
	// priors: it is no evidence for either.
	var evidence [numCharsets]int
	for i := range cls {
		if m := cls[i].score - rivals[i]; m > 0 && !shared[i] {
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
	accepted := r.accepted[:0]
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
		} else if c.question && (c.score < 2*strongScore || !r.hasReal(c)) {
			continue // a '?' is read as a lost byte only in proven company
		}
		if c.score >= acceptScore || c.lossy && !c.question && c.score >= lossyAccept {
			accepted = append(accepted, i)
		}
	}
	r.accepted = accepted
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
	// A stable insertion sort: there are few, and ties keep their order.
	for n := 1; n < len(accepted); n++ {
		for j := n; j > 0; j-- {
			a, b := &cls[accepted[j-1]], &cls[accepted[j]]
			ra, rb := rank(a), rank(b)
			if ra > rb || ra == rb && evidence[a.cs] >= evidence[b.cs] {
				break
			}
			accepted[j-1], accepted[j] = accepted[j], accepted[j-1]
		}
	}
	if cap(r.taken) < len(rs) {
		r.taken = make([]bool, 0, len(rs))
	}
	taken := r.taken[:0]
	for range rs {
		taken = append(taken, false)
	}
	r.taken = taken
	chosen := r.chosen[:0]
	for _, i := range accepted {
		c := &cls[i]
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
		chosen = append(chosen, i)
	}
	for n := 1; n < len(chosen); n++ {
		for j := n; j > 0 && cls[chosen[j-1]].start > cls[chosen[j]].start; j-- {
			chosen[j-1], chosen[j] = chosen[j], chosen[j-1]
		}
	}
	chosen = dropHopeless(rs, cls, chosen)
	r.chosen = chosen
	if len(chosen) == 0 {
		return rs, 0
	}
	if cap(r.out) < len(rs) {
		r.out = make([]rune, 0, len(rs)+len(rs)/4)
	}
	out := r.out[:0]
	var used uint16
	pos := 0
	for _, i := range chosen {
		c := &cls[i]
		out = append(out, rs[pos:c.start]...)
		c1 := false
		for _, q := range r.seqs[c.s0:c.s1] {
			out = append(out, q.out)
			c1 = c1 || q.c1
		}
		if c.cs == cp1252 && c1 {
			used |= 1 << latin1
		} else {
			used |= 1 << c.cs
		}
		pos = int(c.end)
	}
	out = append(out, rs[pos:]...)
	r.out = out
	return out, used
}

// dropHopeless leaves alone the words (runs without spaces) where the
// chosen repairs would leave more mojibake-like pairs behind than they
// remove: such text is garbled beyond what a partial repair can explain.
// chosen indexes cls, in order of start; what is kept is returned in its
// place.
func dropHopeless(rs []rune, cls []cluster, chosen []int) []int {
	out := chosen[:0]
	for i := 0; i < len(chosen); {
		// The word around chosen[i], and the chosen clusters inside it.
		ws, we := int(cls[chosen[i]].start), int(cls[chosen[i]].end)
		for ws > 0 && rs[ws-1] != ' ' {
			ws--
		}
		for we < len(rs) && rs[we] != ' ' {
			we++
		}
		j := i
		for j < len(chosen) && int(cls[chosen[j]].start) < we {
			if e := int(cls[chosen[j]].end); e > we {
				we = e
			}
			j++
		}
		fixed, left, c := j-i, 0, i
		for p := ws; p+1 < we; p++ {
			for c < j && int(cls[chosen[c]].end) <= p {
				c++
			}
			if c < j && p >= int(cls[chosen[c]].start) {
				continue
			}
			if c < j && p+1 >= int(cls[chosen[c]].start) {
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

// score rates cluster c of rs. Charsets that read the same runes the same
// way (windows-1252, windows-1250 and windows-1257 share many) differ only
// in their prior, so a cluster that decodes like one already scored, among
// done, which are sorted by start, takes its score.
func (r *repairer) score(rs []rune, done []cluster, c *cluster, depth int) int {
	seqs := r.seqs[c.s0:c.s1]
	for i := len(done) - 1; i >= 0 && done[i].start == c.start; i-- {
		d := &done[i]
		if d.end != c.end {
			continue
		}
		if slices.Equal(seqs, r.seqs[d.s0:d.s1]) {
			if d.score == rejected {
				return rejected
			}
			return d.score + charsetPrior[d.cs] - charsetPrior[c.cs]
		}
		if d.orig >= 0 {
			c.orig = d.orig // the same runes as they are
		}
	}
	return scoreCluster(rs, c, seqs, depth, r)
}

// sameOut reports whether clusters a and b decode to the same runes.
func (r *repairer) sameOut(a, b *cluster) bool {
	if a.s1-a.s0 != b.s1-b.s0 {
		return false
	}
	for i := range a.s1 - a.s0 {
		if r.seqs[a.s0+i].out != r.seqs[b.s0+i].out {
			return false
		}
	}
	return true
}

// hasReal reports whether some seq of c decodes real bytes only.
func (r *repairer) hasReal(c *cluster) bool {
	for _, q := range r.seqs[c.s0:c.s1] {
		if !q.lossy && !q.space {
			return true
		}
	}
	return false
}

// appendClusters finds the clusters of every charset in rs: for each
// charset, maximal runs of sequences, each starting where the last ended,
// the first at a rune whose candidate mask has the charset. Like a scan
// from left to right, it looks for the next cluster of a charset only
// after the end of its last and the rune there, where the last failed to
// go on. The clusters come out sorted by start, those that start together
// in the order of their charsets, in one pass over the candidates.
func (r *repairer) appendClusters(rs []rune) {
	var next [numCharsets]int
	for _, i := range r.pos {
		i := int(i)
		for m := r.cand[i]; m != 0; m &= m - 1 {
			k := charset(bits.TrailingZeros8(m))
			if i < next[k] {
				continue
			}
			q, ok := parseSeq(rs, i, k)
			if !ok {
				continue
			}
			c := cluster{cs: k, start: q.start, s0: int32(len(r.seqs)), clean: true, orig: -1}
			for ok {
				r.seqs = append(r.seqs, q)
				c.end = q.end
				c.lossy = c.lossy || q.lossy
				c.question = c.question || q.question
				c.clean = c.clean && !q.lossy && !q.space
				if int(q.end) >= len(rs) {
					break
				}
				q, ok = parseSeq(rs, int(q.end), k)
			}
			c.s1 = int32(len(r.seqs))
			r.cls = append(r.cls, c)
			next[k] = int(c.end) + 1
		}
	}
}

// candidates marks in r.cand, for each rune of rs, the charsets in which a
// sequence may start there, and lists in r.pos the runes where one may.
func (r *repairer) candidates(rs []rune) {
	cand, pos := r.cand[:0], r.pos[:0]
	for i := range rs {
		m := candMask(rs, i)
		cand = append(cand, m)
		if m != 0 {
			pos = append(pos, int32(i))
		}
	}
	r.cand, r.pos = cand, pos
}
