package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/seen"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// Polling http sources.
//
// Each http source has its own goroutine (poller.run), so a slow or failing
// source delays no other. A fetch is a conditional GET (If-None-Match with
// the last ETag, If-Modified-Since with the last Last-Modified), so an
// unchanged feed costs a 304 and no body. Responses may come gzip-encoded:
// Go's transport asks for gzip and decompresses transparently as long as
// the request does not set Accept-Encoding itself, which the sources file
// may therefore not set. The body is read up to --poll.max-body-bytes
// (after decompression); a larger one is refused.

// newHTTPClient returns the client every poller shares: a transport with
// a connect timeout, and a redirect policy that follows at most
// maxRedirects redirects, to http and https URLs only.
func newHTTPClient(pc PollConfig) *http.Client {
	dialer := &net.Dialer{Timeout: pc.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   pc.ConnectTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > pc.MaxRedirects {
				return &redirectError{reason: "redirects", msg: fmt.Sprintf("more than %d redirects", pc.MaxRedirects)}
			}
			if s := req.URL.Scheme; s != "http" && s != "https" {
				return &redirectError{reason: "redirect_scheme", msg: fmt.Sprintf("redirect to a %q URL; only http and https are followed", s)}
			}
			return nil
		},
	}
}

// redirectError is a redirect the policy refused.
type redirectError struct{ reason, msg string }

func (e *redirectError) Error() string { return e.msg }

// pollState is what a source's poller remembers between fetches, and
// across restarts of the poller (a reload that leaves the source
// unchanged, a change of ownership).
type pollState struct {
	etag, lastModified string
	failures           int       // consecutive failures that back off
	next               time.Time // when the next fetch is due
	newest             time.Time // publication time of the newest entry seen
}

// fetchResult is the outcome of one fetch.
type fetchResult struct {
	at           time.Time
	status       int
	notModified  bool
	body         []byte
	url          string // after redirects
	contentType  string
	charset      string
	etag         string
	lastModified string

	err        error
	reason     string // metric label of a failed fetch
	backoff    bool   // the failure backs off (5xx, 429, timeouts, network)
	retryAfter time.Duration
	hasRetry   bool
	stopped    bool // the poller was stopped during the fetch
}

// poller fetches one http source on its schedule and publishes its items.
type poller struct {
	src  Source
	st   *pollState
	svc  *Service
	pub  *publisher
	seen *seen.Set
	log  *zap.Logger
}

// run fetches until ctx is done. A fetch in hand when ctx ends is dropped
// (it is fetched again by whoever polls the source next); a publication in
// hand is finished.
func (p *poller) run(ctx context.Context) error {
	s := p.svc
	if p.st.next.IsZero() {
		// Spread the first fetches of many sources and replicas.
		p.st.next = s.now().Add(time.Duration(s.random() * s.cfg.Poll.Jitter * float64(p.src.Interval)))
	}
	for {
		if !s.wait(ctx, p.src.ID, p.st.next.Sub(s.now())) {
			return nil
		}
		// Markers written by another replica (a previous owner of this
		// source) before now are in the set before the fetch.
		cctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
		err := p.seen.CatchUp(cctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.log.Warn("seen topic not caught up; fetching anyway", zap.Error(err))
		}
		res := p.poll(ctx)
		if res.stopped {
			return nil
		}
		p.st.next = s.now().Add(p.delay(res))
	}
}

// catchUpTimeout bounds the wait for the seen topic before a fetch; past
// it the fetch goes ahead (an item may then be published twice, under the
// same key).
const catchUpTimeout = 30 * time.Second

