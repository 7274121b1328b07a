package textfix

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fastResult is what one call of fastLine returned, with its output copied
// (fastLine's own is valid only until the next call) and vouched as the
// call left it.
type fastResult struct {
	out     string
	used    uint16
	settled bool
	ok      bool
	vouched uint8
}

// runFastLine calls f.fastLine on line with vouched set to before.
func runFastLine(f *fastLiner, line string, before uint8) fastResult {
	v := before
	out, used, settled, ok := f.fastLine(line, &v)
	return fastResult{out: string(out), used: used, settled: settled, ok: ok, vouched: v}
}

// misdecodeLayers misdecodes s in each of layers in turn:
// misdecodeLayers(s, cp1252, cp1251) is s read as windows-1252, and the
// result read as windows-1251.
func misdecodeLayers(s string, layers ...charset) string {
	for _, cs := range layers {
		s = misdecode(s, cs)
	}
	return s
}

// vouchedFor returns the charsets that fastLine must vouch for when it
// reports used: latin1 is reported for windows-1252 damage that relied on
// C1 controls, and windows-1252 is the charset proven.
func vouchedFor(used uint16) uint8 {
	v := uint8(used & (1<<numCharsets - 1))
	if used&(1<<latin1) != 0 {
		v |= 1 << cp1252
	}
	return v
}

// usedCodes names the charsets in a used mask, for failure messages.
func usedCodes(used uint16) string {
	var names []string
	for k := range charsetCodes {
		if used&(1<<k) != 0 {
			names = append(names, charsetCodes[k])
		}
	}
	return "[" + strings.Join(names, " ") + "]"
}

// implausible returns a rune of text that a wrong reading of mojibake
// makes and clean text does not hold: a combining mark of U+0300-U+036F
// after an ASCII character or a Latin letter (MacRoman's reading of "Ã©"
// is U+0329), or an Armenian letter (MacRoman's reading of "’é" is "Վ")
// where clean has none.
func implausible(text, clean string) (rune, bool) {
	armenian := strings.ContainsFunc(clean, func(r rune) bool { return unicode.Is(unicode.Armenian, r) })
	prev := ' '
	for _, r := range text {
		if r >= 0x300 && r < 0x370 && (prev < utf8.RuneSelf || unicode.Is(unicode.Latin, prev)) {
			return r, true
		}
		if !armenian && unicode.Is(unicode.Armenian, r) {
			return r, true
		}
		prev = r
	}
	return 0, false
}

// Clean sentences that the tests damage.
const (
	sentFrench     = "Le président a déclaré que l’été sera chaud à Genève."
	sentFrench2    = "À Paris, les élèves ont célébré Noël avec leurs maîtres."
	sentGerman     = "Die Straße in Köln bleibt wegen Bauarbeiten bis Ende März gesperrt."
	sentPolish     = "Zażółć gęślą jaźń — w Łodzi spadł pierwszy śnieg."
	sentRussian    = "Президент подписал закон о бюджете на следующий год."
	sentGreek      = "Η κυβέρνηση ανακοίνωσε νέα μέτρα για την ακρίβεια."
	sentCzech      = "Příliš žluťoučký kůň úpěl ďábelské ódy."
	sentPortuguese = "O governo anunciou ações de saúde e educação."
	sentUkrainian  = "Її брат працює в Києві, а вона — у Львові."
	sentQuotes     = "“We will not back down,” she said – it costs €12.30…"
	sentJapan      = "日本政府は月曜日、新しい経済対策を発表した。"
	sentEmoji      = "Fans celebrated with 🎉 and 👏 after the whistle."
)

