package textfix

import (
	"errors"
	"slices"
	"testing"
)

func TestFix(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"seed: UTF-8 black square read as windows-1252", "fight â–\u00a0", "fight ■"},
		{"apostrophe", "Dellâ€™s", "Dell’s"},
		{"clean punctuation and emoji", "Curly “quotes”, dashes – — and emoji 😀 stay.", "Curly “quotes”, dashes – — and emoji 😀 stay."},
		{"clean full-width", "Ｔｏｋｙｏ（ＡＰ）", "Ｔｏｋｙｏ（ＡＰ）"},
		{"Russian read as windows-1251", "РџСЂРёРІРµС‚, РјРёСЂ", "Привет, мир"},
		{"Russian read as windows-1252", "ÐŸÑ€Ð¸Ð²ÐµÑ‚, Ð¼Ð¸Ñ€", "Привет, мир"},
		{"Polish read as windows-1250", "ZaĹĽĂłĹ‚Ä‡ gÄ™Ĺ›lÄ… jaĹşĹ„", "Zażółć gęślą jaźń"},
		{"German, two layers", "GrÃƒÂ¼ÃƒÅ¸e aus KÃƒÂ¶ln", "Grüße aus Köln"},
		{"damage in part of a line", "Clean café and damaged cafÃ© side by side", "Clean café and damaged café side by side"},
		{"Chinese read as windows-1252", "ä¸\u00adæ–‡", "中文"},
		{"Japanese read as windows-1252", "æ—¥æœ¬èªž", "日本語"},
		{"emoji read as windows-1252", "Great ðŸ‘\u008d", "Great 👍"},
		{"C1 controls for windows-1252 punctuation", "\u0093Yes\u0094, she said\u0085", "“Yes”, she said…"},
		{"HTML entities, double escaped", "Caf&amp;eacute; &#8220;Le Monde&#8221;", "Café “Le Monde”"},
		{"stray controls", "Line one\r\nLine\x00 two\x07", "Line one\nLine two"},
		{"whitespace", "Too   many \u2003 spaces  \nand a trailing one \n10\u00a0km", "Too many spaces\nand a trailing one\n10\u00a0km"},
		{"NFC", "Cafe\u0301", "Café"},
		{"negative: Swedish trademark", "AHÅ™, the new sofa", "AHÅ™, the new sofa"},
		{"negative: Ukrainian capitals", "ВІКІ is Ukrainian for WIKI", "ВІКІ is Ukrainian for WIKI"},
		{"negative: ellipsis after capital", "RETWEET SE VOCÊ…", "RETWEET SE VOCÊ…"},
		{"negative: spaced letters", "C O N C L U S Ã O", "C O N C L U S Ã O"},
		// Clean lines whose suspicious pairs are all weak, two or more in
		// one charset and nothing else on the line: read as damage, each
		// would "improve" by the scorer's measure (docs/textfix.md, What is
		// missed).
		{"negative: multiplied prices", "Prize: 2×£100 and 5×£20 gift cards", "Prize: 2×£100 and 5×£20 gift cards"},
		{"negative: fractions", "Recipe scaled ×½ and ×¼ for two.", "Recipe scaled ×½ and ×¼ for two."},
		{"negative: tolerances", "Tolerance ≈±2% and ≈±3%", "Tolerance ≈±2% and ≈±3%"},
		{"negative: box drawing after letters", "GND─┤ and VCC─┤", "GND─┤ and VCC─┤"},
		{"negative: block bars", "CPU█░ MEM█░", "CPU█░ MEM█░"},
		{"negative: square roots", "Γ(1/2) = √π and Γ(3/2) = √π/2.", "Γ(1/2) = √π and Γ(3/2) = √π/2."},
		{"negative: Romanian capitals before quotes", "programele „ROMÂNIA EDUCATĂ” și „ȘCOALA DIGITALĂ”", "programele „ROMÂNIA EDUCATĂ” și „ȘCOALA DIGITALĂ”"},
		{"negative: Portuguese capitals before no-break spaces", "IRMÃ\u00a0! IRMÃ\u00a0!", "IRMÃ\u00a0! IRMÃ\u00a0!"},
		{"clean fractions beside damage: no unassigned code point", "Dellâ€™s ×½ share", "Dell’s ×½ share"},
		{"clean fractions on a line after damage", "Dellâ€™s profit\nRecipe scaled ×½ and ×¼", "Dell’s profit\nRecipe scaled ×½ and ×¼"},
		{"no Arabic number mark after damage", "Dellâ€™s profit\nØ… and Ø…", "Dell’s profit\nØ… and Ø…"},
		{"negative: diameter and a fraction", "Use a Ø½ pipe", "Use a Ø½ pipe"},
		{"negative: diameters and fractions", "Ø½ and Ø¾ pipes", "Ø½ and Ø¾ pipes"},
		{"Arabic read as windows-1252, with a one-letter word", "Ø¹Ø§Ù… 2024 Ù…", "عام 2024 م"},
		{"Arabic read as windows-1252, with a separate and", "Ø§Ù„Ù…ØºØ±Ø¨ Ùˆ Ø§Ù„Ø¬Ø²Ø§Ø¦Ø±", "المغرب و الجزائر"},
		{"negative: Portuguese quotation trailing off after é", "“O problema é…”, disse o ministro.", "“O problema é…”, disse o ministro."},
		{"negative: Italian quotation trailing off after è", "«Il problema è…», ha detto il ministro.", "«Il problema è…», ha detto il ministro."},
		{"negative: Norwegian quotation trailing off after å", "«Det er vanskelig å…», sa statsministeren.", "«Det er vanskelig å…», sa statsministeren."},
		{"negative: quotation broken off after é", "Ele disse: “A resposta é—”, e foi interrompido.", "Ele disse: “A resposta é—”, e foi interrompido."},
		{"negative: é before guillemets with no-break spaces", "a situação é\u00a0«\u00a0grave\u00a0».", "a situação é\u00a0«\u00a0grave\u00a0»."},
		{"negative: Russian quotation trailing off after и", "«Мы долго ждали, и…» — рассказывает жительница.", "«Мы долго ждали, и…» — рассказывает жительница."},
		{"negative: Ukrainian quotation trailing off after й", "«Я пішла й…» і замовкла.", "«Я пішла й…» і замовкла."},
		{"negative: Bulgarian quotation trailing off after е", "Тя каза: «Това е…» и спря.", "Тя каза: «Това е…» и спря."},
		{"a word ending in é before a closing quote, after a damaged line", "Dellâ€™s profit\n«Perché…», ha detto", "Dell’s profit\n«Perché…», ha detto"},
		{"a word ending in é before a no-break space and », after a damaged line", "Dellâ€™s profit\nla liberté\u00a0»", "Dell’s profit\nla liberté\u00a0»"},
		{"Chinese after a Latin word, read as windows-1252", "iPhoneæ‰‹æœº", "iPhone手机"},
		{"a lone Chinese character read as windows-1252 in Latin text", "the character è¡Œ means to go", "the character 行 means to go"},
		{"a clean line before a damaged one stays", "Γ(1/2) = √π and Γ(3/2) = √π/2.\nCaf√© d√©j√†", "Γ(1/2) = √π and Γ(3/2) = √π/2.\nCafé déjà"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fix(tt.in); got != tt.want {
				t.Errorf("Fix(%q)\n   got: %q\n  want: %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFixWithCodes(t *testing.T) {
	tests := []struct {
		in    string
		o     Options
		want  string
		codes []string
	}{
		{"Dellâ€™s &amp; co", DefaultOptions(), "Dell’s & co", []string{"html-entities", "mojibake:cp1252"}},
		{"â\u0080\u009cquoted\u0094", DefaultOptions(), "“quoted”", []string{"mojibake:latin1", "c1-controls"}},
		{"РџСЂРёРІРµС‚", DefaultOptions(), "Привет", []string{"mojibake:cp1251"}},
		{"a\x00b  c", DefaultOptions(), "ab c", []string{"control-chars", "whitespace"}},
		{"e\u0301", DefaultOptions(), "é", []string{"nfc"}},
		{"clean text", DefaultOptions(), "clean text", nil},
		{"Dellâ€™s &amp;", Options{HTMLEntities: true}, "Dellâ€™s &", []string{"html-entities"}},
		{"Dellâ€™s &amp;", Options{}, "Dellâ€™s &amp;", nil},
		{"bad \xff byte", Options{}, "bad ÿ byte", []string{"invalid-utf8"}},
	}
	for _, tt := range tests {
		got, codes := FixWith(tt.in, tt.o)
		if got != tt.want || !slices.Equal(codes, tt.codes) {
			t.Errorf("FixWith(%q, %+v)\n   got: %q %q\n  want: %q %q", tt.in, tt.o, got, codes, tt.want, tt.codes)
		}
	}
}

func TestEntities(t *testing.T) {
	tests := []struct{ in, want string }{
		{"AT&T and R&D", "AT&T and R&D"},
		{"&eacute;t&eacute;", "été"},
		{"&#8217; &#x2019; &#X2019;", "’ ’ ’"},
		{"&#x80; is the euro in HTML", "€ is the euro in HTML"},
		{"&copy 2024 &para;meter", "&copy 2024 ¶meter"},
		{"&nosuchentity; &#; &#x; &", "&nosuchentity; &#; &#x; &"},
		{"&amp;amp;lt;", "<"},
	}
	for _, tt := range tests {
		if got, _ := decodeEntities(tt.in); got != tt.want {
			t.Errorf("decodeEntities(%q)\n   got: %q\n  want: %q", tt.in, got, tt.want)
		}
	}
}

func TestWhitespace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a b", "a b"},
		{"a\tb", "a\tb"},
		{"a \t b", "a b"},
		{"a\u00a0b", "a\u00a0b"},
		{"a \u00a0b", "a b"},
		{"\u00a0a", " a"},
		{"a\u00a0", "a"},
		{"a\u2009b\u202Fc", "a b c"},
		{"line  \nnext\t\n", "line\nnext\n"},
		{"　全角", "　全角"}, // the ideographic space belongs to CJK text
	}
	for _, tt := range tests {
		if got, _ := fixWhitespace(tt.in); got != tt.want {
			t.Errorf("fixWhitespace(%q)\n   got: %q\n  want: %q", tt.in, got, tt.want)
		}
		if needsWhitespace(tt.in) != (tt.in != tt.want) {
			t.Errorf("needsWhitespace(%q) = %v, want %v", tt.in, !(tt.in != tt.want), tt.in != tt.want)
		}
	}
}

