package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/seen"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// The push endpoint: POST /v1/items on --push.addr.
//
// A client posts one item per request, with the bearer token of a push
// source of the sources file. The source is named by the "source" query
// parameter or the X-Wirefeed-Source header (either may be left out when
// one push source is configured). The body is the item's bytes, published
// untouched; its key is the X-Wirefeed-Item-Id header (or "id" query
// parameter) when given, else its content hash. The answer is 202 once the
// broker acknowledged the item and its seen marker, 200 when the same item
// (key and content) was published before; a 4xx names what is wrong:
// 401 no or bad token, 404 unknown source, 413 too large, 415 bad content
// type, 400 empty body or bad parameters; 503 when the broker does not
// acknowledge in time (retry later: the item is not lost if it is sent
// again, and not duplicated).

// Header names of the push endpoint.
const (
	PushHeaderSource = "X-Wirefeed-Source"
	PushHeaderItemID = "X-Wirefeed-Item-Id"
)

// pushTypes are the media types the push endpoint takes.
var pushTypes = []string{
	"application/xml", "text/xml", "application/rss+xml", "application/atom+xml",
	"application/json", "application/ninjs+json", "application/vnd.iptc.g2.newsitem+xml", "application/vnd.iptc.g2.newsmessage+xml",
	"text/plain", "application/octet-stream",
}

// pushHandler serves POST /v1/items.
type pushHandler struct {
	st *state
}

// pushReply is the JSON body of every answer.
type pushReply struct {
	Status string `json:"status,omitempty"` // accepted, duplicate
	Key    string `json:"key,omitempty"`
	Error  string `json:"error,omitempty"`
}

func (h *pushHandler) reply(w http.ResponseWriter, code int, r pushReply) {
	h.st.s.m.push.WithLabelValues(strconv.Itoa(code)).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(r) //nolint:errcheck // the client may be gone
}

func (h *pushHandler) fail(w http.ResponseWriter, code int, format string, args ...any) {
	h.reply(w, code, pushReply{Error: fmt.Sprintf(format, args...)})
}

func (h *pushHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	src, code, msg := h.source(r)
	if src == nil {
		h.fail(w, code, "%s", msg)
		return
	}
	log := h.st.s.log.With(zap.String("component", "push"), zap.String("source", src.ID))
	if !authorized(r, src.Token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wirefeed-push"`)
		if r.Header.Get("Authorization") == "" {
			h.fail(w, http.StatusUnauthorized, "no bearer token: send Authorization: Bearer <token of source %s>", src.ID)
		} else {
			h.fail(w, http.StatusUnauthorized, "bad token for source %s", src.ID)
		}
		return
	}
	ct := r.Header.Get("Content-Type")
	media, params, err := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		h.fail(w, http.StatusUnsupportedMediaType, "no Content-Type: send one of %s", strings.Join(pushTypes, ", "))
		return
	case err != nil || !containsFold(pushTypes, media):
		h.fail(w, http.StatusUnsupportedMediaType, "Content-Type %q is not one of %s", ct, strings.Join(pushTypes, ", "))
		return
	}
	itemID := r.URL.Query().Get("id")
	if v := r.Header.Get(PushHeaderItemID); v != "" {
		itemID = v
	}
	if len(itemID) > 512 || !utf8.ValidString(itemID) || strings.IndexFunc(itemID, unicode.IsControl) >= 0 {
		h.fail(w, http.StatusBadRequest, "item id: at most 512 printable characters")
		return
	}
	limit := h.st.s.cfg.MaxItemBytes
	if r.ContentLength > limit {
		h.fail(w, http.StatusRequestEntityTooLarge, "item of %d bytes is larger than %d bytes", r.ContentLength, limit)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.fail(w, http.StatusRequestEntityTooLarge, "item is larger than %d bytes", limit)
		return
	case err != nil:
		h.fail(w, http.StatusBadRequest, "read body: %v", err)
		return
	case len(body) == 0:
		h.fail(w, http.StatusBadRequest, "empty body: post the item's bytes")
		return
	}
	charset := src.Charset
	if charset == "" {
		charset = strings.ToLower(params["charset"])
	}
	origin := "push"
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		origin = "push:" + host
	}
	key := record.ItemKey(src.ID, itemID, body)
	c := candidate{
		raw: record.Raw{Key: key, Source: src.ID, Format: src.Format, Origin: origin, FetchedAt: h.st.s.now().UTC(),
			ContentType: ct, Charset: charset, Body: body},
		fp: seen.FingerprintOf(body),
	}
	pub := h.st.pub.Load()
	if pub == nil {
		h.fail(w, http.StatusServiceUnavailable, "not ready")
		return
	}
	// A client that hangs up does not stop a publication under way.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.st.s.cfg.Kafka.WriteTimeout)
	defer cancel()
	out, err := pub.publish(ctx, src, []candidate{c})
	switch {
	case err != nil:
		log.Warn("pushed item not published", zap.String("key", key), zap.Error(err))
		w.Header().Set("Retry-After", "5")
		h.fail(w, http.StatusServiceUnavailable, "the broker did not acknowledge the item in time; send it again later")
	case out.published == 0:
		h.reply(w, http.StatusOK, pushReply{Status: "duplicate", Key: key})
	default:
		h.reply(w, http.StatusAccepted, pushReply{Status: "accepted", Key: key})
	}
}

// source finds the push source a request is for; when there is none, it
// returns the status and message to answer.
func (h *pushHandler) source(r *http.Request) (*Source, int, string) {
	srcs := h.st.pushSources.Load()
	q, hd := r.URL.Query().Get("source"), r.Header.Get(PushHeaderSource)
	id := q
	switch {
	case q != "" && hd != "" && q != hd:
		return nil, http.StatusBadRequest, fmt.Sprintf("source %q in the query and %q in %s differ", q, hd, PushHeaderSource)
	case id == "":
		id = hd
	}
	if id == "" {
		if srcs != nil && len(*srcs) == 1 {
			for _, s := range *srcs {
				return s, 0, ""
			}
		}
		return nil, http.StatusBadRequest, fmt.Sprintf("name the push source with ?source=ID or the %s header", PushHeaderSource)
	}
	if srcs != nil {
		if s, ok := (*srcs)[id]; ok {
			return s, 0, ""
		}
	}
	return nil, http.StatusNotFound, fmt.Sprintf("no push source %q is configured", id)
}

// authorized compares the bearer token in constant time (of the token
// hashes, so the length does not leak either).
func authorized(r *http.Request, token Secret) bool {
	auth := r.Header.Get("Authorization")
	got, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		got, ok = strings.CutPrefix(auth, "bearer ")
	}
	if !ok || token.IsZero() {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(token.Reveal()))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// servePush serves the push endpoint on ln until ctx is done, then stops
// taking requests and lets those in hand finish (within 30 seconds).
func servePush(ctx context.Context, ln net.Listener, h http.Handler, log *zap.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("/v1/items", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("push endpoint listening", zap.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return fmt.Errorf("push server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("push server shutdown: %w", err)
	}
	return nil
}
