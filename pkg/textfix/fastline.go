package textfix

import (
	"slices"
	"unicode/utf8"
)

// The fast path. Most damaged lines are damaged in one charset throughout:
// every run of non-ASCII runes that holds mojibake of that charset is
// mojibake through and through, and encoded in that charset it is valid
// UTF-8. Such a line needs no scoring cluster by cluster: fastLine decodes
// it at once, with a few table look-ups a rune, through several layers if
// need be. Whatever does not fit (a run only partly made of sequences, a
// lost byte, readings of two charsets that the badness measure does not
// tell clearly apart, too little evidence, a result that does not read
// like clean text) is left to the scorer, which weighs each cluster in its
// context.

// minFastEvidence is the least evidence, counted as the continuation bytes
// of the decoded sequences (one for "Ã©", two for "â€™"), for which a line
// is repaired by fastLine as a matter of course. A line with less (one
// two-byte sequence) is repaired only when the sequence decodes to a
// common character that reads better by as much as the scorer asks of a
// cluster on its own, and vouches for nothing.
const minFastEvidence = 2

// maxFastLayers bounds the layers fastLine decodes at once.
const maxFastLayers = 3

// A fastRun is a run of non-ASCII runes, line[start:end], with a
// suspicious pair in it: a lead followed by a continuation in the charsets
// pair. read has the charsets in which each of its runes is a lead or a
// continuation.
type fastRun struct {
	start, end int
	e0, e1     int // its runes' entries, in the fastLiner's ents
	pair, read uint8
}

// A fastLiner holds the buffers of fastLine, reused from line to line.
type fastLiner struct {
	runs []fastRun
	ents []*alphaEntry
	out  [maxFastLayers][]byte
	alt  []byte
}

// fastLine repairs line (one line, without '\n') at once when it is
// damaged in one charset throughout. A run of non-ASCII runes that holds a
// pair of a charset (a lead followed by a continuation) must, encoded in
// that charset, be valid UTF-8 on its own, or the charset cannot explain
// the line; runs without a pair of it are left as they are, so that text
// that merely looks odd does not pass: one rune of a run that is not part
// of a sequence makes the run invalid. Charsets that read the line the
// same way agree, and the one the scorer prefers (by charsetPrior, then
// charset order) is reported; of two different readings, the one with the
// lower badness wins by readingMargin or the line goes to the scorer. A
// result that holds a rare character or another pair is decoded again, up
// to maxFastLayers; every run decoded must read like clean text (see
// check). It returns the repaired line, valid until the next call, and the
// charsets used, and adds to vouched every charset that read the line that
// way; settled reports that the result holds no pair and no lead before a
// stand-in for a lost byte, and that no run with a pair was left as it
// was, so that no further layer would examine the line; ok is false when
// the line is left to the scorer.
func (f *fastLiner) fastLine(line string, vouched *uint8) (out []byte, used uint16, settled, ok bool) {
	var agreed uint8
	var last fastLayer // the last layer decoded, when it holds a pair
	for layer := 0; layer < maxFastLayers; layer++ {
		l, ok := f.layer(line, layer)
		if !ok || !l.plausibleRest {
			break
		}
		used |= l.used
		agreed |= l.agreed
		if !l.rare && !l.again {
			*vouched |= agreed
			return l.out, used, l.settled, true
		}
		last = l
		line = string(l.out) // the next layer reads it while writing its own buffer
	}
	// The pairs of the last layer decoded are not another layer that
	// fastLine could undo (a clean "’é" is a pair): the scorer will look
	// at them, in the next round. The result must read clean throughout.
	if last.out == nil || last.rare || !last.plausible {
		return nil, 0, false, false
	}
	*vouched |= agreed
	return last.out, used, false, true
}

// A fastLayer is one layer decoded by fastLine: the line decoded, the
// charset used and those that agree, and what check found in the runs
// decoded.
type fastLayer struct {
	out           []byte
	used          uint16
	agreed        uint8
	rare          bool // a rare character: another layer must take it apart
	again         bool // a pair: another layer to decode
	plausible     bool // every run decoded reads like clean text
	plausibleRest bool // every run decoded that holds no pair reads like clean text
	settled       bool // no pair, no stand-in, no run left with a pair: no further layer would look
}

