package textfix

import "unicode/utf8"

// Levels of a suspicious pair: a lead followed by a continuation of the
// same charset, or by a stand-in for a lost byte.
const (
	pairNone   = iota // no cluster the scorer could accept starts here
	pairWeak          // a lone sequence, repaired only where its charset is vouched for
	pairStrong        // a cluster that may be repaired on its own
)

// pairMask returns the charsets in which lead e, followed by the text at
// s[j:], may start a sequence: what candMask computes on runes.
func pairMask(s string, j int, e *alphaEntry) uint8 {
	if j >= len(s) {
		return 0
	}
	if c := s[j]; c < utf8.RuneSelf {
		switch c {
		case ' ':
			m := e.sp
			// A three- or four-byte lead, a space for 0xA0, a continuation.
			if long := e.lead &^ e.lead2 & nbspCharsets; long != 0 && j+1 < len(s) && s[j+1] >= utf8.RuneSelf {
				r, _ := decodeRune(s, j+1)
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
// sequence of that charset follows, it is strong, unless one of them
// decodes to a rare character. A lone sequence is scored
// as the repair scores it (the score depends on three runes of context on
// each side of it, within the line, and nothing else): one that may be
// accepted on its own is strong; one that only the largest bonus for other
// strong clusters could carry is weak; one that nothing could carry, or
// that decodes to a rare character, is none. It does not allocate.
func pairLevel(s string, i int, m uint8) int {
	// Most pairs in clean text fail to form a whole sequence, or decode to
	// a rare character: that much can be read off the bytes.
	r, n := decodeRune(s, i)
	e := lookup(r)
	// The (up to three) runes a sequence starting at the lead would take,
	// within the line.
	var next [3]rune
	cnt := 0
	for j := i + n; cnt < len(next) && j < len(s) && s[j] != '\n'; cnt++ {
		if c := s[j]; c < utf8.RuneSelf {
			next[cnt] = rune(c)
			j++
			continue
		}
		var size int
		next[cnt], size = decodeRune(s, j)
		j += size
	}
	viable := uint8(0)
	for k := charset(0); k < numCharsets; k++ {
		if m&(1<<k) != 0 && mayParse(e, k, next[:cnt]) {
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
	var buf [ctx + 16]rune
	rs, p, j := buf[:0], 0, start
	for j < len(s) && s[j] != '\n' && len(rs) < len(buf) {
		if j == i {
			p = len(rs)
		}
		// Decode in line, as scan does; the rest is rare.
		var r rune
		n := 1
		if c := s[j]; c < utf8.RuneSelf {
			r = rune(c)
		} else if c < 0xE0 && c >= 0xC2 && j+1 < len(s) && s[j+1]&0xC0 == 0x80 {
			r, n = rune(c&0x1F)<<6|rune(s[j+1]&0x3F), 2
		} else {
			r, n = decodeRune(s, j)
		}
		rs = append(rs, r)
		j += n
	}
	// rs holds what parseSeq and scoreCluster read of a sequence at rs[p]
	// and of one right after it (up to p+15). Only a longer cluster can
	// reach the end of rs before the end of the line.
	return runeLevel(rs, p, m, j < len(s) && s[j] != '\n')
}

// runeLevel is pairLevel on runes: rs[p] is the lead, m its candidate
// mask, and cut tells whether rs stops short of the end of the line.
func runeLevel(rs []rune, p int, m uint8, cut bool) int {
	level := pairNone
	for k := charset(0); k < numCharsets; k++ {
		if m&(1<<k) == 0 {
			continue
		}
		q, ok := parseSeq(rs, p, k)
		if !ok || hopeless(q.out) {
			continue
		}
		if end := int(q.end); end < len(rs) {
			if _, ok := parseSeq(rs, end, k); ok {
				// A longer cluster: strong, unless one of its sequences
				// decodes to a rare character.
				if longCluster(rs, end, k, cut) {
					return pairStrong
				}
				continue
			}
		}
		one := [1]seq{q}
		c := cluster{cs: k, start: q.start, end: q.end, s1: 1, lossy: q.lossy, question: q.question, clean: !q.lossy && !q.space, orig: -1}
		lossy := c.lossy && !c.question
		// A lone sequence decodes to one rune: there is no further layer
		// to look through, so no repairer is needed, and a bound on the
		// score that is too low already settles it.
		if ub := scoreBound(rs, &c, one[:]); ub+bigDocBonus < acceptScore && !(lossy && ub+bigDocBonus >= lossyAccept) {
			continue
		}
		switch sc := scoreCluster(rs, &c, one[:], 0, nil); {
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
// starts with lead e and goes on with the runes next, and whether its
// output may be accepted. It is false only when the continuations are
// missing or the bytes decode to nothing valid or to a hopeless rune;
// stand-ins for lost bytes are left to parseSeq.
func mayParse(e *alphaEntry, k charset, next []rune) bool {
	var buf [utf8.UTFMax]byte
	buf[0] = e.b[k]
	n := 2
	if buf[0] >= 0xF0 {
		n = 4
	} else if buf[0] >= 0xE0 {
		n = 3
	}
	for t := 1; t < n; t++ {
		if t > len(next) {
			return false
		}
		r := next[t-1]
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
		i = int(q.end)
	}
	return true
}

// nextTrigger returns the offset, at or after i, of the next lead of a
// suspicious pair rated weak or strong, and its level; -1 when there is
// none.
func nextTrigger(s string, i int) (int, int) {
	for i = skipASCII(s, i); i < len(s); i = skipASCII(s, i) {
		r, n := decodeRune(s, i)
		if runeInfo(r)&rLead != 0 {
			if m := pairMask(s, i+n, lookup(r)); m != 0 {
				if level := pairLevel(s, i, m); level != pairNone {
					return i, level
				}
			}
		}
		i += n
	}
	return -1, pairNone
}

// candMask returns the charsets in which a sequence may start at rs[i]: a
// lead followed by a continuation of the same charset or by a stand-in for
// a lost byte (pairMask on runes).
func candMask(rs []rune, i int) uint8 {
	if i+1 >= len(rs) || rs[i] < utf8.RuneSelf {
		return 0
	}
	e := lookup(rs[i])
	if e == nil || e.lead == 0 {
		return 0
	}
	var ne *alphaEntry
	if rs[i+1] >= utf8.RuneSelf {
		ne = lookup(rs[i+1])
	}
	m := leadMask(e, rs[i+1], ne)
	if rs[i+1] == ' ' && i+2 < len(rs) {
		// A three- or four-byte lead, a space for 0xA0, a continuation.
		if ce := lookup(rs[i+2]); ce != nil {
			m |= e.lead &^ e.lead2 & nbspCharsets & ce.cont
		}
	}
	return m
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

// hasStrongPair reports whether rs, taken as a line of its own, has a
// suspicious pair rated strong. Without one, and with no charset vouched
// for, the repair of rs changes nothing.
func hasStrongPair(rs []rune) bool {
	for i := range rs {
		if m := candMask(rs, i); m != 0 && runeLevel(rs, i, m, false) == pairStrong {
			return true
		}
	}
	return false
}
