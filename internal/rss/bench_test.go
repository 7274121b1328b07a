package rss

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/golden"
)

func BenchmarkParseGuardian(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(golden.Corpus(b), "rss", "rss-parser", "guardian.rss"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// The worst inputs the limits let through: as many extension elements as
// allowed, and extension text split into as many pieces as allowed.
func BenchmarkParseManyExtensionElements(b *testing.B) {
	data := []byte(`<rss><channel><item><x:e xmlns:x="urn:x">` + strings.Repeat(`<x:b/>`, maxExtNodes-10) + `</x:e></item></channel></rss>`)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSplitExtensionText(b *testing.B) {
	// k pieces of s bytes cost about s*k*k/2 bytes of copying.
	const s, k = 1000, 700
	data := []byte(`<rss><channel><item><x:e xmlns:x="urn:x">` + strings.Repeat(strings.Repeat("a", s)+"<x:b/>", k) + `</x:e></item></channel></rss>`)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseManyElements(b *testing.B) {
	data := []byte(`<rss><channel><item>` + strings.Repeat(`<b/>`, maxNodes-10) + `</item></channel></rss>`)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseManyNamespaces(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("<rss")
	const decls = 100
	for i := range decls {
		fmt.Fprintf(&sb, ` xmlns:n%d="urn:%d"`, i, i)
	}
	sb.WriteString("><channel><item>" + strings.Repeat("<b/>", maxScopeCost/decls-10) + "</item></channel></rss>")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHTMLParagraphs(b *testing.B) {
	html := strings.Repeat("<p>The port <b>closed</b> on Saturday &amp; ferries stayed in port.&nbsp;More storms are expected.</p>\n", 200)
	b.SetBytes(int64(len(html)))
	for b.Loop() {
		HTMLParagraphs(html)
	}
}
