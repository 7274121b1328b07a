package textfix

import (
	"math/bits"

	"golang.org/x/text/unicode/norm"
)

// Fix repairs s with DefaultOptions and returns the repaired text.
func Fix(s string) string {
	out, _ := FixWith(s, DefaultOptions())
	return out
}

// Options select repairs. The zero value is NOT the default; use DefaultOptions().
type Options struct {
	// Mojibake undoes UTF-8 mis-decoded as a legacy charset (windows-1252,
	// ISO-8859-1, windows-1250, ISO-8859-2, windows-1251, windows-1257,
	// MacRoman, cp437),
	// over several layers and in parts of a string.
	Mojibake bool
	// HTMLEntities decodes &amp; &eacute; &#8217; &#x2019; ... Only
	// references closed by ';' are decoded, repeatedly, so that double
	// escaping (&amp;eacute;) is undone too.
	HTMLEntities bool
	// Controls turns C1 controls that stand for windows-1252 punctuation
	// into that punctuation, and removes stray C0 controls, DEL and U+FEFF.
	// Tab and newline stay; CR LF and lone CR become LF.
	Controls bool
	// Whitespace turns odd spaces (U+2000-U+200A, U+202F, U+205F, U+1680)
	// into a plain space, collapses runs of spaces and tabs to one space
	// and trims them at line ends. A no-break space between two visible
	// characters ("10\u00a0km") is kept: it was put there on purpose; one
	// next to other whitespace or at a line end is treated like any space.
	Whitespace bool
	// NFC applies Unicode normalisation form C.
	NFC bool
}

// DefaultOptions enables every repair.
func DefaultOptions() Options {
	return Options{Mojibake: true, HTMLEntities: true, Controls: true, Whitespace: true, NFC: true}
}

// Repair codes, in the order FixWith reports them.
const (
	codeInvalidUTF8 = 0
	codeEntities    = 1
	codeMojibake    = 2 // one code per charset, then latin1
	codeC1          = codeMojibake + int(numCharsets) + 1
	codeControls    = codeC1 + 1
	codeWhitespace  = codeC1 + 2
	codeNFC         = codeC1 + 3
	numCodes        = codeC1 + 4
)

func codeName(c int) string {
	switch {
	case c == codeInvalidUTF8:
		return "invalid-utf8"
	case c == codeEntities:
		return "html-entities"
	case c >= codeMojibake && c < codeC1:
		return charsetCodes[c-codeMojibake]
	case c == codeC1:
		return "c1-controls"
	case c == codeControls:
		return "control-chars"
	case c == codeWhitespace:
		return "whitespace"
	}
	return "nfc"
}

// The steps of FixWith, in order.
const (
	stepEntities = iota
	stepMojibake
	stepControls
	stepWhitespace
	stepNFC
	numSteps
)

// maxRounds and maxLayers bound the repair loops, which stop at a fixed
// point long before: real damage settles in two or three rounds and
// layers. Input that has not settled by then is left unrepaired, so that
// Fix stays idempotent and its cost stays linear.
const (
	maxRounds = 8
	maxLayers = 8
)

// FixWith repairs s and reports each repair applied, as short stable codes such as
// "mojibake:cp1252", "mojibake:cp1251", "mojibake:latin1", "mojibake:macroman", "mojibake:cp437",
// "mojibake:cp1250", "mojibake:iso8859-2", "html-entities", "c1-controls", "control-chars", "whitespace", "nfc".
// Codes are unique and in a stable order. A string that is not valid UTF-8
// has each invalid byte read as windows-1252 first ("invalid-utf8").
func FixWith(s string, o Options) (string, []string) {
	need, trigger := scanAt(s, o)
	if need == 0 {
		return s, nil
	}
	var applied uint32
	if need&needUTF8 != 0 {
		s = fromLatin(s)
		applied |= 1 << codeInvalidUTF8
		trigger = -1
	}
	// Each step is run again only on text it has not already settled: a
	// step's output is a fixed point of that step. The steps scan found
	// nothing for have settled the input.
	// After a change, scan tells again which steps the new text needs:
	// one pass instead of one for each step.
	var settled [numSteps]string
	var done [numSteps]bool
	settle := func(s string, need uint8) {
		for k, n := range [numSteps]uint8{needEntities, needMojibake, needControls, needWhitespace, needNFC} {
			if need&n == 0 {
				settled[k], done[k] = s, true
			}
		}
	}
	settle(s, need)
	step := func(k int, f func(string) string) {
		if done[k] && settled[k] == s {
			return
		}
		in := s
		s = f(s)
		settled[k], done[k] = s, true
		if s != in {
			trigger = -1 // the first strong pair of another text
			// Step k has settled s already: scan need not look for
			// what it repairs (for mojibake, the costliest part).
			so := o
			if k == stepMojibake {
				so.Mojibake = false
			}
			settle(s, scan(s, so))
		}
	}
	var rep *repairer // buffers for the mojibake repair, reused across lines, layers and rounds
	defer func() {
		if rep != nil {
			rep.release()
		}
	}()
	start, startApplied := s, applied
	for round := 0; ; round++ {
		if round == maxRounds {
			// The steps keep feeding each other: degenerate input, left
			// as it came (see the mojibake step).
			s, applied = start, startApplied
			break
		}
		prev := s
		if o.HTMLEntities {
			step(stepEntities, func(s string) string {
				out, changed := decodeEntities(s)
				if changed {
					applied |= 1 << codeEntities
				}
				return out
			})
		}
		if o.Mojibake {
			step(stepMojibake, func(s string) string {
				var vouched uint8
				var used uint16
				if rep == nil {
					rep = newRepairer()
				}
				out := s
				for layer := 0; ; layer++ {
					var u uint16
					var settled bool
					fresh := vouched == 0
					if out, u, settled = fixMojibakeLayer(out, &vouched, rep, trigger); u == 0 {
						if fresh {
							break
						}
						// A layer with a charset vouched for changed
						// nothing. Another call of Fix would look at this
						// text afresh, with none vouched for, and might
						// see clusters that the vouched charset outranked;
						// so does this call, which keeps Fix idempotent.
						vouched = 0
						continue
					}
					trigger = -1
					if layer == maxLayers {
						// Real damage has a few layers; text that keeps
						// decoding is degenerate (a long chain of leads)
						// and is left alone, which keeps Fix idempotent.
						return s
					}
					used |= u
					if settled {
						break
					}
				}
				applied |= uint32(used) << codeMojibake
				return out
			})
		}
		if o.Controls {
			step(stepControls, func(s string) string {
				out, c1, cc := fixControls(s)
				if c1 {
					applied |= 1 << codeC1
				}
				if cc {
					applied |= 1 << codeControls
				}
				return out
			})
		}
		if o.Whitespace {
			step(stepWhitespace, func(s string) string {
				out, changed := fixWhitespace(s)
				if changed {
					applied |= 1 << codeWhitespace
				}
				return out
			})
		}
		if o.NFC {
			step(stepNFC, func(s string) string {
				if isNFC(s) {
					return s
				}
				applied |= 1 << codeNFC
				return norm.NFC.String(s)
			})
		}
		if s == prev {
			break
		}
	}
	if applied == 0 {
		return s, nil
	}
	codes := make([]string, 0, bits.OnesCount32(applied))
	for c := 0; c < numCodes; c++ {
		if applied&(1<<c) != 0 {
			codes = append(codes, codeName(c))
		}
	}
	return s, codes
}