// poll fetches the source once, publishes what is new, and accounts for it.
func (p *poller) poll(ctx context.Context) fetchResult {
	m, id := p.svc.m, p.src.ID
	start := time.Now()
	res := p.fetch(ctx)
	if res.stopped {
		return res
	}
	m.fetchTime.WithLabelValues(id).Observe(time.Since(start).Seconds())
	if res.err == nil && !res.notModified {
		m.fetchBytes.WithLabelValues(id).Add(float64(len(res.body)))
		if err := p.publish(ctx, &res); err != nil {
			res.err, res.reason, res.backoff = err, "publish", true
		}
	}
	switch {
	case res.err != nil:
		m.fetches.WithLabelValues(id, "error").Inc()
		m.fetchErrors.WithLabelValues(id, res.reason).Inc()
		p.log.Warn("fetch failed", zap.String("reason", res.reason), zap.Int("status", res.status), zap.Error(res.err))
		return res
	case res.notModified:
		m.fetches.WithLabelValues(id, "not_modified").Inc()
	default:
		m.fetches.WithLabelValues(id, "ok").Inc()
	}
	m.lastSuccess.WithLabelValues(id).Set(float64(res.at.UnixNano()) / 1e9)
	if !p.st.newest.IsZero() {
		m.newestAge.WithLabelValues(id).Set(res.at.Sub(p.st.newest).Seconds())
	}
	return res
}

// publish splits the fetched document into items and publishes the new
// ones; only then does the source's conditional GET state move on, so
// that a 304 never hides items not yet published.
func (p *poller) publish(ctx context.Context, res *fetchResult) error {
	cands, newest, failed := p.items(res)
	if failed > 0 {
		p.svc.m.items.WithLabelValues(p.src.ID, "failed").Add(float64(failed))
		p.svc.m.refused.WithLabelValues(p.src.ID, "too_large").Add(float64(failed))
	}
	// The publication is finished even if the poller is stopped meanwhile.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout(&p.svc.cfg))
	defer cancel()
	if _, err := p.pub.publish(pctx, &p.src, cands); err != nil {
		return err
	}
	p.st.etag, p.st.lastModified = res.etag, res.lastModified
	if newest.After(p.st.newest) {
		p.st.newest = newest
	}
	return nil
}

// publishTimeout bounds a publication that retries through a broker
// outage: the items not published are fetched and published again later.
func publishTimeout(c *Config) time.Duration { return 2*c.Kafka.WriteTimeout + 30*time.Second }

// items turns a fetched document into candidates: one per entry of an RSS
// or Atom feed, else the document whole. It returns the publication time
// of the newest entry and the number of entries refused (too large).
func (p *poller) items(res *fetchResult) (cands []candidate, newest time.Time, failed int) {
	src, max := &p.src, p.svc.cfg.MaxItemBytes
	raw := func(key, format string, body []byte) record.Raw {
		return record.Raw{Key: key, Source: src.ID, Format: format, Origin: res.url, FetchedAt: res.at.UTC(),
			ContentType: res.contentType, Charset: res.charset, Body: body}
	}
	if len(res.body) == 0 {
		return nil, newest, 0
	}
	if src.Format == "" || src.Format == "rss" || src.Format == "atom" {
		sd, err := splitFeed(res.body)
		if err == nil {
			format := src.Format
			if format == "" {
				format = sd.kind
			}
			for i, it := range sd.items {
				entry := sd.item(i)
				id := it.id
				if id == "" {
					id = it.link
				}
				key := record.ItemKey(src.ID, id, entry)
				if t, ok := parseFeedDate(it.date, src.Location()); ok && t.Before(res.at.Add(24*time.Hour)) && t.After(newest) {
					newest = t
				}
				body := sd.itemDoc(i)
				if int64(len(body)) > max {
					failed++
					p.log.Warn("feed entry refused: larger than --max-item-bytes", zap.String("key", key), zap.Int("bytes", len(body)), zap.Int64("max", max))
					continue
				}
				cands = append(cands, candidate{raw: raw(key, format, body), fp: seen.FingerprintOf(entry)})
			}
			return cands, newest, failed
		}
		if src.Format != "" {
			p.log.Warn("feed not split into entries; publishing the document whole", zap.Error(err))
		}
	}
	if int64(len(res.body)) > max {
		p.log.Warn("document refused: larger than --max-item-bytes", zap.Int("bytes", len(res.body)), zap.Int64("max", max))
		return nil, newest, 1
	}
	key := record.ItemKey(src.ID, "", res.body)
	return []candidate{{raw: raw(key, src.Format, res.body), fp: seen.FingerprintOf(res.body)}}, newest, 0
}

