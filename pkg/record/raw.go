package record

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// RawVersion is the version of the Raw envelope this package writes.
const RawVersion = 1

// Raw is the envelope the ingest stage publishes for one fetched item. On the
// raw topic the message key is Key, the message value is Body, untouched, and
// every other field travels as a message header (see Headers), so that a raw
// item is stored exactly as it was received.
type Raw struct {
	// Key identifies the item across fetches: the same item fetched twice has
	// the same key (see ItemKey).
	Key string
	// Source is the configured source the item came from (e.g. "xinhua").
	Source string
	// Format is the wire format hint: "textdump", "rss", "newsml-g2",
	// "ninjs", "iptc7901", or "" when unknown (normalize then sniffs it).
	Format string
	// Origin says where the bytes came from: a URL or a spool file name.
	Origin string
	// FetchedAt is when ingest received the bytes.
	FetchedAt time.Time
	// ContentType and Charset are what the origin declared, if anything.
	ContentType string
	Charset     string
	// Timezone is the source's configured IANA time zone, for times the
	// item writes without an offset ("" when not configured).
	Timezone string
	// Body is the item's bytes, exactly as received.
	Body []byte
}

// Header names of the raw envelope.
const (
	HeaderVersion     = "wirefeed-raw-version"
	HeaderSource      = "wirefeed-source"
	HeaderFormat      = "wirefeed-format"
	HeaderOrigin      = "wirefeed-origin"
	HeaderFetchedAt   = "wirefeed-fetched-at"
	HeaderContentType = "wirefeed-content-type"
	HeaderCharset     = "wirefeed-charset"
	HeaderTimezone    = "wirefeed-timezone"
)

// Header names a dead letter carries on top of the original message's headers.
const (
	HeaderDLQReason    = "wirefeed-dlq-reason"
	HeaderDLQError     = "wirefeed-dlq-error"
	HeaderDLQStage     = "wirefeed-dlq-stage"
	HeaderDLQTopic     = "wirefeed-dlq-topic"
	HeaderDLQPartition = "wirefeed-dlq-partition"
	HeaderDLQOffset    = "wirefeed-dlq-offset"
	HeaderDLQAt        = "wirefeed-dlq-at"
)

// Header is one message header.
type Header struct {
	Key   string
	Value string
}

// ItemKey returns a stable key for an item of a source: its own identifier
// when it has one, else the content hash of its bytes.
func ItemKey(source, itemID string, body []byte) string {
	if itemID != "" {
		return source + ":" + itemID
	}
	sum := sha256.Sum256(body)
	return source + ":sha256:" + hex.EncodeToString(sum[:16])
}

// Headers returns the envelope fields as message headers, empty ones left out.
func (r *Raw) Headers() []Header {
	hs := []Header{{HeaderVersion, fmt.Sprint(RawVersion)}, {HeaderSource, r.Source}}
	add := func(k, v string) {
		if v != "" {
			hs = append(hs, Header{k, v})
		}
	}
	add(HeaderFormat, r.Format)
	add(HeaderOrigin, r.Origin)
	if !r.FetchedAt.IsZero() {
		add(HeaderFetchedAt, r.FetchedAt.UTC().Format(time.RFC3339Nano))
	}
	add(HeaderContentType, r.ContentType)
	add(HeaderCharset, r.Charset)
	add(HeaderTimezone, r.Timezone)
	return hs
}

// RawFromMessage rebuilds the envelope from a raw topic message.
func RawFromMessage(key string, headers []Header, body []byte) (*Raw, error) {
	r := &Raw{Key: key, Body: body}
	version := ""
	for _, h := range headers {
		switch h.Key {
		case HeaderVersion:
			version = h.Value
		case HeaderSource:
			r.Source = h.Value
		case HeaderFormat:
			r.Format = h.Value
		case HeaderOrigin:
			r.Origin = h.Value
		case HeaderFetchedAt:
			t, err := time.Parse(time.RFC3339Nano, h.Value)
			if err != nil {
				return nil, fmt.Errorf("raw envelope: header %s: %w", HeaderFetchedAt, err)
			}
			r.FetchedAt = t
		case HeaderContentType:
			r.ContentType = h.Value
		case HeaderCharset:
			r.Charset = h.Value
		case HeaderTimezone:
			r.Timezone = h.Value
		}
	}
	if version != fmt.Sprint(RawVersion) {
		return nil, fmt.Errorf("raw envelope: version %q, want %d", version, RawVersion)
	}
	if r.Source == "" {
		return nil, fmt.Errorf("raw envelope: no %s header", HeaderSource)
	}
	return r, nil
}