// layer decodes one layer of line.
func (f *fastLiner) layer(line string, layer int) (fastLayer, bool) {
	runs, ents := f.runs[:0], f.ents[:0]
	var m uint8       // the charsets with a pair in some run that read every run they have a pair in
	var cant uint8    // the charsets with a pair in a run they cannot read whole
	var standIn uint8 // the charsets with a lead before a stand-in for a lost byte
	for i := skipASCII(line, 0); i < len(line); i = skipASCII(line, i) {
		// A run of non-ASCII runes: the charsets that may read all of it
		// as sequences, and those that have a pair in it.
		run := fastRun{start: i, read: 1<<numCharsets - 1, e0: len(ents)}
		var prev *alphaEntry
		for i < len(line) && line[i] >= utf8.RuneSelf {
			r, n := decodeRune(line, i)
			e := lookup(r)
			if e == nil {
				if r == utf8.RuneError {
					return fastLayer{}, false // a lost byte: the scorer's
				}
				run.read = 0
			} else {
				run.read &= e.lead | e.cont
				if prev != nil {
					run.pair |= prev.lead & e.cont
				}
			}
			ents = append(ents, e)
			prev = e
			i += n
		}
		run.end, run.e1 = i, len(ents)
		if prev != nil && prev.lead != 0 {
			standIn |= pairMask(line, i, prev)
		}
		if run.pair == 0 {
			ents = ents[:run.e0]
			continue
		}
		m |= run.pair
		cant |= run.pair &^ run.read
		runs = append(runs, run)
	}
	f.runs, f.ents = runs, ents
	if m &^= cant; m == 0 {
		return fastLayer{}, false
	}
	if standIn&m != 0 {
		return fastLayer{}, false // the scorer weighs the stand-ins
	}
	// Each charset's reading; when two differ, the one that reads better
	// by the scorer's measure, by a clear margin, or none.
	buf := slices.Grow(f.out[layer][:0], len(line)) // decoding never lengthens a line
	alt := slices.Grow(f.alt[:0], len(line))
	var c1, bestMarks bool
	var agreed uint8
	best := charset(numCharsets)
	bestBad, runnerUp := -1, maxBadness
	for _, k := range fastOrder {
		if m&(1<<k) == 0 {
			continue
		}
		enc, kc1, marks, valid := decodeRuns(alt[:0], line, runs, ents, k)
		alt = enc
		if !valid {
			continue
		}
		switch {
		case best == numCharsets:
			buf, alt = alt, buf
		case string(enc) == string(buf):
			agreed |= 1 << k
			continue
		case marks && !bestMarks:
			// Combining marks where another reading has none: the wrong
			// reading (MacRoman's of "Ã©" is "̩").
			continue
		case bestMarks && !marks:
			buf, alt = alt, buf
			bestBad = -1
		default:
			if bestBad < 0 {
				bestBad = readingBadness(line, runs, buf, 1<<best, charsetPrior[best])
			}
			kb := readingBadness(line, runs, enc, 1<<k, charsetPrior[k])
			if kb >= bestBad {
				runnerUp = min(runnerUp, kb)
				continue
			}
			runnerUp = min(runnerUp, bestBad)
			bestBad = kb
			buf, alt = alt, buf
		}
		best, c1, bestMarks = k, kc1, marks
		agreed = 1 << k
	}
	f.out[layer], f.alt = buf, alt
	if best == numCharsets {
		return fastLayer{}, false
	}
	c := check(line, runs, buf, best)
	if bestBad >= 0 && (runnerUp < bestBad+readingMargin || c.again && bestBad >= acceptScore) {
		// Close, or a reading that may be mojibake again (it holds a pair
		// and does not read clean), which only the next layer tells apart:
		// the scorer looks through it.
		return fastLayer{}, false
	}
	// A run left as it is (no pair of the charset chosen) must be one the
	// scorer would leave too: no pair of it that the scorer could repair.
	left := false
	for _, run := range runs {
		if run.pair&(1<<best) != 0 {
			continue
		}
		if j, _ := nextTrigger(line, run.start); j >= 0 && j < run.end {
			return fastLayer{}, false
		}
		left = true
	}
	if c.evidence < minFastEvidence {
		// One short sequence: repaired only when it decodes to a common
		// character and reads as much better as the scorer asks of a
		// cluster on its own; it vouches for nothing.
		if c.evidence == 0 || c.rarest > 0 || bestBad >= 0 || readingBadness(line, runs, nil, 0, 0)-
			readingBadness(line, runs, buf, 1<<best, charsetPrior[best]) < acceptScore {
			return fastLayer{}, false
		}
		agreed = 0
	}
	l := fastLayer{
		out: buf, used: 1 << best, agreed: agreed,
		rare: c.rarest >= rareRune, again: c.again,
		plausible: c.plausible, plausibleRest: c.plausibleRest,
		settled: !c.again && !c.standIn && standIn == 0 && !left,
	}
	if best == cp1252 && c1 {
		l.used = 1 << latin1
	}
	return l, true
}

