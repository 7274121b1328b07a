package textfix

import (
	"unicode"
	"unicode/utf8"
)

// Scoring: a cluster is repaired when the text around it reads better
// decoded than as it is. Both versions are rated with the same badness
// function over the cluster and ctx runes of context on each side; the
// difference, adjusted for how likely the charset is and for the extra
// damage a repair must assume (lost bytes), is the cluster's score.

const (
	winBuf   = 48    // runes of a window kept on the stack; longer ones grow
	ctx      = 3     // runes of context on each side of a cluster
	rejected = -1000 // the score of a cluster that must not be repaired
	rareRune = 4     // a decoded rune this rare blocks the repair
)

// charsetPrior is how much evidence each charset needs beyond windows-1252:
// the rarer the mix-up in practice, the more.
var charsetPrior = [numCharsets]int{cp1252: 0, cp1250: 1, cp1251: 0, iso88592: 2, cp1257: 1, macroman: 1, cp437: 2}

// scoreCluster rates repairing c, whose sequences are seqs, in rs. depth
// is the number of layers already looked through; r repairs the next.
// The badness of c's window as it is, in c.orig, is rated once.
func scoreCluster(rs []rune, c *cluster, seqs []seq, depth int, r *repairer) int {
	t := propsTable()
	var dbuf [winBuf]rune
	dec := window(dbuf[:0], rs, int(c.start), int(c.end), seqs)
	inner := dec[ctx : len(dec)-ctx]
	deeper := depth < maxDepth && hasStrongPair(inner)
	if !deeper && rare(t, inner) {
		return rejected // without rating what no further layer can change
	}
	db := badness(t, dec)
	if deeper {
		// Look through the next layer: repair the decoded runes on their
		// own and judge the result in the original context.
		var v uint8
		d := r.deep()
		d.line = append(d.line[:0], inner...)
		if deep, used := d.repair(d.line, &v, depth+1); used != 0 {
			var wbuf [winBuf]rune
			w := append(append(append(wbuf[:0], dec[:ctx]...), deep...), dec[len(dec)-ctx:]...)
			if b := badness(t, w); b < db {
				db, dec = b, w
			}
		}
	}
	if rare(t, dec[ctx:len(dec)-ctx]) {
		return rejected
	}
	if c.orig < 0 {
		c.orig = origBadness(t, rs, c)
	}
	return c.orig - db - charsetPrior[c.cs] + seqBonus(rs, seqs)
}

// scoreBound is an upper bound on scoreCluster for a cluster whose decoded
// runes hold no pair a further layer could repair (hasStrongPair is false):
// the badness of the decoded window is at least the rarity of its runes.
// Like scoreCluster, it keeps the badness of the window as it is in c.orig.
func scoreBound(rs []rune, c *cluster, seqs []seq) int {
	t := propsTable()
	db := 0
	for _, q := range seqs {
		db += propOf(t, q.out).rarity()
	}
	if c.orig < 0 {
		c.orig = origBadness(t, rs, c)
	}
	return c.orig - db - charsetPrior[c.cs] + seqBonus(rs, seqs)
}

// origBadness rates the window of c in rs as it is.
func origBadness(t *[propsLimit]runeProp, rs []rune, c *cluster) int {
	var obuf [winBuf]rune
	orig := window(obuf[:0], rs, int(c.start), int(c.end), nil)
	// C1 controls that windows-1252 defines are repaired on their own, so
	// the original is judged as if they had been.
	for i := ctx; i < len(orig)-ctx; i++ {
		if r := orig[i]; r >= 0x80 && r < 0xA0 {
			orig[i] = decodeTable[cp1252][r]
		}
	}
	return badness(t, orig)
}

// seqBonus is the part of a cluster's score that its sequences earn or
// lose on their own: long sequences are rarely accidental, lost bytes must
// be assumed. rs holds the text the sequences were read from.
func seqBonus(rs []rune, seqs []seq) int {
	score := 0
	for _, q := range seqs {
		n := q.end - q.start
		switch {
		case q.question:
			score++ // U+FFFD is no rarer than the '?' it replaces, but '?' is weak evidence
		case q.space:
			score -= 2
			if n >= 3 && rarity(q.out) == 0 {
				score += 2
			}
		case q.lossy:
			score += 2 // the original had the U+FFFD already
		case q.out == 0xFFFD:
			score += 3 // "ï¿½": a replacement character, mis-decoded
		case n >= 4 && rarity(q.out) == 0:
			score += 3
		case n == 3 && rarity(q.out) == 0 && !typography(rs, q):
			score += 2
		}
	}
	return score
}

