package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// fetchConfig is a configuration from the flags' defaults, with a sources
// file name so that the polling settings apply.
func fetchConfig(t testing.TB) Config {
	t.Helper()
	var c Config
	c.RegisterFlags(flag.NewFlagSet("ingest", flag.ContinueOnError))
	c.Telemetry.HTTPAddr = ""
	c.Poll.Jitter = 0
	return c
}

// testPoller returns a poller of an http source at url, with a fixed clock,
// no jitter and no publisher: for fetch and schedule tests.
func testPoller(t testing.TB, url string, change func(*Config, *Source)) *poller {
	t.Helper()
	cfg := fetchConfig(t)
	src := Source{ID: "test", Type: TypeHTTP, URL: url, Interval: time.Minute, Enabled: true}
	if change != nil {
		change(&cfg, &src)
	}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	svc := New(cfg, log, prometheus.NewRegistry())
	svc.now = func() time.Time { return testNow }
	svc.random = func() float64 { return 0.5 }
	return &poller{src: src, st: &pollState{}, svc: svc, log: log}
}

var testNow = time.Date(2025, 6, 3, 12, 0, 0, 0, time.UTC)

const tinyFeed = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>
<item><title>A</title><guid>urn:a</guid><pubDate>Tue, 03 Jun 2025 11:00:00 +0000</pubDate></item>
<item><title>B</title><link>https://wire.example/b</link><pubDate>Tue, 03 Jun 2025 10:00:00 +0000</pubDate></item>
</channel></rss>`

func TestFetchConditionalGET(t *testing.T) {
	t.Parallel()
	const etag = `"v1"`
	lastMod := testNow.Add(-time.Hour).Format(http.TimeFormat)
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, fmt.Sprintf("INM=%q IMS=%q", r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")))
		if r.Header.Get("If-None-Match") == etag || (r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == lastMod) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Write([]byte(tinyFeed))
	}))
	t.Cleanup(srv.Close)
	p := testPoller(t, srv.URL, nil)
	res := p.fetch(context.Background())
	if res.err != nil || res.notModified || string(res.body) != tinyFeed || res.etag != etag || res.lastModified != lastMod {
		t.Fatalf("first fetch: err %v, 304 %v, etag %q, last-modified %q", res.err, res.notModified, res.etag, res.lastModified)
	}
	// What publish does once the items are out.
	p.st.etag, p.st.lastModified = res.etag, res.lastModified
	if res := p.fetch(context.Background()); res.err != nil || !res.notModified || res.body != nil {
		t.Errorf("second fetch: err %v, 304 %v, body %d bytes; want a 304 and no body", res.err, res.notModified, len(res.body))
	}
	// A server that gave no ETag: If-Modified-Since alone.
	p.st.etag = ""
	if res := p.fetch(context.Background()); !res.notModified {
		t.Errorf("fetch with Last-Modified only: status %d, want 304", res.status)
	}
	want := []string{`INM="" IMS=""`, fmt.Sprintf("INM=%q IMS=%q", etag, lastMod), fmt.Sprintf("INM=\"\" IMS=%q", lastMod)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("conditional headers sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFetchGzip checks that Go's transport asks for gzip by itself and
// decompresses the body, and that the size limit applies to the
// decompressed bytes.
func TestFetchGzip(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("<!-- padding -->"), 10000) // 160 KB, compresses to little
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "client did not ask for gzip", http.StatusBadRequest)
			return
		}
		body := []byte(tinyFeed)
		if r.URL.Path == "/big" {
			body = big
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(b.Bytes())
	}))
	t.Cleanup(srv.Close)
	res := testPoller(t, srv.URL, nil).fetch(context.Background())
	if res.err != nil || string(res.body) != tinyFeed {
		t.Fatalf("gzip fetch: err %v, body %q; want the decompressed feed", res.err, res.body)
	}
	p := testPoller(t, srv.URL+"/big", func(c *Config, _ *Source) { c.Poll.MaxBodyBytes = 64 << 10 })
	if res := p.fetch(context.Background()); res.reason != "too_large" {
		t.Errorf("gzip body of %d bytes decompressed, limit 64 KiB: reason %q (err %v), want too_large", len(big), res.reason, res.err)
	}
}

func TestFetchSendsHeadersAndAuth(t *testing.T) {
	t.Parallel()
	var h http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h = r.Header.Clone() }))
	t.Cleanup(srv.Close)
	p := testPoller(t, srv.URL, func(_ *Config, s *Source) {
		s.Headers = map[string]Secret{"X-Api-Key": NewSecret("k"), "Authorization": NewSecret("Bearer t")}
	})
	if res := p.fetch(context.Background()); res.err != nil {
		t.Fatal(res.err)
	}
	for k, want := range map[string]string{"X-Api-Key": "k", "Authorization": "Bearer t", "User-Agent": "wirefeed-ingest/1"} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s: got %q, want %q", k, got, want)
		}
	}
}

func TestFetchFailures(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/500-date", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", testNow.Add(90*time.Second).Format(http.TimeFormat))
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "slow down", http.StatusTooManyRequests) })
	mux.HandleFunc("/404", http.NotFound)
	mux.HandleFunc("/slow-headers", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(tinyFeed[:40]))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/big-declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		w.Write(bytes.Repeat([]byte("x"), 5000))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 5 {
			w.Write(bytes.Repeat([]byte("x"), 1000))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/to-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://files.example/feed.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "file:///etc/passwd")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
		if n == 0 {
			w.Write([]byte(tinyFeed))
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		path       string
		url        string // instead of srv.URL+path
		wantReason string // "" for success
		backoff    bool
		retryAfter time.Duration
	}{
		{path: "/503", wantReason: "status_5xx", backoff: true, retryAfter: 120 * time.Second},
		{path: "/500-date", wantReason: "status_5xx", backoff: true, retryAfter: 90 * time.Second},
		{path: "/429", wantReason: "status_429", backoff: true},
		{path: "/404", wantReason: "status_4xx"},
		{path: "/slow-headers", wantReason: "timeout", backoff: true},
		{path: "/slow-body", wantReason: "timeout", backoff: true},
		{path: "/big-declared", wantReason: "too_large"},
		{path: "/big-chunked", wantReason: "too_large"},
		{path: "/loop", wantReason: "redirects"},
		{path: "/to-ftp", wantReason: "redirect_scheme"},
		{path: "/to-file", wantReason: "redirect_scheme"},
		{path: "/hop/3"},
		{path: "/hop/6", wantReason: "redirects"},
		{path: "refused", url: closedURL, wantReason: "connect", backoff: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			url := tt.url
			if url == "" {
				url = srv.URL + tt.path
			}
			p := testPoller(t, url, func(c *Config, s *Source) {
				c.Poll.MaxBodyBytes = 4096
				c.Poll.MaxRedirects = 5
				s.Timeout = time.Minute // ample on a loaded machine
				if strings.HasPrefix(tt.path, "/slow") {
					s.Timeout = 300 * time.Millisecond
				}
			})
			res := p.fetch(context.Background())
			if res.reason != tt.wantReason || res.backoff != tt.backoff || (tt.wantReason == "") != (res.err == nil) {
				t.Fatalf("GET %s: reason %q backoff %v err %v; want reason %q backoff %v", url, res.reason, res.backoff, res.err, tt.wantReason, tt.backoff)
			}
			if tt.retryAfter != 0 && (!res.hasRetry || res.retryAfter != tt.retryAfter) {
				t.Errorf("GET %s: Retry-After %s (%v), want %s", url, res.retryAfter, res.hasRetry, tt.retryAfter)
			}
			if res.err != nil && res.stopped {
				t.Errorf("GET %s: a failure reported as a stop", url)
			}
		})
	}
}

func TestFetchStoppedIsNotAFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	p := testPoller(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if res := p.fetch(ctx); !res.stopped {
		t.Errorf("fetch cancelled by a stop: reason %q, stopped %v; want stopped", res.reason, res.stopped)
	}
}

// TestItemsEnvelope checks what the envelope of each entry carries: the
// source, format, origin after redirects, content type and the charset
// (the source's override, else the HTTP one).
func TestItemsEnvelope(t *testing.T) {
	t.Parallel()
	latin := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Not\xedcias</title>" +
		"<item><title>S\xe3o Paulo</title><guid>urn:sp</guid><pubDate>Tue, 03 Jun 2025 09:00:00 -0300</pubDate></item>" +
		"<item><title>Bel\xe9m</title><link>https://wire.example/belem</link></item></channel></rss>"
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=ISO-8859-1")
		w.Write([]byte(latin))
	})
	mux.HandleFunc("/lax", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml;charset = us-ascii")
		w.Write([]byte(tinyFeed))
	})
	mux.HandleFunc("/atom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		w.Write([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>urn:e</id><updated>2025-06-03T11:30:00Z</updated></entry></feed>`))
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=windows-1251")
		w.Write([]byte("Title : One\nArticle :\nBody.\n"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		name, path, format, override string
		wantFormat, wantCT, wantCS   string
		wantKeys                     []string
		wantNewest                   string
	}{
		{name: "http charset", path: "/old", wantFormat: "rss", wantCT: "application/rss+xml; charset=ISO-8859-1", wantCS: "iso-8859-1",
			wantKeys: []string{"test:urn:sp", "test:https://wire.example/belem"}, wantNewest: "2025-06-03T12:00:00Z"},
		{name: "override", path: "/feed", format: "rss", override: "windows-1252", wantFormat: "rss", wantCT: "application/rss+xml; charset=ISO-8859-1", wantCS: "windows-1252",
			wantKeys: []string{"test:urn:sp", "test:https://wire.example/belem"}, wantNewest: "2025-06-03T12:00:00Z"},
		{name: "lax content type", path: "/lax", wantFormat: "rss", wantCT: "text/xml;charset = us-ascii", wantCS: "us-ascii",
			wantKeys: []string{"test:urn:a", "test:https://wire.example/b"}, wantNewest: "2025-06-03T11:00:00Z"},
		{name: "atom sniffed", path: "/atom", wantFormat: "atom", wantCT: "application/atom+xml", wantKeys: []string{"test:urn:e"}, wantNewest: "2025-06-03T11:30:00Z"},
		{name: "not a feed, whole", path: "/text", format: "textdump", wantFormat: "textdump", wantCT: "text/plain; charset=windows-1251", wantCS: "windows-1251",
			wantKeys: []string{"test:sha256:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := testPoller(t, srv.URL+tt.path, func(_ *Config, s *Source) { s.Format, s.Charset = tt.format, tt.override })
			res := p.fetch(context.Background())
			if res.err != nil {
				t.Fatal(res.err)
			}
			cands, newest, failed := p.items(&res)
			if failed != 0 || len(cands) != len(tt.wantKeys) {
				t.Fatalf("items: %d, %d failed; want %d", len(cands), failed, len(tt.wantKeys))
			}
			for i, c := range cands {
				r := c.raw
				if !strings.HasPrefix(r.Key, tt.wantKeys[i]) || r.Source != "test" || r.Format != tt.wantFormat || r.Origin != srv.URL+strings.Replace(tt.path, "/old", "/feed", 1) ||
					r.ContentType != tt.wantCT || r.Charset != tt.wantCS || !r.FetchedAt.Equal(testNow) {
					t.Errorf("item %d: key %q source %q format %q origin %q content type %q charset %q fetched %s;\nwant key %q, format %q, content type %q, charset %q",
						i, r.Key, r.Source, r.Format, r.Origin, r.ContentType, r.Charset, r.FetchedAt, tt.wantKeys[i], tt.wantFormat, tt.wantCT, tt.wantCS)
				}
			}
			got := ""
			if !newest.IsZero() {
				got = newest.UTC().Format(time.RFC3339)
			}
			if got != tt.wantNewest {
				t.Errorf("newest entry: %q, want %q", got, tt.wantNewest)
			}
		})
	}
}

