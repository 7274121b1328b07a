package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/pkg/record"
)

// corpusContentType is the Content-Type a feedparser encoding test names
// in its header comment ("Header: Content-type: text/xml; charset=..."),
// else application/xml.
var corpusHeaderRe = regexp.MustCompile(`(?i)Header:\s*Content-type:\s*([^\r\n]+)`)

func corpusContentType(b []byte) string {
	head := b[:min(len(b), 400)]
	if m := corpusHeaderRe.FindSubmatch(head); m != nil {
		return strings.TrimSpace(string(m[1]))
	}
	return "application/xml"
}

// TestHTTPCorpusFeeds serves every feed of the shared corpus from an
// httptest server, one http source each, and checks what reaches the raw
// topic: one item per entry (the document whole when it cannot be split),
// with its key, its one-entry document and the envelope (origin, content
// type, charset from the header). A second round of fetches publishes
// nothing.
func TestHTTPCorpusFeeds(t *testing.T) {
	t.Parallel()
	feeds := corpusFeeds(t)
	rels := make([]string, 0, len(feeds))
	for rel := range feeds {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	modTime := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := feeds[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", corpusContentType(b))
		http.ServeContent(w, r, "", modTime, bytes.NewReader(b)) // Last-Modified, 304
	}))
	t.Cleanup(srv.Close)

	type want struct {
		src, url, ct, charset, format string
		body                          []byte
	}
	wants := map[string]want{} // by key
	var ids []string
	var yml strings.Builder
	yml.WriteString("sources:\n")
	for i, rel := range rels {
		id := fmt.Sprintf("corpus-%03d", i)
		ids = append(ids, id)
		url := srv.URL + "/" + rel
		fmt.Fprintf(&yml, "  - {id: %s, type: http, url: '%s'}\n", id, url)
		doc := feeds[rel]
		ct := corpusContentType(doc)
		w := want{src: id, url: url, ct: ct, charset: charsetOf(ct)}
		sd, err := splitFeed(doc)
		if err != nil {
			w.body = doc
			wants[record.ItemKey(id, "", doc)] = w
			continue
		}
		for j, it := range sd.items {
			key := it.id
			if key == "" {
				key = it.link
			}
			w.body, w.format = sd.itemDoc(j), sd.kind
			k := record.ItemKey(id, key, sd.item(j))
			if _, dup := wants[k]; dup {
				continue // an entry listed twice in one feed is published once
			}
			wants[k] = w
		}
	}
	r := newRig(t, 3)
	r.writeSources(yml.String())
	x := r.start(r.config())
	for _, id := range ids {
		x.waitFetched(t, id, 1)
	}
	for _, id := range ids {
		if n := x.fetches(id, "ok"); n != 1 {
			t.Errorf("%s: first fetch did not succeed (errors: %d)", id, x.fetches(id, "error"))
		}
	}
	items := rawItems(t, &r.kc, r.raw)
	if len(items) != len(wants) {
		t.Errorf("raw topic holds %d keys, want %d (from %d feeds)", len(items), len(wants), len(rels))
	}
	for key, w := range wants {
		got := items[key]
		if len(got) != 1 {
			t.Errorf("%s (%s): published %d times, want once", key, w.url, len(got))
			continue
		}
		raw := got[0]
		if !bytes.Equal(raw.Body, w.body) {
			t.Errorf("%s (%s): body differs from the expected one-entry document", key, w.url)
		}
		if raw.Source != w.src || raw.Origin != w.url || raw.ContentType != w.ct || raw.Charset != w.charset || raw.Format != w.format {
			t.Errorf("%s: envelope source %q origin %q content type %q charset %q format %q;\nwant %q %q %q %q %q",
				key, raw.Source, raw.Origin, raw.ContentType, raw.Charset, raw.Format, w.src, w.url, w.ct, w.charset, w.format)
		}
	}
	markers := countMessages(t, &r.kc, r.seen)
	if markers != len(wants) {
		t.Errorf("seen topic: %d markers, want %d", markers, len(wants))
	}

	// Fetched again: every answer is a 304, nothing is published.
	x.gate.release(ids...)
	for _, id := range ids {
		x.waitFetched(t, id, 2)
		if n := x.fetches(id, "not_modified"); n != 1 {
			t.Errorf("%s: second fetch was not a 304", id)
		}
	}
	if n := countMessages(t, &r.kc, r.raw); n != len(wants) {
		t.Errorf("after a second round: %d messages on the raw topic, want still %d", n, len(wants))
	}
}
