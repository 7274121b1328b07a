package iptc7901

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/story"
)

func BenchmarkParse(b *testing.B) {
	multi, err := os.ReadFile(filepath.Join("testdata", "multi.iptc"))
	if err != nil {
		b.Fatal(err)
	}
	msg := "\x01bdt0001 3 pl 100  dpa 0001\n\nA/B/\n\x02Titel =\n\n" +
		strings.Repeat("Ein Satz, der in einer Zeile von etwa siebzig Zeichen steht und\nweitergeht, bis der Absatz endet.\n\n", 20) +
		"\x03010101 Jan 24\n\x7f\x04"
	stream := []byte(strings.Repeat(msg, 1000))
	// Worst cases near the limits: messages without EOT or SOH between
	// them, and a keyword line of many distinct keywords.
	big := story.MaxInputBytes/story.MaxItems - 16
	unframed := []byte(strings.Repeat("\x02T =\n\n"+strings.Repeat("x", big)+"\x03", story.MaxItems))
	var kw strings.Builder
	kw.WriteString("\x01h\n")
	for i := 0; kw.Len() < story.MaxInputBytes-100; i++ {
		fmt.Fprintf(&kw, "k%d/", i)
	}
	kw.WriteString("\n\x02T =\n\nText.\x03")
	keywords := []byte(kw.String())
	for _, bb := range []struct {
		name string
		in   []byte
	}{{"multi fixture", multi}, {"stream of 1000 messages", stream}, {"unframed messages at the limit", unframed}, {"keywords at the limit", keywords}} {
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