// decodeValid decodes the rune at text[i], which starts a valid UTF-8
// sequence of two bytes or more.
func decodeValid(text []byte, i int) (rune, int) {
	switch c := text[i]; {
	case c < 0xE0:
		return rune(c&0x1F)<<6 | rune(text[i+1]&0x3F), 2
	case c < 0xF0:
		return rune(c&0x0F)<<12 | rune(text[i+1]&0x3F)<<6 | rune(text[i+2]&0x3F), 3
	}
	return rune(text[i]&0x07)<<18 | rune(text[i+1]&0x3F)<<12 | rune(text[i+2]&0x3F)<<6 | rune(text[i+3]&0x3F), 4
}

// readingMargin is how much better, by the scorer's badness, one reading
// of a line must be than another for fastLine to choose it.
const readingMargin = 2

// maxBadness stands for the badness of a reading that cannot be rated.
const maxBadness = 1 << 30

// readingBadness rates the reading dec of line, in which the runs with a
// pair in the charsets decoded are decoded, as the scorer rates a cluster:
// the badness of each run with ctx runes of the line on each side, plus
// prior. With decoded 0 it rates line as it is (dec is not read).
func readingBadness(line string, runs []fastRun, dec []byte, decoded uint8, prior int) int {
	t := propsTable()
	total := prior
	d, p := 0, 0 // offsets in dec and line
	for _, run := range runs {
		d += run.start - p
		p = run.end
		var wbuf [winBuf]rune
		w := wbuf[:ctx]
		for i, j := ctx-1, run.start; i >= 0; i-- {
			if j == 0 {
				w[i] = ' '
				continue
			}
			r, n := utf8.DecodeLastRuneInString(line[:j])
			w[i], j = r, j-n
		}
		if run.pair&decoded == 0 {
			for _, r := range line[run.start:run.end] {
				if len(w) == winBuf-ctx {
					return maxBadness
				}
				w = append(w, r)
			}
			d += run.end - run.start
		} else {
			end := d + run.e1 - run.e0 // one byte a rune of the run, decoded
			for d < end {
				r, n := decodeValid(dec, d)
				if len(w) == winBuf-ctx {
					return maxBadness
				}
				w = append(w, r)
				d += n
			}
		}
		j := run.end
		for range ctx {
			if j >= len(line) {
				w = append(w, ' ')
				continue
			}
			r, size := utf8.DecodeRuneInString(line[j:])
			w = append(w, r)
			j += size
		}
		total += badness(t, w)
	}
	return total
}

// fastOrder is the order in which the scorer prefers charsets that read
// the same runes the same way: by charsetPrior, then charset order.
var fastOrder = [numCharsets]charset{cp1252, cp1251, cp1250, cp1257, macroman, iso88592, cp437}