func TestFastLineRepairs(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		used   uint16
		before uint8 // vouched before the call
	}{
		{"French read as windows-1252", misdecodeLayers(sentFrench, cp1252), sentFrench, 1 << cp1252, 0},
		{"French read as windows-1250", misdecodeLayers(sentFrench2, cp1250), sentFrench2, 1 << cp1250, 0},
		{"French read as windows-1251", misdecodeLayers(sentFrench, cp1251), sentFrench, 1 << cp1251, 0},
		{"French read as ISO-8859-2", misdecodeLayers(sentFrench, iso88592), sentFrench, 1 << iso88592, 0},
		{"French read as windows-1257", misdecodeLayers(sentFrench2, cp1257), sentFrench2, 1 << cp1257, 0},
		{"French read as MacRoman", misdecodeLayers(sentFrench, macroman), sentFrench, 1 << macroman, 0},
		{"French read as cp437", misdecodeLayers(sentFrench, cp437), sentFrench, 1 << cp437, 0},
		{"French read as windows-1252 twice", misdecodeLayers(sentFrench, cp1252, cp1252), sentFrench, 1 << cp1252, 0},
		{"French read as windows-1252 three times", misdecodeLayers(sentFrench, cp1252, cp1252, cp1252), sentFrench, 1 << cp1252, 0},
		{"French read as windows-1252 then MacRoman", misdecodeLayers(sentFrench, cp1252, macroman), sentFrench, 1<<cp1252 | 1<<macroman, 0},
		{"French damage beside a clean l’été", "Le prÃ©sident a dÃ©clarÃ© que l’été sera chaud.", "Le président a déclaré que l’été sera chaud.", 1 << cp1252, 0},
		{"German read as windows-1252", misdecodeLayers(sentGerman, cp1252), sentGerman, 1 << cp1252, 0},
		{"German read as ISO-8859-1, C1 control for ß", misdecodeLayers(sentGerman, latin1), sentGerman, 1 << latin1, 0},
		{"German read as windows-1251", misdecodeLayers(sentGerman, cp1251), sentGerman, 1 << cp1251, 0},
		{"German read as MacRoman", misdecodeLayers(sentGerman, macroman), sentGerman, 1 << macroman, 0},
		{"German read as windows-1252 twice", misdecodeLayers(sentGerman, cp1252, cp1252), sentGerman, 1 << cp1252, 0},
		{"German read as windows-1251 then windows-1252", misdecodeLayers(sentGerman, cp1251, cp1252), sentGerman, 1<<cp1251 | 1<<cp1252, 0},
		{"Polish read as windows-1252", misdecodeLayers(sentPolish, cp1252), sentPolish, 1 << cp1252, 0},
		{"Polish read as ISO-8859-1, C1 controls", misdecodeLayers(sentPolish, latin1), sentPolish, 1 << latin1, 0},
		{"Polish read as windows-1250", misdecodeLayers(sentPolish, cp1250), sentPolish, 1 << cp1250, 0},
		{"Polish read as cp437", misdecodeLayers(sentPolish, cp437), sentPolish, 1 << cp437, 0},
		{"Polish read as windows-1252 twice", misdecodeLayers(sentPolish, cp1252, cp1252), sentPolish, 1 << cp1252, 0},
		{"Russian read as windows-1251", misdecodeLayers(sentRussian, cp1251), sentRussian, 1 << cp1251, 0},
		{"Russian read as windows-1252", misdecodeLayers(sentRussian, cp1252), sentRussian, 1 << cp1252, 0},
		{"Russian read as MacRoman", misdecodeLayers(sentRussian, macroman), sentRussian, 1 << macroman, 0},
		{"Russian read as windows-1252 then windows-1251", misdecodeLayers(sentRussian, cp1252, cp1251), sentRussian, 1<<cp1252 | 1<<cp1251, 0},
		{"Greek read as windows-1252", misdecodeLayers(sentGreek, cp1252), sentGreek, 1 << cp1252, 0},
		{"Greek read as windows-1251", misdecodeLayers(sentGreek, cp1251), sentGreek, 1 << cp1251, 0},
		{"Greek read as cp437", misdecodeLayers(sentGreek, cp437), sentGreek, 1 << cp437, 0},
		{"Czech read as windows-1250", misdecodeLayers(sentCzech, cp1250), sentCzech, 1 << cp1250, 0},
		{"Czech read as windows-1252", misdecodeLayers(sentCzech, cp1252), sentCzech, 1 << cp1252, 0},
		{"Czech read as ISO-8859-2", misdecodeLayers(sentCzech, iso88592), sentCzech, 1 << iso88592, 0},
		{"Czech read as windows-1251 then windows-1252", misdecodeLayers(sentCzech, cp1251, cp1252), sentCzech, 1<<cp1251 | 1<<cp1252, 0},
		{"Portuguese read as MacRoman", misdecodeLayers(sentPortuguese, macroman), sentPortuguese, 1 << macroman, 0},
		{"Portuguese read as cp437", misdecodeLayers(sentPortuguese, cp437), sentPortuguese, 1 << cp437, 0},
		{"Ukrainian read as windows-1251", misdecodeLayers(sentUkrainian, cp1251), sentUkrainian, 1 << cp1251, 0},
		{"punctuation read as windows-1252", misdecodeLayers(sentQuotes, cp1252), sentQuotes, 1 << cp1252, 0},
		{"punctuation read as ISO-8859-1, C1 controls", misdecodeLayers(sentQuotes, latin1), sentQuotes, 1 << latin1, 0},
		{"punctuation read as windows-1251", misdecodeLayers(sentQuotes, cp1251), sentQuotes, 1 << cp1251, 0},
		{"punctuation read as windows-1252 twice", misdecodeLayers(sentQuotes, cp1252, cp1252), sentQuotes, 1 << cp1252, 0},
		{"Japanese read as windows-1252", misdecodeLayers(sentJapan, cp1252), sentJapan, 1 << cp1252, 0},
		{"emoji read as windows-1252", misdecodeLayers(sentEmoji, cp1252), sentEmoji, 1 << cp1252, 0},
		{"what was vouched stays vouched", misdecodeLayers(sentRussian, cp1251), sentRussian, 1 << cp1251, 1 << macroman},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in == tt.want {
				t.Fatalf("bad case: the input %q is not damaged", tt.in)
			}
			got := runFastLine(new(fastLiner), tt.in, tt.before)
			if !got.ok || got.out != tt.want || got.used != tt.used {
				t.Fatalf("fastLine(%q)\n   got: %q %s ok=%v\n  want: %q %s ok=true",
					tt.in, got.out, usedCodes(got.used), got.ok, tt.want, usedCodes(tt.used))
			}
			if want := tt.before | vouchedFor(tt.used); got.vouched&want != want {
				t.Errorf("fastLine(%q): vouched %08b, want the bits %08b set", tt.in, got.vouched, want)
			}
			if r, bad := implausible(got.out, tt.want); bad {
				t.Errorf("fastLine(%q) = %q: implausible %q", tt.in, got.out, r)
			}
		})
	}
}

