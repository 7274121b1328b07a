package textfix

import (
	"errors"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"", "plain ASCII", "fight â–\u00a0", "Dellâ€™s", "ÐŸÑ€Ð¸Ð²ÐµÑ‚", "РџСЂРёРІРµС‚",
	"GrÃƒÂ¼ÃƒÅ¸e", "Hi guys í\u00a0½í¸\u008d", "ItÃ?Â¢â?¬â?¢s", "voilÃ  le", "Ã s crianÃ§as",
	"&amp;eacute; &#x80; &#0;", "\u0093x\u0094\r\n\x00", "a \u00a0 b\u2003 \n", "e\u0301", "\xff\xfe bad",
	"ã†â€™ãƒâ€ ã¢â‚¬â„¢", "─îe┼ítina", "√©", "Ă\u00adĹˇ",
	// Once not idempotent: the last layer, with a charset vouched for,
	// left clusters that a fresh look repairs.
	"\xe2\xa0â \xa2ãƒ\xc3 \xc3¢", "√π√©&not;Ã?Ä\u00a0√©",
}

func FuzzFix(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _ := FixWith(s, DefaultOptions())
		if !utf8.ValidString(out) {
			t.Fatalf("Fix(%q) = %q: not valid UTF-8", s, out)
		}
		if again := Fix(out); again != out {
			t.Fatalf("Fix is not idempotent\n input: %q\n  once: %q\n twice: %q", s, out, again)
		}
	})
}

// FuzzScan checks that the steps scan finds nothing for leave the text as
// it is.
func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkScan(t, s)
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "")
	}
	f.Add([]byte("\xff\xfeh\x00"), "")
	f.Add([]byte("\x00\x00\xfe\xff\x00\x00\x00h"), "")
	f.Add([]byte(`<?xml version="1.0" encoding="koi8-r"?>`+"\xf0"), "")
	f.Add([]byte(`<meta charset="utf-16">`+"x"), "")
	f.Add([]byte("caf\xe9"), "text/html; charset=windows-1250")
	f.Add([]byte("caf\xe9"), "x-unknown")
	f.Fuzz(func(t *testing.T, b []byte, declared string) {
		s, _, err := Decode(b, declared)
		if !utf8.ValidString(s) {
			t.Fatalf("Decode(%q, %q) = %q: not valid UTF-8", b, declared, s)
		}
		if err != nil && (utf8.Valid(b) || !errors.Is(err, ErrUnknownCharset)) {
			t.Fatalf("Decode(%q, %q): unexpected error %v", b, declared, err)
		}
	})
}