// decodeRuns appends line to dst with each of runs that has a pair in
// charset k, encoded in k, decoded as UTF-8: ents holds the entries of the
// runs' runes. valid is false when such a run is not valid UTF-8 in k. c1
// reports a C1 control that stood for its own byte, marks a combining mark
// of U+0300-U+037F in the result.
func decodeRuns(dst []byte, line string, runs []fastRun, ents []*alphaEntry, k charset) (out []byte, c1, marks, valid bool) {
	pos := 0
	for _, run := range runs {
		if run.pair&(1<<k) == 0 {
			continue // left as it is
		}
		dst = append(dst, line[pos:run.start]...)
		from := len(dst)
		for _, e := range ents[run.e0:run.e1] {
			b := e.b[k]
			if e.r < 0xA0 && decodeTable[k][b] != e.r {
				c1 = true
			}
			marks = marks || b == 0xCC || b == 0xCD // leads of U+0300-U+037F
			dst = append(dst, b)
		}
		if !utf8.Valid(dst[from:]) {
			return dst, false, false, false
		}
		pos = run.end
	}
	return append(dst, line[pos:]...), c1, marks, true
}

// A runCheck is what check finds in a reading.
type runCheck struct {
	evidence  int  // the continuation bytes of the sequences: one for "Ã©", two for "â€™"
	rarest    int  // the highest rarity of the characters decoded
	again     bool // a pair among the characters decoded: another layer
	standIn   bool // a lead decoded last in its run, before what may stand for a lost byte
	plausible bool // see check, for every run
	// plausibleRest is plausible for the runs that hold no pair, which
	// another layer may decode.
	plausibleRest bool
}

// check reads the runs of line decoded in charset k into dec. A run is
// plausible when it is free of what a wrong reading makes of mojibake,
// with the characters on each side:
// a combining mark of U+0300-U+036F after a Latin letter (MacRoman's
// reading of "Ã©"), or letters of two scripts, or a lower-case letter
// before a capital, glued together where one of them is not ASCII. Clean
// text has none of them.
func check(line string, runs []fastRun, dec []byte, k charset) runCheck {
	t := propsTable()
	c := runCheck{plausible: true, plausibleRest: true}
	d, p := 0, 0 // offsets in dec and line
	for _, run := range runs {
		d += run.start - p
		p = run.end
		if run.pair&(1<<k) == 0 {
			d += run.end - run.start
			continue
		}
		prev := rune(' ')
		if d > 0 {
			prev, _ = utf8.DecodeLastRune(dec[:d])
		}
		pp := propOf(t, prev)
		var pe *alphaEntry
		pair, odd := false, false
		end := d + run.e1 - run.e0 // each rune of the run is one byte now
		for d < end {
			r, n := decodeValid(dec, d)
			pr := propOf(t, r)
			c.rarest = max(c.rarest, pr.rarity())
			c.evidence += n - 1
			e := lookup(r)
			if pe != nil && e != nil && pe.lead&e.cont != 0 {
				pair = true
			}
			next := ' ' // the edge of the text, as the badness measure's window has it
			if d+n < len(dec) {
				next, _ = utf8.DecodeRune(dec[d+n:])
			}
			odd = odd || glued(prev, pp, r, pr) || lonelyCJK(prev, pp, pr, propOf(t, next))
			prev, pp, pe = r, pr, e
			d += n
		}
		if d < len(dec) {
			next, _ := utf8.DecodeRune(dec[d:])
			odd = odd || glued(prev, pp, next, propOf(t, next))
			// As pairMask, for the ASCII that follows a run: a space for
			// 0xA0 after a two-byte lead, or between a longer lead and a
			// continuation; '?' after a lead.
			if pe != nil {
				long := pe.lead&^pe.lead2&nbspCharsets != 0 && d+1 < len(dec) && dec[d+1] >= utf8.RuneSelf
				c.standIn = c.standIn || next == ' ' && (pe.sp != 0 || long) || next == '?' && pe.lead2 != 0
			}
		}
		c.again = c.again || pair
		c.plausible = c.plausible && !odd
		c.plausibleRest = c.plausibleRest && (pair || !odd)
	}
	return c
}

// glued reports whether rune y (props py) after rune x (props px) is what
// a wrong reading of mojibake makes (see check).
func glued(x rune, px runeProp, y rune, py runeProp) bool {
	if x < utf8.RuneSelf && y < utf8.RuneSelf {
		return false
	}
	if y >= 0x300 && y < 0x370 && (x < utf8.RuneSelf || px.script() == scLatin) {
		return true
	}
	return isLetter(px.class()) && isLetter(py.class()) &&
		transition(x, px.class(), px.script(), y, py.class(), py.script()) >= 3
}