func TestFastLineLeavesToScorer(t *testing.T) {
	tests := []struct{ name, in string }{
		{"clean ASCII", "The minister told reporters on Tuesday."},
		{"clean French with curly apostrophes", "Où est passé l’été ? Déjà l’été."},
		{"clean German", "Grüße aus München"},
		{"clean punctuation", "“We will not back down,” she said – it costs €12.30…"},
		{"clean Polish capitals", "PÓŁNOC I POŁUDNIE: WSZYSTKO O ŁÓDCE"},
		{"lone sequence the scorer leaves: Swedish trademark", "AHÅ™, the new sofa"},
		{"lone sequence the scorer leaves: ellipsis after a capital", "RETWEET SE VOCÊ…"},
		{"lost no-break space after Ã", "dÃ©jÃ  vu"},
		{"lost no-break space among sequences", "voilÃ  le travail dÃ©jÃ  fait"},
		{"U+FFFD for a lost continuation byte", "cafÃ© and rÃ©sumÃ\ufffd here"},
		{"U+FFFD inside a three-byte sequence", "Dellâ€™s laptop costs â\ufffd¬500"},
		{"U+FFFD elsewhere on the line", "naÃ¯ve cafÃ© \ufffd"},
		{"run only partly made of sequences", "CafÃ©é et thÃ©Ã¨"},
		{"only reading is MacRoman's Armenian", "l’été, l’été, l’été"},
		{"only reading is MacRoman's combining marks", "SÃé, SÃè, SÃê"},
		{"four layers, more than maxFastLayers", misdecodeLayers(sentFrench, cp1252, cp1252, cp1252, cp1252)},
		{"not valid UTF-8", "cafÃ© rÃ©sumÃ\xa9 \xff"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const before = 1 << cp1250
			got := runFastLine(new(fastLiner), tt.in, before)
			if got.ok {
				t.Errorf("fastLine(%q) = %q %s, want ok=false", tt.in, got.out, usedCodes(got.used))
			}
			if got.vouched != before {
				t.Errorf("fastLine(%q) left to the scorer, but vouched went from %08b to %08b", tt.in, before, got.vouched)
			}
		})
	}
}

