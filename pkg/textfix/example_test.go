package textfix_test

import (
	"fmt"

	"github.com/wirefeed/wirefeed/pkg/textfix"
)

func ExampleFix() {
	fmt.Println(textfix.Fix("The companyâ€™s CEO said â€œnoâ€\u009d."))
	fmt.Println(textfix.Fix("РџСЂРёРІРµС‚ from Ð¼Ð¾Ñ\u0081ÐºÐ²Ð°"))
	fmt.Println(textfix.Fix("Clean text, even “curly” and ĄĘŁ, is left alone."))
	// Output:
	// The company’s CEO said “no”.
	// Привет from москва
	// Clean text, even “curly” and ĄĘŁ, is left alone.
}

func ExampleFixWith() {
	o := textfix.DefaultOptions()
	o.Whitespace = false
	text, codes := textfix.FixWith("GrÃƒÂ¼ÃƒÅ¸e &amp; caf&eacute;  \u0093ok\u0094", o)
	fmt.Println(text)
	fmt.Println(codes)
	// Output:
	// Grüße & café  “ok”
	// [html-entities mojibake:cp1252 c1-controls]
}

func ExampleDecode() {
	text, codes, err := textfix.Decode([]byte("caf\xe9 cr\xe8me"), "text/plain; charset=ISO-8859-1")
	fmt.Println(text, codes, err)
	text, codes, err = textfix.Decode([]byte("\xcf\xf0\xe8\xe2\xe5\xf2"), "windows-1251")
	fmt.Println(text, codes, err)
	text, codes, err = textfix.Decode([]byte("no charset: caf\xe9"), "")
	fmt.Println(text, codes, err)
	// Output:
	// café crème [charset:windows-1252] <nil>
	// Привет [charset:windows-1251] <nil>
	// no charset: café [charset:guessed:windows-1252] <nil>
}
