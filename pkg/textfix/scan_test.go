package textfix

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestRuneTable checks the generated rune table against the alphabet, the
// norm package and the runes the other repairs look at; run go generate
// after updating golang.org/x/text if it fails.
func TestRuneTable(t *testing.T) {
	index := map[rune]int{}
	for i, e := range alphabet {
		index[e.r] = i + 1
	}
	check := func(r rune) {
		v := runeInfo(r)
		var lead, cont uint8
		if i := index[r]; i != 0 {
			if e := lookup(r); e != &alphabet[i-1] {
				t.Errorf("lookup(%U) = %p, want entry %d", r, e, i-1)
			}
			lead, cont = alphabet[i-1].lead, alphabet[i-1].cont
		} else if lookup(r) != nil {
			t.Errorf("lookup(%U) = %v, want nil", r, lookup(r))
		}
		if v&rLead != uint16(lead) || v>>rContShift&rLead != uint16(cont) {
			t.Errorf("runeInfo(%U) = %#x: want lead %07b, continuation %07b", r, v, lead, cont)
		}
		s := string(r)
		p := norm.NFC.PropertiesString(s)
		stable := p.BoundaryBefore() && p.CCC() == 0 && p.LeadCCC() == 0 && norm.NFC.IsNormalString(s)
		if !stable && v&rNFC == 0 {
			t.Errorf("runeInfo(%U): marked as a stable NFC starter", r)
		}
		if r < 0x10000 && stable && v&rNFC != 0 {
			t.Errorf("runeInfo(%U): not marked as a stable NFC starter", r)
		}
		odd := r >= 0x80 && r <= 0xA0 || r == 0xFEFF || isOddSpace(r)
		if odd != (v&rOdd != 0) {
			t.Errorf("runeInfo(%U): odd = %v, want %v", r, v&rOdd != 0, odd)
		}
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		check(r)
	}
}

// scanCases are texts for the checks that scan agrees with the steps.
func scanCases(t testing.TB) []string {
	lines := readCleanLines(t)
	cases := append([]string(nil), lines...)
	cases = append(cases, fuzzSeeds...)
	for _, l := range lines {
		for _, k := range damageKinds {
			cases = append(cases, k.damage(l))
		}
	}
	cases = append(cases, strings.Join(lines, "\n"), "a \u00a0b", "x\u00a0", "\n\u00a0x", "a&amp;b", "Cafe\u0301",
		"\u0e01\u0e48\u0e38", "\ud55c\u11a8", "a\t\tb", "a\r\nb", "tab\tend\t", "ends ", "  lead", "\u2003x")
	// Random strings of runes that matter to some repair.
	var pool []rune
	for _, e := range alphabet {
		pool = append(pool, e.r)
	}
	pool = append(pool, ' ', ' ', ' ', '\t', '\n', '\r', '?', '&', ';', 'a', 'e', 'É', 0xFFFD, 0xA0, 0x2003, 0xFEFF,
		0x301, 0x327, 0x308, 0x11A8, 0xAC00, 0x0E48, 0x094D, 0x093C, 0x0928, 0x1F600, 0x1F3FD, 0x0, 0x7F)
	rng := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(16) {
			b.WriteRune(pool[rng.IntN(len(pool))])
		}
		cases = append(cases, b.String())
	}
	return cases
}

// checkScan fails when scan says a step would leave s unchanged but it
// would not.
func checkScan(t *testing.T, s string) {
	t.Helper()
	need := scan(s, DefaultOptions())
	if !utf8.ValidString(s) {
		if need != needAll {
			t.Errorf("scan(%q) = %06b on invalid UTF-8, want all", s, need)
		}
		return
	}
	if need&needEntities == 0 {
		if out, _ := decodeEntities(s); out != s {
			t.Errorf("scan(%q): entities not needed, but they change it to %q", s, out)
		}
	}
	if need&needMojibake == 0 {
		var v uint8
		if out, _, _ := fixMojibakeLayer(s, &v, new(repairer), -1); out != s {
			t.Errorf("scan(%q): mojibake not needed, but its repair changes it to %q", s, out)
		}
		if out := referenceMojibakeLayer(s); out != s {
			t.Errorf("scan(%q): mojibake not needed, but repairing every line changes it to %q", s, out)
		}
	}
	if need&needControls == 0 {
		if out, _, _ := fixControls(s); out != s {
			t.Errorf("scan(%q): controls not needed, but they change it to %q", s, out)
		}
	}
	if need&needWhitespace == 0 {
		if out, _ := fixWhitespace(s); out != s {
			t.Errorf("scan(%q): whitespace not needed, but it changes it to %q", s, out)
		}
	}
	// NFC is named exactly, except once mojibake is found: then scan
	// stops and names every step.
	want := norm.NFC.IsNormalString(s)
	exact := need&needMojibake == 0
	if need&needNFC == 0 && !want || exact && (need&needNFC == 0) != want || isNFC(s) != want {
		t.Errorf("scan(%q): NFC needed %v, isNFC %v; IsNormalString %v", s, need&needNFC != 0, isNFC(s), want)
	}
}

// referenceMojibakeLayer is fixMojibakeLayer without the triggers: every
// line goes through the scorer, and through fastLine first when it has a
// strong pair (on runes) or a charset is vouched for.
func referenceMojibakeLayer(s string) string {
	var vouched uint8
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if vouched != 0 || hasStrongPair([]rune(l)) {
			if out, _, _, ok := new(fastLiner).fastLine(l, &vouched); ok {
				lines[i] = string(out)
				continue
			}
		}
		if out, used := new(repairer).repair([]rune(l), &vouched, 0); used != 0 {
			lines[i] = string(out)
		}
	}
	return strings.Join(lines, "\n")
}

func TestScanAgreesWithSteps(t *testing.T) {
	for _, s := range scanCases(t) {
		checkScan(t, s)
	}
}

// TestMojibakeLayerAgreesWithReference checks that skipping lines whose
// suspicious pairs cannot be repaired changes nothing, on documents where
// strong damage on one line vouches for weak damage on others.
func TestMojibakeLayerAgreesWithReference(t *testing.T) {
	cases := scanCases(t)
	rng := rand.New(rand.NewPCG(3, 5))
	for range 3000 {
		n := 1 + rng.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = cases[rng.IntN(len(cases))]
		}
		cases = append(cases, strings.Join(parts, "\n"))
	}
	for _, s := range cases {
		if !utf8.ValidString(s) {
			continue
		}
		var v uint8
		got, _, _ := fixMojibakeLayer(s, &v, new(repairer), -1)
		if want := referenceMojibakeLayer(s); got != want {
			t.Errorf("fixMojibakeLayer(%q)\n   got: %q\n  want: %q", s, got, want)
		}
	}
}

// TestCleanLinesTakeTheFastPath counts the clean lines that any step must
// look at, and the suspicious pairs in them that need scoring.
func TestCleanLinesTakeTheFastPath(t *testing.T) {
	var slow []string
	weak := 0
	for _, l := range readCleanLines(t) {
		if scan(l, DefaultOptions()) != 0 {
			slow = append(slow, l)
		}
		for i := 0; ; {
			j, level := nextTrigger(l, i)
			if j < 0 {
				break
			}
			if level == pairWeak {
				weak++
			}
			_, n := utf8.DecodeRuneInString(l[j:])
			i = j + n
		}
	}
	sort.Strings(slow)
	for _, l := range slow {
		t.Errorf("clean line takes the slow path: %q", l)
	}
	t.Logf("%d weak pairs in the clean lines", weak)
}