// TestFastLineLoneSequence checks lines whose only evidence is one
// two-byte sequence, less than minFastEvidence: fastLine either leaves
// them to the scorer or repairs them exactly as the mojibake repair does,
// and in neither case does so little evidence vouch for a charset.
func TestFastLineLoneSequence(t *testing.T) {
	tests := []struct{ name, in string }{
		{"after a clean é", "Café: Ã© only"},
		{"beside a clean l’été", "Le prÃ©sident dit que l’été sera chaud."},
		{"in German", misdecodeLayers("Das Grundgesetz: Würde des Menschen ist unantastbar", cp1252)},
		{"pound sign", "He paid Â£5 for it"},
		{"capitals beside a clean Ã", "SÃO PAULO Ã‰ GRANDE"},
		{"Swedish trademark", "AHÅ™, the new sofa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const before = 1 << cp1257
			got := runFastLine(new(fastLiner), tt.in, before)
			if got.vouched != before {
				t.Errorf("fastLine(%q): one sequence vouched, vouched went from %08b to %08b", tt.in, before, got.vouched)
			}
			if !got.ok {
				return
			}
			if want, _ := FixWith(tt.in, Options{Mojibake: true}); got.out != want {
				t.Errorf("fastLine(%q)\n   got: %q %s\n  want: %q (the mojibake repair's) or ok=false", tt.in, got.out, usedCodes(got.used), want)
			}
		})
	}
}

func TestFastLineNeverTouchesCleanText(t *testing.T) {
	f := new(fastLiner)
	lines := readCleanLines(t)
	taken := 0
	for _, line := range lines {
		got := runFastLine(f, line, 0)
		if got.ok {
			taken++
			if got.out != line {
				t.Errorf("fastLine changed clean text\n input: %q\n   got: %q %s", line, got.out, usedCodes(got.used))
			}
		} else if got.vouched != 0 {
			t.Errorf("fastLine(%q): left to the scorer, but vouched %08b", line, got.vouched)
		}
		if fixed := Fix(line); fixed != line {
			t.Errorf("Fix changed clean text\n input: %q\n   got: %q", line, fixed)
		}
	}
	t.Logf("fastLine returned ok for %d of %d clean lines", taken, len(lines))
}

// needed returns the runes that a repair of damaged, the clean line read
// as one or more charsets, may produce: those of clean, of damaged, and of
// clean read as any one charset (the layer between two).
func needed(clean, damaged string) map[rune]bool {
	set := map[rune]bool{}
	add := func(s string) {
		for _, r := range s {
			set[r] = true
		}
	}
	add(clean)
	add(damaged)
	for cs := charset(0); cs <= latin1; cs++ {
		add(misdecode(clean, cs))
	}
	return set
}

