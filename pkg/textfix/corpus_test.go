package textfix

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// readCleanLines reads testdata/clean.txt: clean text, one case a line.
func readCleanLines(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/clean.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestCleanTextUnchanged(t *testing.T) {
	for _, line := range readCleanLines(t) {
		if got, codes := FixWith(line, DefaultOptions()); got != line {
			t.Errorf("clean text changed (%v)\n input: %q\n   got: %q\n  want: %q", codes, line, got, line)
		}
	}
}

// misdecode returns the UTF-8 bytes of s read as charset cs, the way a
// system that assumed cs would have shown them. latin1 reads every byte as
// the code point of the same number.
func misdecode(s string, cs charset) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case cs == latin1:
			b.WriteRune(rune(c))
		default:
			b.WriteRune(decodeTable[cs][c])
		}
	}
	return b.String()
}

// damageKinds are the ways TestDamagedText damages each clean line.
var damageKinds = []struct {
	name   string
	damage func(string) string
}{
	{"cp1252", func(s string) string { return misdecode(s, cp1252) }},
	{"latin1", func(s string) string { return misdecode(s, latin1) }},
	{"cp1250", func(s string) string { return misdecode(s, cp1250) }},
	{"iso8859-2", func(s string) string { return misdecode(s, iso88592) }},
	{"cp1251", func(s string) string { return misdecode(s, cp1251) }},
	{"cp1257", func(s string) string { return misdecode(s, cp1257) }},
	{"macroman", func(s string) string { return misdecode(s, macroman) }},
	{"cp437", func(s string) string { return misdecode(s, cp437) }},
	{"cp1252 twice", func(s string) string { return misdecode(misdecode(s, cp1252), cp1252) }},
	{"cp1251 then cp1252", func(s string) string { return misdecode(misdecode(s, cp1251), cp1252) }},
	{"cp1252 then cp1251", func(s string) string { return misdecode(misdecode(s, cp1252), cp1251) }},
	{"cp1252, no-break spaces lost", func(s string) string {
		return strings.ReplaceAll(misdecode(s, cp1252), "\u00a0", " ")
	}},
	{"cp1252 in the second half only", func(s string) string {
		i := strings.IndexByte(s[len(s)/2:], ' ')
		if i < 0 {
			return s
		}
		i += len(s) / 2
		return s[:i] + misdecode(s[i:], cp1252)
	}},
}

// minRepaired is the share of damaged lines each kind must repair. The
// common mix-ups must always be undone. For the rarer charsets and for two
// layers a few short lines carry too little evidence (a lone two-letter
// word, or a line where windows-1250 and ISO-8859-2 read equally well);
// leaving them is the safe failure. The floors guard against regressions.
var minRepaired = map[string]float64{
	"cp1252": 1, "latin1": 1, "cp1252, no-break spaces lost": 1, "cp1252 in the second half only": 1,
	"cp1252 twice": 0.95, "cp1251 then cp1252": 0.9, "cp1252 then cp1251": 0.95,
	"cp1250": 0.95, "cp1251": 0.9, "cp1257": 0.9, "macroman": 0.9, "cp437": 0.9,
	"iso8859-2": 0.8,
}

func TestDamagedText(t *testing.T) {
	lines := readCleanLines(t)
	var summary []string
	for _, k := range damageKinds {
		fixed, total := 0, 0
		for _, line := range lines {
			bad := k.damage(line)
			if bad == line || !utf8.ValidString(bad) {
				continue
			}
			total++
			if got := Fix(bad); got == line {
				fixed++
			} else {
				t.Logf("%s not repaired\n input: %q\n   got: %q\n  want: %q", k.name, bad, got, line)
			}
		}
		if total == 0 {
			continue
		}
		share := float64(fixed) / float64(total)
		summary = append(summary, k.name+": "+itoa(fixed)+"/"+itoa(total))
		if min := minRepaired[k.name]; share < min {
			t.Errorf("%s: repaired %d/%d damaged lines, want at least %.0f%%", k.name, fixed, total, 100*min)
		}
	}
	sort.Strings(summary)
	t.Log("repaired: " + strings.Join(summary, "; "))
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
