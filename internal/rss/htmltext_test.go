package rss

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHTMLParagraphs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"blank", " \n\t ", nil},
		{"plain text", "Just text.", []string{"Just text."}},
		{"plain text, blank lines", "First line\nwraps here.\n\nSecond.", []string{"First line wraps here.", "Second."}},
		{"plain text, wrapped", "First\nline.\r\nSame paragraph.", []string{"First line. Same paragraph."}},
		{"wrapped html without blocks", "With <sup>®</sup> more \n      lines of\n      source", []string{"With ® more lines of source"}},
		{"paragraphs", "<p>One.</p><p>Two.</p>", []string{"One.", "Two."}},
		{"unclosed paragraphs", "<p>One.<p>Two.", []string{"One.", "Two."}},
		{"br", "One.<br>Two.<br/>Three.<BR />Four.", []string{"One.", "Two.", "Three.", "Four."}},
		{"double br", "One.<br><br>Two.", []string{"One.", "Two."}},
		{"inline elements glue", "<p><b>Wi</b>re and <a href=\"x\">link</a>.</p>", []string{"Wire and link."}},
		{"inline only, one paragraph", "Some <em>text</em> here.", []string{"Some text here."}},
		{"inline only with blank lines", "Some <em>text</em>\n\nMore.", []string{"Some text", "More."}},
		{"headings and lists", "<h2>Head</h2><ul><li>one</li><li>two</li></ul>after", []string{"Head", "one", "two", "after"}},
		{"div soup", "<div><div>a</div>b<div>c</div></div>", []string{"a", "b", "c"}},
		{"script and style dropped", "<p>a<script>var x = '<p>no</p>';</script>b</p><style>p{}</style><p>c</p>", []string{"ab", "c"}},
		{"comment dropped", "<p>a<!-- <p>hidden</p> -->b</p>", []string{"ab"}},
		{"cdata dropped", "<p>a<![CDATA[x]]>b</p>", []string{"ab"}},
		{"nested dropped", "<p>a</p><svg><g><svg><text>x</text></svg></g></svg><p>b</p>", []string{"a", "b"}},
		{"self-closing raw-text element runs to its end tag", "<p>a<iframe/>b</iframe>c</p>", []string{"ac"}},
		{"self-closing dropped element", "<p>a<video/>b</p>", []string{"ab"}},
		{"images dropped", "<p><img src=\"a.jpg\" alt=\"Alt text\">Caption</p>", []string{"Caption"}},
		{"entities decoded once", "<p>Caf&eacute; &amp; bar &lt;tag&gt; &#8217; &#x2019; &amp;eacute;</p>", []string{"Café & bar <tag> ’ ’ &eacute;"}},
		{"entity without markup", "Tom &amp; Jerry", []string{"Tom & Jerry"}},
		{"windows-1252 references", "<p>don&#146;t</p>", []string{"don’t"}},
		{"whitespace collapsed", "<p>  a \n\t b\u2003 c  </p>", []string{"a b c"}},
		{"kept no-break space", "<p>10&nbsp;km and&nbsp; more&nbsp;</p>", []string{"10\u00a0km and more"}},
		{"table rows", "<table><tr><td>a</td><td>1</td></tr><tr><th>b</th><td>2</td></tr></table>", []string{"a 1", "b 2"}},
		{"pre lines", "<pre>line 1\nline 2\r\n\nline 3</pre>", []string{"line 1", "line 2", "line 3"}},
		{"blockquote", "a<blockquote>quote</blockquote>b", []string{"a", "quote", "b"}},
		{"figure", "<figure><img src=x><figcaption>Cap (Photo: A/B)</figcaption></figure><p>Text</p>", []string{"Cap (Photo: A/B)", "Text"}},
		{"stray lt", "<p>a < b and c > d</p>", []string{"a < b and c > d"}},
		{"unknown tags", "<p>a<custom-el>b</custom-el><o:p></o:p>c</p>", []string{"abc"}},
		{"head dropped", "<html><head><title>T</title></head><body><p>x</p></body></html>", []string{"x"}},
		{"unterminated tag", "<p>a</p><p", []string{"a"}},
		{"nul kept for later repair", "<p>a\x00b</p>", []string{"a\x00b"}},
		{"raw text to the end", "<p>a</p><script>b", []string{"a"}},
		{"bom in plain text", "\ufeffText", []string{"Text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HTMLParagraphs(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("HTMLParagraphs(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCollapseSpace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{" a  b ", "a b"},
		{"a\u00a0b", "a\u00a0b"},
		{"a\u202fb", "a\u202fb"},
		{"a \u00a0b", "a b"},
		{"\u00a0a\u00a0", "a"},
		{"a\u00a0\u00a0b", "a b"},
		{"a\r\n\tb", "a b"},
	}
	for _, tt := range tests {
		if got := collapseSpace(tt.in); got != tt.want {
			t.Errorf("collapseSpace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzHTMLParagraphs(f *testing.F) {
	for _, s := range []string{"", "<p>a</p>", "a<br>b", "<script>x</script>", "<pre>a\nb</pre>", "&amp;&#146;", "<svg><svg></svg>", "a\n\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		paras := HTMLParagraphs(s)
		total := 0
		for _, p := range paras {
			if p == "" || strings.TrimSpace(p) != p {
				t.Fatalf("HTMLParagraphs(%q) has an empty or untrimmed paragraph %q", s, p)
			}
			if utf8.ValidString(s) && !utf8.ValidString(p) {
				t.Fatalf("HTMLParagraphs(%q) made invalid UTF-8 %q", s, p)
			}
			total += len(p)
		}
		// References expand to at most a few times their length.
		if total > 4*len(s)+16 {
			t.Fatalf("HTMLParagraphs(%q) grew the text to %d bytes", s, total)
		}
	})
}