func TestFastLineAgreesWithFix(t *testing.T) {
	lines := readCleanLines(t)
	shared := new(fastLiner) // reused from line to line, as fixMojibakeLayer does
	mojibakeOnly := Options{Mojibake: true}
	var summary []string
	for _, k := range damageKinds {
		t.Run(k.name, func(t *testing.T) {
			var damaged, taken, restored, asFix, unsettled, unreached int
			for _, line := range lines {
				bad := k.damage(line)
				if bad == line || !utf8.ValidString(bad) {
					continue
				}
				damaged++
				if once := Fix(bad); Fix(once) != once {
					t.Errorf("Fix is not idempotent\n input: %q\n  once: %q\n twice: %q", bad, once, Fix(once))
				}
				got := runFastLine(shared, bad, 0)
				if fresh := runFastLine(new(fastLiner), bad, 0); got != fresh {
					t.Errorf("fastLine(%q) depends on the lines before it\n reused: %+v\n  fresh: %+v", bad, got, fresh)
				}
				if !got.ok {
					continue
				}
				taken++
				if !utf8.ValidString(got.out) {
					t.Errorf("fastLine(%q) = %q: not valid UTF-8", bad, got.out)
					continue
				}
				need := needed(line, bad)
				for _, r := range got.out {
					if !need[r] {
						t.Errorf("fastLine(%q) = %q: %q is in neither the clean line nor any layer of its damage\n  want: %q", bad, got.out, r, line)
						break
					}
				}
				if got.out == line {
					restored++
				} else {
					t.Logf("not restored\n input: %q\n   got: %q %s\n  want: %q", bad, got.out, usedCodes(got.used), line)
				}
				fixed, _ := FixWith(bad, mojibakeOnly)
				strong := hasStrongPair([]rune(bad))
				switch {
				case got.out == fixed:
					asFix++
				case !strong:
					unreached++
					t.Logf("Fix does not reach the fast path (no strong pair)\n input: %q\n  fast: %q\n   Fix: %q", bad, got.out, fixed)
				case !got.settled:
					t.Logf("Fix goes on past an unsettled fast result\n input: %q\n  fast: %q\n   Fix: %q", bad, got.out, fixed)
				default:
					// A settled result of a line with a strong pair is
					// what the mojibake repair returns.
					t.Errorf("fastLine settled on a result that Fix does not return\n input: %q\n  fast: %q\n   Fix: %q", bad, got.out, fixed)
				}
				if !got.settled {
					unsettled++
				}
			}
			t.Logf("%d damaged lines, %d taken by fastLine: %d restored, %d as Fix repairs them; %d unsettled, %d out of Fix's reach",
				damaged, taken, restored, asFix, unsettled, unreached)
			if damaged > 0 {
				summary = append(summary, k.name+": "+itoa(taken)+"/"+itoa(damaged)+" taken, "+itoa(restored)+" restored")
			}
		})
	}
	t.Log("fast path: " + strings.Join(summary, "; "))
}

// TestFastLineReadingsArePlausible damages one to three words of each clean
// line in each charset, so that damage sits beside clean text of other
// scripts and punctuation, and checks that a reading fastLine accepts never
// holds what only a wrong reading makes.
func TestFastLineReadingsArePlausible(t *testing.T) {
	f := new(fastLiner)
	cs := []charset{cp1252, latin1, cp1250, iso88592, cp1251, cp1257, macroman, cp437}
	var damaged, taken, restored int
	for _, line := range readCleanLines(t) {
		words := strings.Split(line, " ")
		for i := range words {
			for j := i + 1; j <= len(words) && j <= i+3; j++ {
				for _, c := range cs {
					w := append([]string(nil), words...)
					for k := i; k < j; k++ {
						w[k] = misdecode(w[k], c)
					}
					bad := strings.Join(w, " ")
					if bad == line {
						continue
					}
					damaged++
					got := runFastLine(f, bad, 0)
					if !got.ok {
						continue
					}
					taken++
					if got.out == line {
						restored++
					} else {
						t.Logf("not restored\n input: %q\n   got: %q %s\n  want: %q", bad, got.out, usedCodes(got.used), line)
					}
					if !utf8.ValidString(got.out) {
						t.Errorf("fastLine(%q) = %q: not valid UTF-8", bad, got.out)
					} else if r, bad2 := implausible(got.out, line); bad2 {
						t.Errorf("fastLine(%q) = %q: implausible %q", bad, got.out, r)
					}
				}
			}
		}
	}
	t.Logf("%d lines damaged in part, %d taken by fastLine, %d restored", damaged, taken, restored)
}

