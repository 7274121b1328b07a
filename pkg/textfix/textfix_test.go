package textfix

import (
	"slices"
	"testing"
)

func TestFixSeed(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fight â–\u00a0", "fight ■"},
		{"Dellâ€™s", "Dell’s"},
		{"Curly “quotes”, dashes – — and emoji 😀 stay.", "Curly “quotes”, dashes – — and emoji 😀 stay."},
	}
	for _, tt := range tests {
		if got := Fix(tt.in); got != tt.want {
			t.Errorf("Fix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFixWithCodes(t *testing.T) {
	got, codes := FixWith("Dellâ€™s &amp; co", DefaultOptions())
	if want := "Dell’s & co"; got != want {
		t.Errorf("FixWith text = %q, want %q", got, want)
	}
	if want := []string{"html-entities", "mojibake:cp1252"}; !slices.Equal(codes, want) {
		t.Errorf("FixWith codes = %q, want %q", codes, want)
	}
}
