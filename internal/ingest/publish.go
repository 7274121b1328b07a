package ingest

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/seen"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// HeaderTimezone carries a source's configured time zone (IANA name) next
// to the envelope of pkg/record, for normalize to read times written
// without an offset in that zone.
const HeaderTimezone = record.HeaderTimezone

// message is the raw topic message of an item: key, body untouched,
// envelope in headers.
func message(raw *record.Raw, timezone string) kafka.Message {
	hs := raw.Headers()
	if timezone != "" {
		hs = append(hs, record.Header{Key: HeaderTimezone, Value: timezone})
	}
	return kafka.Message{Key: []byte(raw.Key), Value: raw.Body, Headers: kafka.Headers(hs)}
}

// candidate is an item taken from an http or push source, to be published
// unless the seen-set holds its key with the same fingerprint.
type candidate struct {
	raw record.Raw
	fp  seen.Fingerprint
}

// outcome counts what publish did with a set of candidates.
type outcome struct {
	published int // new keys, and new versions of known keys
	updated   int // of published, the new versions
	duplicate int
	bytes     int
}

// publisher publishes items of http and push sources: the raw items, then,
// once the broker acknowledged them, their seen markers.
type publisher struct {
	w    *kafka.Writer
	seen *seen.Set
	m    *metrics
	log  *zap.Logger
}

// publish publishes the candidates the seen-set does not hold in this
// version. A candidate whose key comes twice is taken once.
func (p *publisher) publish(ctx context.Context, src *Source, cands []candidate) (outcome, error) {
	var out outcome
	var msgs []kafka.Message
	var markers []seen.Marker
	taken := map[string]bool{}
	for i := range cands {
		c := &cands[i]
		if taken[c.raw.Key] {
			out.duplicate++
			continue
		}
		taken[c.raw.Key] = true
		switch p.seen.Lookup(c.raw.Key, c.fp) {
		case seen.Same:
			out.duplicate++
			continue
		case seen.Changed:
			out.updated++
		}
		out.published++
		out.bytes += len(c.raw.Body)
		msgs = append(msgs, message(&c.raw, src.Timezone))
		markers = append(markers, seen.Marker{Key: c.raw.Key, Fingerprint: c.fp})
	}
	if out.duplicate > 0 {
		p.m.items.WithLabelValues(src.ID, "duplicate").Add(float64(out.duplicate))
	}
	if len(msgs) == 0 {
		return out, nil
	}
	retry := func(error) { p.m.retries.Inc() }
	start := time.Now()
	if err := p.w.Write(ctx, retry, msgs...); err != nil {
		return outcome{duplicate: out.duplicate}, fmt.Errorf("publish %d items of %s: %w", len(msgs), src.ID, err)
	}
	p.m.publish.Observe(time.Since(start).Seconds())
	// Acknowledged. A crash before the markers are acknowledged publishes
	// these items again after the restart, under the same keys.
	if err := p.seen.Mark(ctx, retry, markers...); err != nil {
		return outcome{duplicate: out.duplicate}, fmt.Errorf("record %d items of %s as published: %w", len(markers), src.ID, err)
	}
	p.m.items.WithLabelValues(src.ID, "published").Add(float64(out.published))
	if out.updated > 0 {
		p.m.updated.WithLabelValues(src.ID).Add(float64(out.updated))
	}
	p.m.bytes.WithLabelValues(src.ID).Add(float64(out.bytes))
	p.m.lastItem.WithLabelValues(src.ID).SetToCurrentTime()
	p.log.Info("published items", zap.String("source", src.ID), zap.Int("items", out.published), zap.Int("new_versions", out.updated),
		zap.Int("duplicates", out.duplicate), zap.Int("bytes", out.bytes), zap.Duration("took", time.Since(start)))
	return out, nil
}
