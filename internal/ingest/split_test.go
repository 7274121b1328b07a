package ingest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// corpusDir returns the shared corpus's rss folder, found by walking up
// from the working directory to a folder holding shared/corpus/rss. The
// test is skipped when there is none.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "corpus", "rss")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no shared/corpus/rss folder above the working directory: the real-feed tests need the shared corpus checked out beside the repository")
		}
		dir = parent
	}
}

// corpusFeeds returns the corpus's feed files by path relative to it.
func corpusFeeds(t testing.TB) map[string][]byte {
	t.Helper()
	root := corpusDir(t)
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "LICENSE") {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Skip("shared/corpus/rss holds no feeds")
	}
	return out
}

// TestSplitCorpusAsGofeedReadsIt splits every corpus feed that gofeed
// reads and checks that each one-entry document reads, with gofeed, as
// exactly that entry of the whole feed, in the same channel.
func TestSplitCorpusAsGofeedReadsIt(t *testing.T) {
	t.Parallel()
	var split, whole, unsplit atomic.Int32
	feeds := corpusFeeds(t)
	t.Run("feeds", func(t *testing.T) {
		for rel, doc := range feeds {
			t.Run(rel, func(t *testing.T) {
				t.Parallel()
				checkSplitAsGofeed(t, doc, &split, &whole, &unsplit)
			})
		}
	})
	t.Logf("corpus: %d feeds split and compared, %d not split (UTF-16/32, not a feed or unreadable), %d split but unreadable by gofeed", split.Load(), unsplit.Load(), whole.Load())
}

func checkSplitAsGofeed(t *testing.T, doc []byte, split, whole, unsplit *atomic.Int32) {
	sd, err := splitFeed(doc)
	want, gerr := gofeed.NewParser().Parse(bytes.NewReader(doc))
	if err != nil {
		if errors.Is(err, errUnsplittable) || errors.Is(err, errNotFeed) || gerr != nil {
			unsplit.Add(1)
			return
		}
		t.Fatalf("splitFeed: %v (gofeed reads %d items)", err, len(want.Items))
	}
	if gerr != nil {
		whole.Add(1)
		return // gofeed cannot read it either; nothing to compare with
	}
	if len(sd.items) != len(want.Items) {
		t.Fatalf("splitFeed found %d entries, gofeed %d", len(sd.items), len(want.Items))
	}
	split.Add(1)
	for i := range sd.items {
		one, err := gofeed.NewParser().Parse(bytes.NewReader(sd.itemDoc(i)))
		if err != nil {
			t.Fatalf("entry %d: gofeed cannot read the one-entry document: %v", i, err)
		}
		if len(one.Items) != 1 {
			t.Fatalf("entry %d: one-entry document holds %d items", i, len(one.Items))
		}
		got, w := one.Items[0], want.Items[i]
		if got.Title != w.Title || got.Link != w.Link || got.GUID != w.GUID || got.Description != w.Description ||
			got.Content != w.Content || got.Published != w.Published || got.Updated != w.Updated {
			t.Errorf("entry %d differs:\ngot  %q %q %q %q\nwant %q %q %q %q", i, got.Title, got.Link, got.GUID, got.Published, w.Title, w.Link, w.GUID, w.Published)
		}
		if one.Title != want.Title || one.Language != want.Language || one.Link != want.Link {
			t.Errorf("entry %d: channel %q %q %q, want %q %q %q", i, one.Title, one.Language, one.Link, want.Title, want.Language, want.Link)
		}
		// An entry gofeed finds a guid or link for has an id or link.
		if it := sd.items[i]; it.id == "" && it.link == "" && (w.GUID != "" || w.Link != "") {
			t.Errorf("entry %d: no id nor link found; gofeed says guid %q link %q", i, w.GUID, w.Link)
		}
	}
}

func TestSplitFeedFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		doc    string
		kind   string
		ids    []string
		links  []string
		dates  []string
		err    error
		inItem []string // text each one-entry document must hold (one per entry)
	}{
		{
			name: "rss 2.0 with guid, link, atom:link and dc:date",
			doc: `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>T</title><link>https://wire.example/</link>
<atom:link href="https://wire.example/feed" rel="self"/>
<item><title>One</title><link>https://wire.example/1</link><guid isPermaLink="false">id-1</guid><pubDate>Tue, 03 Jun 2025 09:00:00 +0200</pubDate></item>
<item><title>Two &amp; <![CDATA[<item>not one</item>]]></title><atom:link href="https://other.example/"/><link>https://wire.example/2</link><dc:date>2025-06-03T10:00:00Z</dc:date></item>
<!-- <item>a comment</item> -->
</channel></rss>`,
			kind:   "rss",
			ids:    []string{"id-1", ""},
			links:  []string{"https://wire.example/1", "https://wire.example/2"},
			dates:  []string{"Tue, 03 Jun 2025 09:00:00 +0200", "2025-06-03T10:00:00Z"},
			inItem: []string{"<title>One</title>", "<title>Two &amp;"},
		},
		{
			name: "rss 1.0 items beside the channel",
			doc: `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://wire.example/"><title>T</title></channel>
<item rdf:about="https://wire.example/a"><title>A</title><link>https://wire.example/a</link></item>
<item rdf:about="https://wire.example/b"><title>B</title><link>https://wire.example/b</link></item>
</rdf:RDF>`,
			kind:   "rss",
			ids:    []string{"https://wire.example/a", "https://wire.example/b"},
			links:  []string{"https://wire.example/a", "https://wire.example/b"},
			dates:  []string{"", ""},
			inItem: []string{"<title>A</title>", "<title>B</title>"},
		},
		{
			name: "atom with alternate link and source element",
			doc: `<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:feed</id>
<entry><id>urn:e1</id><link rel="self" href="https://wire.example/self"/><link href="https://wire.example/e1"/><updated>2025-06-01T00:00:00Z</updated><published>2025-05-31T00:00:00Z</published>
<source><id>urn:elsewhere</id></source></entry>
<entry><link rel="alternate" href="https://wire.example/e2"/><updated>2025-06-02T00:00:00Z</updated></entry>
</feed>`,
			kind:   "atom",
			ids:    []string{"urn:e1", ""},
			links:  []string{"https://wire.example/e1", "https://wire.example/e2"},
			dates:  []string{"2025-05-31T00:00:00Z", "2025-06-02T00:00:00Z"},
			inItem: []string{"urn:e1", "wire.example/e2"},
		},
		{
			name: "latin-1 bytes and a non-ASCII guid",
			doc:  "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><title>Not\xedcias</title><item><guid>caf\xe9-1</guid><title>S\xe3o Paulo</title></item></channel></rss>",
			kind: "rss",
			// The masked copy cannot spell the guid: it is keyed on its bytes.
			ids:    []string{"sha256:"},
			links:  []string{""},
			dates:  []string{""},
			inItem: []string{"S\xe3o Paulo"},
		},
		{name: "no entries", doc: `<rss><channel><title>T</title></channel></rss>`, kind: "rss"},
		{name: "html", doc: `<html><body><item>x</item></body></html>`, err: errNotFeed},
		{name: "not xml", doc: `{"items": []}`, err: errNotFeed},
		{name: "utf-16", doc: "\xff\xfe<\x00r\x00s\x00s\x00>\x00", err: errUnsplittable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sd, err := splitFeed([]byte(tt.doc))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("splitFeed: got %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sd.kind != tt.kind || len(sd.items) != len(tt.ids) {
				t.Fatalf("splitFeed: kind %q, %d entries; want %q, %d", sd.kind, len(sd.items), tt.kind, len(tt.ids))
			}
			for i, it := range sd.items {
				if !strings.HasPrefix(it.id, tt.ids[i]) || (tt.ids[i] == "") != (it.id == "") || it.link != tt.links[i] || it.date != tt.dates[i] {
					t.Errorf("entry %d: id %q link %q date %q; want id %q link %q date %q", i, it.id, it.link, it.date, tt.ids[i], tt.links[i], tt.dates[i])
				}
				one := string(sd.itemDoc(i))
				for j, want := range tt.inItem {
					if strings.Contains(one, want) != (i == j) {
						t.Errorf("entry %d's document holds %q: %v, want %v\n%s", i, want, !(i == j), i == j, one)
					}
				}
				if !strings.HasPrefix(one, tt.doc[:sd.items[0].start]) || !strings.HasSuffix(one, tt.doc[sd.items[len(sd.items)-1].end:]) {
					t.Errorf("entry %d's document does not keep the feed's head and tail:\n%s", i, one)
				}
			}
		})
	}
}

func TestParseFeedDate(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339, "" when unparsable
	}{
		{"Tue, 03 Jun 2025 09:00:00 +0200", time.UTC, "2025-06-03T09:00:00+02:00"},
		{"Tue, 3 Jun 2025 09:00:00 GMT", time.UTC, "2025-06-03T09:00:00Z"},
		{"Tue, 03 Jun 2025 09:00:00 EST", time.UTC, "2025-06-03T09:00:00-05:00"},
		{"Tue, 03 Jun 2025 09:00 +0000", time.UTC, "2025-06-03T09:00:00Z"},
		{"  Tue,  03 Jun 2025\n09:00:00 +0000 ", time.UTC, "2025-06-03T09:00:00Z"},
		{"2025-06-03T09:00:00Z", time.UTC, "2025-06-03T09:00:00Z"},
		{"2025-06-03T09:00:00.123+05:30", time.UTC, "2025-06-03T09:00:00.123+05:30"},
		{"2025-06-03T09:00:00", paris, "2025-06-03T09:00:00+02:00"},
		{"2025-06-03", paris, "2025-06-03T00:00:00+02:00"},
		{"yesterday", time.UTC, ""},
		{"", time.UTC, ""},
	}
	for _, tt := range tests {
		got, ok := parseFeedDate(tt.in, tt.loc)
		s := ""
		if ok {
			s = got.Format(time.RFC3339Nano)
		}
		if s != tt.want {
			t.Errorf("parseFeedDate(%q, %s) = %q, want %q", tt.in, tt.loc, s, tt.want)
		}
	}
}
