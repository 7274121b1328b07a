package textfix

// Scoring: a cluster is repaired when the text around it reads better
// decoded than as it is. Both versions are rated with the same badness
// function over the cluster and two runes of context on each side; the
// difference, minus the cost of the extra damage a repair must assume
// (lost bytes), is the cluster's score.

const ctx = 2 // runes of context on each side of a cluster

// scoreCluster rates repairing c in rs.
func scoreCluster(rs []rune, c *cluster) int {
	var obuf, dbuf [64]rune
	orig := window(obuf[:0], rs, c.start, c.end, nil)
	dec := window(dbuf[:0], rs, c.start, c.end, c.seqs)
	score := badness(orig) - badness(dec)
	for _, q := range c.seqs {
		switch {
		case q.space:
			score -= 2
		case q.lossy:
			score--
		}
	}
	return score
}

// window builds context + cluster (original runes, or the decoded ones when
// seqs is given) + context, with spaces standing for the edges of the text.
func window(w []rune, rs []rune, start, end int, seqs []seq) []rune {
	for i := start - ctx; i < start; i++ {
		if i < 0 {
			w = append(w, ' ')
		} else {
			w = append(w, rs[i])
		}
	}
	if seqs == nil {
		w = append(w, rs[start:end]...)
	} else {
		for _, q := range seqs {
			w = append(w, q.out)
		}
	}
	for i := end; i < end+ctx; i++ {
		if i >= len(rs) {
			w = append(w, ' ')
		} else {
			w = append(w, rs[i])
		}
	}
	return w
}

// badness rates the inner runes of a window (all but ctx on each side).
func badness(w []rune) int {
	total := 0
	last := len(w) - ctx - 1
	for i := ctx; i <= last; i++ {
		r := w[i]
		rc, rsc := props(r)
		ac, asc := props(w[i-1])
		aac, _ := props(w[i-2])
		cc, _ := props(w[i+1])
		total += rarity(r)
		total += transition(w[i-1], ac, asc, r, rc, rsc)
		if i == last {
			_, csc := props(w[i+1])
			total += transition(r, rc, rsc, w[i+1], cc, csc)
		}
		rLetter := isLetter(rc)
		switch {
		case rc == clsPunct && isLetter(ac) && isLetter(cc):
			// Punctuation inside a word: only apostrophes and dashes belong.
			switch {
			case isApostrophe(r):
			case r == 0x2013 || r == 0x2014 || r == 0x2010 || r == 0x2011:
				total++
			default:
				total += 3
			}
		case rLetter && r >= 0x80 && !isLetter(ac) && ac != clsDigit && (cc == clsPunct || cc == clsSym) &&
			!(isApostrophe(w[i+1]) && i+2 < len(w) && isLetterRune(w[i+2])):
			// A one-letter word made of an accented letter, glued to a symbol.
			if rc == clsLower {
				total += 3
			} else {
				total++
			}
		case rc == clsLower && r >= 0x80 && ac == clsUpper && aac == clsUpper:
			// "ABc": a lower-case accented letter closing a capitalised word.
			total += 3
		}
	}
	return total
}

func isLetter(c class) bool { return c == clsUpper || c == clsLower || c == clsLetter }

func isLetterRune(r rune) bool {
	c, _ := props(r)
	return isLetter(c)
}

// transition rates rune y following rune x.
func transition(x rune, xc class, xs script, y rune, yc class, ys script) int {
	xl, yl := isLetter(xc), isLetter(yc)
	switch {
	case xc == clsControl || yc == clsControl:
		return 2
	case xl && yl:
		if xs != ys && xs != scOther && ys != scOther {
			if xs == scCJK || ys == scCJK {
				return 1
			}
			return 4
		}
		if xc == clsLower && yc == clsUpper && (x >= 0x80 || y >= 0x80) {
			return 3
		}
		return 0
	case xl && yc == clsSym:
		switch y {
		case 0x2122, 0xAE, 0xA9: // ™ ® ©
			if x < 0x80 {
				return 0
			}
			return 2
		case 0xB0, 0xB2, 0xB3, 0xB9: // ° ² ³ ¹
			return 1
		}
		return 3
	case xc == clsSym && yl:
		switch {
		case x == 0xB0 && (y == 'C' || y == 'F'), x == 0xB5:
			return 0
		}
		return 2
	case xc == clsSym && yc == clsSym:
		if x == y || (x >= 0x2500 && x < 0x2600 && y >= 0x2500 && y < 0x2600) {
			return 0
		}
		return 2
	case xc == clsSym && yc == clsPunct, xc == clsPunct && yc == clsSym:
		return 1
	case xc == clsPunct && yc == clsPunct:
		if x == y {
			return 0
		}
		return 1
	case xc == clsMark && !(yl || yc == clsMark):
		return 0
	case yc == clsMark && !(xl || xc == clsMark):
		return 1
	case xc == clsNBSP && (yc == clsSym || yc == clsPunct), yc == clsNBSP && (xc == clsSym || xc == clsPunct):
		return 1
	}
	return 0
}
