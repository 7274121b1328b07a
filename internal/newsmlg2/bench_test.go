package newsmlg2

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/story"
)

func BenchmarkParse(b *testing.B) {
	nitf, err := os.ReadFile(filepath.Join("testdata", "nitf_body.xml"))
	if err != nil {
		b.Fatal(err)
	}
	item := `<newsItem guid="i"><itemMeta><itemClass qcode="ninat:text"/></itemMeta><contentMeta><headline>h</headline></contentMeta><contentSet><inlineXML><html><body>` +
		strings.Repeat("<p>A paragraph of <b>body</b> text, long enough to matter.</p>", 20) + `</body></html></inlineXML></contentSet></newsItem>`
	message := []byte("<newsMessage><itemSet>" + strings.Repeat(item, 1000) + "</itemSet></newsMessage>")
	// Worst cases near the size limit: many distinct subjects, and an
	// HTML body of unclosed elements.
	var subj strings.Builder
	subj.WriteString(`<newsItem guid="s"><contentMeta><headline>h</headline>`)
	for i := 0; subj.Len() < story.MaxInputBytes-100; i++ {
		fmt.Fprintf(&subj, `<subject qcode="s:%d"/>`, i)
	}
	subj.WriteString(`</contentMeta></newsItem>`)
	subjects := []byte(subj.String())
	unclosed := []byte(`<newsItem guid="u"><contentSet><inlineData contenttype="text/html">` +
		strings.Repeat("&lt;div&gt;&lt;span&gt;x", (story.MaxInputBytes-200)/24) + `</inlineData></contentSet></newsItem>`)
	for _, bb := range []struct {
		name string
		in   []byte
	}{{"nitf item", nitf}, {"message of 1000 items", message}, {"subjects at the limit", subjects}, {"unclosed HTML at the limit", unclosed}} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bb.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