// fastLineSeeds are damaged lines for FuzzFastLine.
var fastLineSeeds = []string{
	"Le prÃ©sident a dÃ©clarÃ© que lâ€™Ã©tÃ© sera chaud.",
	"Die StraÃ\u009fe in KÃ¶ln bleibt gesperrt.",
	"ZaĹĽĂłĹ‚Ä‡ gÄ™Ĺ›lÄ… jaĹşĹ„ w Ĺ\u0081odzi.",
	"РџСЂРёРІРµС‚, РјРёСЂ! РљР°Рє РґРµР»Р°?",
	"Œó Œ∫œÖŒ≤Œ≠œÅŒΩŒ∑œÉŒ∑ Œ±ŒΩŒ±Œ∫ŒøŒØŒΩœâœÉŒµ",
	"P┼Ö├¡li┼í ┼╛lu┼Ñou─ìk├╜ k┼»┼ê",
	"GrÃƒÂ¼ÃƒÅ¸e aus MÃƒÂ¼nchen",
	"ГђЕёГ‘в‚¬ГђВёГђВІГђВµГ‘вЂљ",
	"â\u0080\u009cQuotedâ\u0080\u009d â\u0080\u0094 text",
	"Le prÃ©sident dit que l’été sera chaud.",
	"dÃ©jÃ  vu et cafÃ\ufffd",
	"l’été, l’été, l’été",
	"SÃé, SÃè, SÃê",
	"C O N C L U S ÃƒÆ’ O",
	"æ—¥æœ¬èªž Great ðŸ‘\u008d",
	"cafÃ© \xff\xfe",
}

func FuzzFastLine(f *testing.F) {
	for _, s := range fastLineSeeds {
		f.Add(s)
	}
	// warm is a long damaged line that leaves a reused fastLiner's buffers
	// grown and full of another line.
	warm := misdecodeLayers(sentPolish+" "+sentRussian+" "+sentFrench, cp1252, cp1252)
	f.Fuzz(func(t *testing.T, s string) {
		s, _, _ = strings.Cut(s, "\n") // fastLine reads one line
		const before = 1 << cp1257
		got := runFastLine(new(fastLiner), s, before)
		reused := new(fastLiner)
		runFastLine(reused, warm, 0)
		if again := runFastLine(reused, s, before); again != got {
			t.Fatalf("fastLine(%q) depends on the line before it\n reused: %+v\n  fresh: %+v", s, again, got)
		}
		if !got.ok {
			if got.vouched != before {
				t.Fatalf("fastLine(%q) left to the scorer, but vouched went from %08b to %08b", s, before, got.vouched)
			}
			return
		}
		if !utf8.ValidString(got.out) {
			t.Fatalf("fastLine(%q) = %q: not valid UTF-8", s, got.out)
		}
		if strings.ContainsRune(got.out, '\n') {
			t.Fatalf("fastLine(%q) = %q: holds a newline", s, got.out)
		}
		if len(got.out) > len(s) {
			t.Fatalf("fastLine(%q) = %q: longer than the line", s, got.out)
		}
		if got.used == 0 || got.vouched&before != before {
			t.Fatalf("fastLine(%q) = %q: used %s, vouched %08b from %08b", s, got.out, usedCodes(got.used), got.vouched, before)
		}
		if once := Fix(got.out); Fix(once) != once {
			t.Fatalf("Fix is not idempotent on fastLine's output\n input: %q\n  fast: %q\n  once: %q\n twice: %q", s, got.out, once, Fix(once))
		}
	})
}