// fetch GETs the source once.
func (p *poller) fetch(ctx context.Context) fetchResult {
	s := p.svc
	timeout := p.src.Timeout
	if timeout == 0 {
		timeout = s.cfg.Poll.Timeout
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := fetchResult{url: p.src.URL}
	fail := func(err error) fetchResult {
		res.err = err
		switch {
		case ctx.Err() != nil:
			res.stopped = true
		case errors.As(err, new(*redirectError)):
			var re *redirectError
			errors.As(err, &re)
			res.reason = re.reason
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			res.reason, res.backoff = "timeout", true
			res.err = fmt.Errorf("no complete answer within %s: %w", timeout, err)
		case isDial(err):
			res.reason, res.backoff = "connect", true
		default:
			res.reason, res.backoff = "network", true
		}
		return res
	}
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, p.src.URL, nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("User-Agent", s.cfg.Poll.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
	for k, v := range p.src.Headers {
		req.Header.Set(k, v.Reveal())
	}
	if p.st.etag != "" {
		req.Header.Set("If-None-Match", p.st.etag)
	}
	if p.st.lastModified != "" {
		req.Header.Set("If-Modified-Since", p.st.lastModified)
	}
	resp, err := s.client.Do(req)
	res.at = s.now()
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.url = resp.Request.URL.String()
	res.contentType = resp.Header.Get("Content-Type")
	res.charset = p.src.Charset
	if res.charset == "" {
		res.charset = charsetOf(res.contentType)
	}
	res.retryAfter, res.hasRetry = retryAfter(resp.Header.Get("Retry-After"), res.at)
	max := s.cfg.Poll.MaxBodyBytes
	switch code := resp.StatusCode; {
	case code == http.StatusNotModified:
		res.notModified = true
		// A 304 may carry a newer validator.
		if v := resp.Header.Get("ETag"); v != "" {
			p.st.etag = v
		}
		return res
	case code >= 200 && code < 300:
		if resp.ContentLength > max {
			res.err, res.reason = fmt.Errorf("response body of %d bytes is larger than --poll.max-body-bytes (%d)", resp.ContentLength, max), "too_large"
			return res
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
		if err != nil {
			r := fail(fmt.Errorf("read body: %w", err))
			if r.reason == "network" {
				r.reason = "read"
			}
			return r
		}
		if int64(len(b)) > max {
			res.err, res.reason = fmt.Errorf("response body is larger than --poll.max-body-bytes (%d)", max), "too_large"
			return res
		}
		res.body = b
		res.etag, res.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		return res
	case code == http.StatusTooManyRequests:
		res.reason, res.backoff = "status_429", true
	case code >= 500:
		res.reason, res.backoff = "status_5xx", true
	default:
		res.reason = "status_4xx"
		if code < 400 {
			res.reason = "status_other"
		}
	}
	res.err = fmt.Errorf("HTTP status %s", resp.Status)
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // drained for connection reuse only
	return res
}

var charsetRe = regexp.MustCompile(`(?i);\s*charset\s*=\s*"?([^";\s]+)`)

// charsetOf returns the charset parameter of a Content-Type value,
// lower-cased, also when the value is not quite well-formed
// ("text/xml;charset = us-ascii").
func charsetOf(ct string) string {
	if _, params, err := mime.ParseMediaType(ct); err == nil {
		return strings.ToLower(params["charset"])
	}
	if m := charsetRe.FindStringSubmatch(ct); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isDial(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(1<<31))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// delay is the wait before the next fetch: the source's interval after a
// success or a failure that does not back off (a 404 is fetched again on
// schedule); after failures that back off, the interval doubled per
// consecutive failure up to --poll.backoff-max. Either is spread by
// --poll.jitter. A Retry-After header makes the wait at least that long
// (up to --poll.retry-after-max).
func (p *poller) delay(res fetchResult) time.Duration {
	pc := &p.svc.cfg.Poll
	d := p.src.Interval
	if res.err == nil || !res.backoff {
		p.st.failures = 0
	} else {
		p.st.failures++
		ceiling := max(pc.BackoffMax, d)
		for i := 1; i < p.st.failures && d < ceiling; i++ {
			d *= 2
		}
		d = min(d, ceiling)
	}
	d += time.Duration(float64(d) * pc.Jitter * (2*p.svc.random() - 1))
	if res.err != nil && res.hasRetry {
		d = max(d, min(res.retryAfter, pc.RetryAfterMax))
	}
	return d
}
