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

// TestRarityOfWhatNoTextHolds checks that unassigned code points and
// format characters that clean text never holds are as rare as can be,
// so that no repair makes them, and that the format characters clean text
// does hold keep their rarity.
func TestRarityOfWhatNoTextHolds(t *testing.T) {
	tests := []struct {
		r    rune
		want int
	}{
		{0x05FD, 6}, // unassigned, in the Hebrew block: windows-1252 "×½" decoded
		{0x0378, 6}, // unassigned, in the Greek block
		{0x0605, 6}, // ARABIC NUMBER MARK ABOVE
		{0x00AD, 1}, // soft hyphen
		{0x200D, 0}, // zero-width joiner
		{0x200F, 0}, // right-to-left mark
		{0x202B, 0}, // right-to-left embedding
		{0x2060, 0}, // word joiner
		{0xFEFF, 4}, // byte order mark, as before
		{0x05D0, 0}, // א
	}
	for _, tt := range tests {
		if got := rarity(tt.r); got != tt.want {
			t.Errorf("rarity(%U) = %d, want %d", tt.r, got, tt.want)
		}
	}
}