func TestDecode(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE, 'h', 0, 0xE9, 0, 0x3C, 0xD8, 0x89, 0xDF}
	tests := []struct {
		name     string
		in       []byte
		declared string
		want     string
		codes    []string
		err      bool
	}{
		{"plain UTF-8", []byte("café"), "", "café", nil, false},
		{"UTF-8 BOM", []byte("\xEF\xBB\xBFcafé"), "", "café", []string{"bom"}, false},
		{"UTF-16LE BOM", utf16le, "", "hé🎉", []string{"bom", "charset:utf-16le"}, false},
		{"UTF-16BE BOM", []byte{0xFE, 0xFF, 0, 'h', 0, 0xE9}, "", "hé", []string{"bom", "charset:utf-16be"}, false},
		{"BOM beats declaration", []byte("\xEF\xBB\xBFcafé"), "windows-1251", "café", []string{"bom"}, false},
		{"declared windows-1251", []byte("\xcf\xf0\xe8\xe2\xe5\xf2"), "windows-1251", "Привет", []string{"charset:windows-1251"}, false},
		{"declared in Content-Type", []byte("caf\xe9"), "text/html; charset=ISO-8859-1", "café", []string{"charset:windows-1252"}, false},
		{"declared koi8-r", []byte("\xf0\xd2\xc9\xd7\xc5\xd4"), `"KOI8-R"`, "Привет", []string{"charset:koi8-r"}, false},
		{"declared single-byte but valid UTF-8", []byte("café"), "iso-8859-1", "café", []string{"charset:mislabelled:utf-8"}, false},
		{"declared overrides XML declaration", []byte(`<?xml version="1.0" encoding="utf-8"?><t>caf` + "\xe9</t>"), "windows-1252", `<?xml version="1.0" encoding="utf-8"?><t>café</t>`, []string{"charset:windows-1252"}, false},
		{"XML declaration", []byte(`<?xml version="1.0" encoding="windows-1251"?><t>` + "\xcf\xf0\xe8</t>"), "", `<?xml version="1.0" encoding="windows-1251"?><t>При</t>`, []string{"charset:windows-1251"}, false},
		{"meta charset", []byte(`<html><head><meta charset="iso-8859-2"></head>` + "\xb3\xf3d\xbc"), "", `<html><head><meta charset="iso-8859-2"></head>łódź`, []string{"charset:iso-8859-2"}, false},
		{"meta http-equiv", []byte(`<meta http-equiv="Content-Type" content="text/html; charset=windows-1250">` + "\x9ala"), "", `<meta http-equiv="Content-Type" content="text/html; charset=windows-1250">šla`, []string{"charset:windows-1250"}, false},
		{"undeclared legacy", []byte("caf\xe9 cr\xe8me"), "", "café crème", []string{"charset:guessed:windows-1252"}, false},
		{"undeclared UTF-8 with a stray byte", []byte("café crème \x93ok"), "", "café crème “ok", []string{"invalid-utf8"}, false},
		{"declared UTF-8 with a stray byte", []byte("ok \x93"), "utf-8", "ok “", []string{"invalid-utf8"}, false},
		{"unknown declared, valid UTF-8", []byte("café"), "x-no-such", "café", nil, false},
		{"unknown declared, invalid UTF-8", []byte("caf\xe9"), "x-no-such", "café", []string{"charset:guessed:windows-1252"}, true},
		{"empty", nil, "", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, codes, err := Decode(tt.in, tt.declared)
			if got != tt.want || !slices.Equal(codes, tt.codes) || (err != nil) != tt.err {
				t.Errorf("Decode(%q, %q)\n   got: %q %q %v\n  want: %q %q err=%v", tt.in, tt.declared, got, codes, err, tt.want, tt.codes, tt.err)
			}
			if err != nil && !errors.Is(err, ErrUnknownCharset) {
				t.Errorf("Decode error %v is not ErrUnknownCharset", err)
			}
		})
	}
}