// typography reports whether the three runes of q read as a one-letter
// word followed by punctuation or spaces: "é…”", "è—»", "é\u00a0«" are
// how a quotation in Portuguese, Italian or French typography looks, and
// such a sequence is an accident as often as it is damage, so it earns no
// bonus for its length.
func typography(rs []rune, q seq) bool {
	if !isWordAlone(rs[q.start]) {
		return false
	}
	if q.start > 0 {
		// A word starts after a space or an opening quote or bracket.
		switch p := rs[q.start-1]; p {
		case ' ', '\t', '\n', 0xA0, '(', '[', '"', '\'', 0x201C, 0x201E, 0x2018, 0xAB, 0x2039:
		default:
			return false
		}
	}
	for _, r := range rs[q.start+1 : q.end] {
		if isLetterRune(r) || r < utf8.RuneSelf && r != ' ' {
			return false
		}
	}
	return true
}

// rare reports whether one of rs is a rune that blocks a repair; t is
// propsTable().
func rare(t *[propsLimit]runeProp, rs []rune) bool {
	for _, r := range rs {
		if propOf(t, r).rarity() >= rareRune {
			return true
		}
	}
	return false
}

// window builds context + cluster (original runes, or the decoded ones when
// seqs is given) + context, with spaces standing for the edges of the text.
func window(w []rune, rs []rune, start, end int, seqs []seq) []rune {
	// seqs is nil for the original runes; a cluster always has seqs.
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

// badness rates the inner runes of a window (all but ctx on each side) and
// the first rune after them, whose rating depends on them. t is
// propsTable().
func badness(t *[propsLimit]runeProp, w []rune) int {
	var pbuf [winBuf]runeProp
	ps := pbuf[:0]
	for _, r := range w {
		ps = append(ps, propOf(t, r))
	}
	total := 0
	stop := len(w) - ctx + 1
	for i := ctx; i < stop; i++ {
		total += runeCost(w, ps, i, i < stop-1)
	}
	return total
}

// runeCost rates w[i] in its context; ps holds the props of each rune of w.
func runeCost(w []rune, ps []runeProp, i int, inner bool) int {
	r, p, pp, n, nn := w[i], w[i-1], w[i-2], w[i+1], w[i+2]
	rc, rsc := ps[i].class(), ps[i].script()
	pc, psc := ps[i-1].class(), ps[i-1].script()
	ppc := ps[i-2].class()
	nc := ps[i+1].class()
	cost := transition(p, pc, psc, r, rc, rsc)
	if inner {
		cost += ps[i].rarity()
	}
	rl, pl, nl := isLetter(rc), isLetter(pc), isLetter(nc)
	if lonelyCJK(p, ps[i-1], ps[i], ps[i+1]) {
		cost += 3
	}
	switch {
	case rc == clsPunct && pl && nl && !(r >= 0xFF00 && r < 0xFF66 || r >= 0x3000 && r < 0x3040):
		// Punctuation inside a word: only apostrophes and dashes belong.
		switch {
		case isApostrophe(r):
		case r == 0x2013 || r == 0x2014 || r == 0x2010 || r == 0x2011:
			cost++
		default:
			cost += 4
		}
	case rl && r >= 0x80 && !pl && pc != clsDigit && !nl && nc != clsDigit:
		cost += oneLetterWord(r, rc, rsc, n, nc, nn, ps[i+2].class(), ps[i+2].script())
	case rc == clsLower && pc == clsUpper && ppc == clsUpper && (r >= 0x80 || p >= 0x80 || pp >= 0x80):
		// "ABc": a lower-case letter closing a capitalised word.
		cost += 3
	}
	if isNotoriousLead(p) && r >= 0x80 && !(isApostrophe(r) && nl) {
		// "Ã", "Â", "Ĺ" glued to a character that continues UTF-8.
		if e := lookup(r); e != nil && e.cont != 0 {
			cost++
		}
	}
	return cost
}

// oneLetterWord rates a non-ASCII letter that stands alone as a word.
func oneLetterWord(r rune, rc class, rsc script, n rune, nc class, nn rune, nnc class, nsc script) int {
	cost := 0
	switch {
	case rc == clsLower && rsc == scLatin && !isOneLetterWord(r):
		cost += 2
	case rc == clsLetter && (rsc == scArabic && r != 0x648 || rsc == scHebrew):
		// An Arabic letter other than "و", or a Hebrew one, as a word of
		// its own: words of these alphabets are longer ("Ø½" is no
		// windows-1252 damage of "ؽ").
		cost += 2
	case rc == clsUpper && !isOneLetterWord(r) && n == ' ':
		// A capital standing alone before a lower-case word: "Ã perturber".
		if nnc == clsLower {
			cost += 3
			if nsc != rsc {
				cost += 2
			}
		}
	}
	if (nc == clsPunct || nc == clsSym) && !isApostrophe(n) && !(isWordAlone(r) && closesWord(n)) {
		if rc == clsLower {
			cost += 2
		} else {
			cost++
		}
	}
	return cost
}

// lonelyCJK reports whether a CJK character (props pr) after rune p (props
// pp) and before a rune of props pn is glued to the end of a word of ASCII
// letters with no other CJK character after it: how windows-1252 reads a
// word that ends in an accented letter and a closing quote ("Perché…»" is
// "Perch酻"), not how Chinese or Japanese mixes in Latin words
// ("iPhone手机").
func lonelyCJK(p rune, pp, pr, pn runeProp) bool {
	return pr.script() == scCJK && p < utf8.RuneSelf && isLetter(pp.class()) &&
		!(isLetter(pn.class()) && pn.script() == scCJK)
}

// closesWord reports whether r is punctuation that follows a word in clean
// text: an ellipsis, a closing quote or guillemet. After a one-letter word
// it is what a quotation that trails off looks like (Portuguese "é…”",
// Italian "è…»"), not damage. Dashes are left out: MacRoman reads the
// UTF-8 lead of Cyrillic as one ("–∏" is "и").
func closesWord(r rune) bool {
	switch r {
	case 0x2026, 0x201D, 0x201C, 0x2019, 0x2018, 0xBB, 0x203A:
		return true
	}
	return false
}

// isWordAlone reports whether r is a word on its own in some language
// written with the Latin alphabet (isOneLetterWord) or with the Cyrillic
// one (Russian и, в, с, к, у, о, а, я, ж; Ukrainian і, й, з, є;
// Bulgarian е), in either case.
func isWordAlone(r rune) bool {
	if isOneLetterWord(r) {
		return true
	}
	switch unicode.ToLower(r) {
	case 'а', 'в', 'е', 'ж', 'и', 'й', 'к', 'о', 'с', 'у', 'я', 'і', 'з', 'є':
		return true
	}
	return false
}

// isOneLetterWord reports whether r is a word on its own in some language
// written with the Latin alphabet (à, é, è, ó, ö, å, ø ...).
func isOneLetterWord(r rune) bool {
	switch r {
	case 'à', 'á', 'è', 'é', 'ì', 'í', 'ò', 'ó', 'ö', 'ø', 'å', 'ù', 'ú',
		'À', 'Á', 'È', 'É', 'Ó', 'Ò', 'Ö', 'Ø', 'Ú':
		return true
	}
	return false
}

func isLetter(c class) bool { return c-clsUpper <= clsLetter-clsUpper } // the three letter classes are consecutive

func isLetterRune(r rune) bool {
	c, _ := props(r)
	return isLetter(c)
}

// isQuoteish reports whether r is punctuation that often sits next to other
// punctuation in clean text.
func isQuoteish(r rune) bool {
	switch r {
	case 0x2026, 0x2019, 0x2018, 0x201C, 0x201D, 0xAB, 0xBB, 0x2013, 0x2014, 0xBF, 0xA1:
		return true
	}
	return false
}

// transition rates rune y following rune x.
func transition(x rune, xc class, xs script, y rune, yc class, ys script) int {
	xl, yl := isLetter(xc), isLetter(yc)
	switch {
	case xc == clsControl || yc == clsControl:
		return 2
	case xl && yl:
		if xs != ys && xs != scOther && ys != scOther {
			if xs == scCJK || ys == scCJK || xs == scGreek && ys == scLatin || xs == scLatin && ys == scGreek {
				return 1
			}
			return 4
		}
		if xc == clsLower && yc == clsUpper && (x >= 0x80 || y >= 0x80) {
			return 3
		}
		if x >= 0xC0 && x < 0x250 && isHighLatin(y) {
			return 2 // "âœ", "Ãš": an accented letter before œ, š, ž, ƒ ...
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
			if x < 0x80 {
				return 1
			}
		}
		return 3
	case xc == clsSym && yl:
		if x == 0xB0 && (y == 'C' || y == 'F') || x == 0xB5 {
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
		if x == y || isQuoteish(x) && isQuoteish(y) {
			return 0
		}
		return 1
	case yc == clsMark && !(xl || xc == clsMark || xc == clsDigit):
		return 1
	case xc == clsNBSP && (yc == clsSym || yc == clsPunct), yc == clsNBSP && (xc == clsSym || xc == clsPunct):
		return 1
	}
	return 0
}

// isHighLatin reports whether r is one of the letters windows-1252 puts
// between 0x80 and 0x9F, which in clean text never follow an accented letter.
func isHighLatin(r rune) bool {
	switch r {
	case 0x152, 0x153, 0x160, 0x161, 0x17D, 0x17E, 0x178, 0x192:
		return true
	}
	return false
}

// isNotoriousLead reports whether r is a letter that mojibake produces far
// more often than clean text does: the leads of the most common two-byte
// UTF-8 sequences in windows-1252 (Ã Â) and windows-1250/ISO-8859-2 (Ĺ).
// "Ă" is nearly as telling but is a Romanian capital, so it only counts
// as rare (see rarity).
func isNotoriousLead(r rune) bool {
	return r == 0xC3 || r == 0xC2 || r == 0x139
}