func TestItemsTooLarge(t *testing.T) {
	t.Parallel()
	big := strings.Replace(tinyFeed, "<title>A</title>", "<title>"+strings.Repeat("A", 3000)+"</title>", 1)
	p := testPoller(t, "http://unused.example/", func(c *Config, _ *Source) { c.MaxItemBytes = 2000 })
	cands, _, failed := p.items(&fetchResult{body: []byte(big), at: testNow})
	if failed != 1 || len(cands) != 1 || !strings.Contains(string(cands[0].raw.Body), "<title>B</title>") {
		t.Errorf("feed with one entry over the item limit: %d items, %d failed; want 1 and 1 (B kept)", len(cands), failed)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 0 ", 0, true},
		{"-5", 0, false},
		{testNow.Add(time.Hour).Format(http.TimeFormat), time.Hour, true},
		{testNow.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Wednesday, 04-Jun-25 12:00:00 GMT", 24 * time.Hour, true}, // RFC 850
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, testNow)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestDelay checks the wait before each fetch through a run of failures
// and a recovery, with Retry-After and jitter.
func TestDelay(t *testing.T) {
	t.Parallel()
	p := testPoller(t, "http://unused.example/", func(c *Config, _ *Source) {
		c.Poll.BackoffMax = 10 * time.Minute
		c.Poll.RetryAfterMax = time.Hour
	})
	fail := fetchResult{err: fmt.Errorf("HTTP status 503"), reason: "status_5xx", backoff: true}
	withRetry := func(d time.Duration) fetchResult { r := fail; r.retryAfter, r.hasRetry = d, true; return r }
	steps := []struct {
		name string
		res  fetchResult
		want time.Duration
	}{
		{"ok", fetchResult{}, time.Minute},
		{"first failure: the interval", fail, time.Minute},
		{"second: doubled", fail, 2 * time.Minute},
		{"third", fail, 4 * time.Minute},
		{"fourth", fail, 8 * time.Minute},
		{"fifth: capped", fail, 10 * time.Minute},
		{"Retry-After longer than the backoff", withRetry(30 * time.Minute), 30 * time.Minute},
		{"Retry-After beyond its cap", withRetry(10 * time.Hour), time.Hour},
		{"Retry-After shorter than the backoff", withRetry(time.Second), 10 * time.Minute},
		{"recovered", fetchResult{}, time.Minute},
		{"a 404 does not back off", fetchResult{err: fmt.Errorf("404"), reason: "status_4xx"}, time.Minute},
		{"a timeout does", fetchResult{err: fmt.Errorf("timeout"), reason: "timeout", backoff: true}, time.Minute},
		{"and doubles", fetchResult{err: fmt.Errorf("timeout"), reason: "timeout", backoff: true}, 2 * time.Minute},
	}
	for _, st := range steps {
		if got := p.delay(st.res); got != st.want {
			t.Errorf("%s: delay %s, want %s (failures %d)", st.name, got, st.want, p.st.failures)
		}
	}

	// Jitter spreads the wait by up to the fraction either way.
	p.svc.cfg.Poll.Jitter = 0.1
	for _, r := range []float64{0, 0.25, 0.999} {
		p.svc.random = func() float64 { return r }
		got := p.delay(fetchResult{})
		if got < 54*time.Second || got > 66*time.Second {
			t.Errorf("jitter 0.1, random %g: delay %s, want within 54s..66s", r, got)
		}
	}
}

func TestNewHTTPClientRedirectErrors(t *testing.T) {
	t.Parallel()
	c := newHTTPClient(PollConfig{MaxRedirects: 0, ConnectTimeout: time.Second})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/x", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	_, err := c.Get(srv.URL + "/")
	var re *redirectError
	if err == nil || !errors.As(err, &re) || re.reason != "redirects" {
		t.Errorf("no redirects allowed: got %v, want a redirects error", err)
	}
}
