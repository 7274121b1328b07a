package ingest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

const (
	pushTokenA = "token-of-source-a-0123456789"
	pushTokenB = "token-of-source-b-0123456789"
)

// startPush runs a Service with two push sources on a local listener and
// returns it with the endpoint's URL.
func startPush(t *testing.T, r *rig, change func(*Config)) (*running, string) {
	t.Helper()
	// A token from a file beside the sources file.
	if err := os.WriteFile(filepath.Join(filepath.Dir(r.sources), "token-b"), []byte(pushTokenB+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.writeSources("sources:\n" +
		"  - {id: wire-a, type: push, format: ninjs, token: '" + pushTokenA + "'}\n" +
		"  - {id: wire-b, type: push, token: 'file:token-b', charset: windows-1252}\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.config(func(c *Config) {
		c.PushAddr = ln.Addr().String()
		c.MaxItemBytes = 1024
		if change != nil {
			change(c)
		}
	})
	x := r.start(cfg, func(s *Service) { s.pushLn = ln })
	return x, "http://" + ln.Addr().String() + "/v1/items"
}

type pushReq struct {
	method, query, token, ct, body, itemID, source string
	chunked                                        bool
}

func doPush(t testing.TB, url string, q pushReq) (int, pushReply, http.Header) {
	t.Helper()
	method := q.method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader = strings.NewReader(q.body)
	if q.chunked {
		body = io.MultiReader(strings.NewReader(q.body)) // unknown length: sent chunked
	}
	req, err := http.NewRequest(method, url+q.query, body)
	if err != nil {
		t.Fatal(err)
	}
	if q.token != "" {
		req.Header.Set("Authorization", "Bearer "+q.token)
	}
	if q.ct != "" {
		req.Header.Set("Content-Type", q.ct)
	}
	if q.itemID != "" {
		req.Header.Set(PushHeaderItemID, q.itemID)
	}
	if q.source != "" {
		req.Header.Set(PushHeaderSource, q.source)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep pushReply
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, url, b)
	}
	return resp.StatusCode, rep, resp.Header
}

func TestPushRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1)
	x, url := startPush(t, r, nil)
	big := strings.Repeat("x", 1025)
	tests := []struct {
		name    string
		req     pushReq
		code    int
		errPart string
	}{
		{"GET", pushReq{method: http.MethodGet, query: "?source=wire-a", token: pushTokenA}, 405, "use POST"},
		{"no source, two configured", pushReq{token: pushTokenA, ct: "application/json", body: "{}"}, 400, "name the push source"},
		{"unknown source", pushReq{query: "?source=nope", token: pushTokenA, ct: "application/json", body: "{}"}, 404, `no push source "nope"`},
		{"query and header differ", pushReq{query: "?source=wire-a", source: "wire-b", token: pushTokenA, ct: "application/json", body: "{}"}, 400, "differ"},
		{"no token", pushReq{query: "?source=wire-a", ct: "application/json", body: "{}"}, 401, "no bearer token"},
		{"bad token", pushReq{query: "?source=wire-a", token: "wrong-token-0123456789", ct: "application/json", body: "{}"}, 401, "bad token"},
		{"other source's token", pushReq{query: "?source=wire-a", token: pushTokenB, ct: "application/json", body: "{}"}, 401, "bad token"},
		{"no content type", pushReq{query: "?source=wire-a", token: pushTokenA, body: "{}"}, 415, "no Content-Type"},
		{"bad content type", pushReq{query: "?source=wire-a", token: pushTokenA, ct: "image/png", body: "{}"}, 415, `"image/png" is not one of`},
		{"too large, declared", pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json", body: big}, 413, "larger than 1024 bytes"},
		{"too large, chunked", pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json", body: big, chunked: true}, 413, "larger than 1024 bytes"},
		{"empty", pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json"}, 400, "empty body"},
		{"bad item id", pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json", body: "{}", itemID: "a\tb"}, 400, "item id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, rep, h := doPush(t, url, tt.req)
			if code != tt.code || !strings.Contains(rep.Error, tt.errPart) {
				t.Errorf("%+v: got %d %q, want %d and an error containing %q", tt.req, code, rep.Error, tt.code, tt.errPart)
			}
			if code == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
	if n := countMessages(t, &r.kc, r.raw); n != 0 {
		t.Errorf("refused requests published %d items", n)
	}
	if n := testutil.ToFloat64(x.svc.m.push.WithLabelValues("401")); n != 3 {
		t.Errorf("push requests answered 401: %g, want 3", n)
	}
}

func TestPushPublishes(t *testing.T) {
	t.Parallel()
	r := newRig(t, 3)
	x, url := startPush(t, r, nil)
	item := `{"uri": "urn:item:1", "headline": "One"}`

	code, rep, _ := doPush(t, url, pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json; charset=utf-8", body: item, itemID: "urn:item:1"})
	if code != http.StatusAccepted || rep.Status != "accepted" || rep.Key != "wire-a:urn:item:1" {
		t.Fatalf("first push: %d %+v, want 202 accepted with key wire-a:urn:item:1", code, rep)
	}
	// 202 means acknowledged: the item is on the topic now.
	items := rawItems(t, &r.kc, r.raw)
	got := items["wire-a:urn:item:1"]
	if len(got) != 1 {
		t.Fatalf("after 202: %d copies of the item on the raw topic, want 1", len(got))
	}
	raw := got[0]
	if string(raw.Body) != item || raw.Source != "wire-a" || raw.Format != "ninjs" || raw.Origin != "push:127.0.0.1" ||
		raw.ContentType != "application/json; charset=utf-8" || raw.Charset != "utf-8" {
		t.Errorf("envelope: %+v", raw)
	}

	// The same item again: 200, not published.
	code, rep, _ = doPush(t, url, pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json", body: item, itemID: "urn:item:1"})
	if code != http.StatusOK || rep.Status != "duplicate" {
		t.Errorf("same item again: %d %+v, want 200 duplicate", code, rep)
	}
	// A new version under the same id: published.
	code, rep, _ = doPush(t, url, pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json", body: strings.Replace(item, "One", "One (corrected)", 1), itemID: "urn:item:1"})
	if code != http.StatusAccepted {
		t.Errorf("new version: %d %+v, want 202", code, rep)
	}
	// Source in a header, no id: keyed on content; the source's charset
	// overrides the request's.
	code, rep, _ = doPush(t, url, pushReq{source: "wire-b", token: pushTokenB, ct: "text/plain; charset=iso-8859-1", body: "Title : B\nArticle :\nText.\n"})
	if code != http.StatusAccepted || !strings.HasPrefix(rep.Key, "wire-b:sha256:") {
		t.Errorf("push to wire-b: %d %+v, want 202 with a content-hash key", code, rep)
	}
	items = rawItems(t, &r.kc, r.raw)
	if b := items[rep.Key]; len(b) != 1 || b[0].Charset != "windows-1252" || b[0].Format != "" {
		t.Errorf("wire-b item: %+v, want charset windows-1252 (the override) and no format", b)
	}
	if n := countMessages(t, &r.kc, r.raw); n != 3 {
		t.Errorf("raw topic: %d messages, want 3", n)
	}
	checks := map[string]float64{"202": 3, "200": 1}
	for code, want := range checks {
		if n := testutil.ToFloat64(x.svc.m.push.WithLabelValues(code)); n != want {
			t.Errorf("push requests answered %s: %g, want %g", code, n, want)
		}
	}
	if n := x.items("wire-a", "published"); n != 2 {
		t.Errorf("wire-a items published: %d, want 2", n)
	}

	// A restarted replica on the same seen topic knows the item.
	if err := x.stop(); err != nil {
		t.Fatal(err)
	}
	_, url = startPush(t, r, nil)
	code, rep, _ = doPush(t, url, pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json", body: strings.Replace(item, "One", "One (corrected)", 1), itemID: "urn:item:1"})
	if code != http.StatusOK || rep.Status != "duplicate" {
		t.Errorf("after a restart, the last version again: %d %+v, want 200 duplicate", code, rep)
	}
}

// TestPushBrokerDown: when the broker does not acknowledge, the answer is
// 503 with Retry-After, and the item is not recorded as published.
func TestPushBrokerDown(t *testing.T) {
	t.Parallel()
	if kafkatest.Real() {
		t.Skip("stops its own embedded broker")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, 1)
	r.kc.Brokers = flagenv.Strings(c.ListenAddrs())
	x, url := startPush(t, r, func(cfg *Config) { cfg.Kafka.WriteTimeout = time.Second })
	c.Close()
	code, rep, h := doPush(t, url, pushReq{query: "?source=wire-a", token: pushTokenA, ct: "application/json", body: "{}", itemID: "x"})
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(rep.Error, "send it again later") {
		t.Errorf("push with the broker down: %d %+v (Retry-After %q), want 503 with Retry-After", code, rep, h.Get("Retry-After"))
	}
	if n := x.items("wire-a", "published"); n != 0 {
		t.Errorf("an unacknowledged item was counted as published (%d)", n)
	}
}
