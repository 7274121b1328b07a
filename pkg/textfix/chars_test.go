package textfix

import (
	"testing"
	"unicode/utf8"
)

// TestPropOf checks the props table and its shortcut for CJK and Hangul
// against the functions they cache.
func TestPropOf(t *testing.T) {
	tab := propsTable()
	for r := rune(0); r <= utf8.MaxRune; r++ {
		c, s := slowProps(r)
		if got, want := propOf(tab, r), makeProp(c, s, slowRarity(r)); got != want {
			t.Fatalf("propOf(%U) = %#x, want %#x", r, got, want)
		}
	}
}
