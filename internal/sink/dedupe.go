package sink

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/kafka"
)

// identity is what makes two records the same to the dedupe window: a
// 128-bit hash of the record's JSON with its provenance members cut out,
// the members that tell when and from which raw message it was made. It
// is keyed afresh in each process (hash/maphash, two random seeds): it is
// never stored, a rebuilt batch takes its decisions from the state, and no
// one can make two records collide without knowing the seeds.
type identity [16]byte

var identitySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// provenance are the members a record published again carries anew: a
// normalize killed between its produce and its commit normalizes the same
// raw message again (a new normalized_at); an ingest killed between its
// publish and remembering the item publishes it again (a new raw offset,
// and ingested_at).
func provenance(key []byte) bool {
	switch string(key) {
	case "normalized_at", "ingested_at", "raw":
		return true
	}
	return false
}

// recordIdentity returns the identity of a record's JSON: its bytes with
// its top-level provenance members cut out. Two records with the same
// identity are the same bytes but for those members, so every decoder
// reads the same record from both; a record published again by normalize
// is such a copy. (Spaces and the order of members count: another
// producer's copy in another layout is archived again, never lost.)
func recordIdentity(b []byte) (identity, error) {
	var stack [4]span
	cuts, err := provenanceSpans(stack[:0], b)
	if err != nil {
		return identity{}, fmt.Errorf("decode article: %w", err)
	}
	var h [2]maphash.Hash
	h[0].SetSeed(identitySeeds[0])
	h[1].SetSeed(identitySeeds[1])
	// The bytes between the cuts, each run after its length: the runs
	// say where the cuts were.
	from := 0
	run := func(r []byte) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(r)))
		for k := range h {
			h[k].Write(n[:])
			h[k].Write(r)
		}
	}
	for _, c := range cuts {
		run(b[from:c.start])
		from = c.end
	}
	run(b[from:])
	var id identity
	binary.LittleEndian.PutUint64(id[:8], h[0].Sum64())
	binary.LittleEndian.PutUint64(id[8:], h[1].Sum64())
	return id, nil
}

// span is where a member of a JSON object is in its bytes: from its key's
// opening quote to the end of its value.
type span struct{ start, end int }

var errNotObject = errors.New("not a JSON object")

// errNoIdentity is a valid JSON object nested too deep to be read here.
var errNoIdentity = errors.New("no identity")

// provenanceSpans appends to dst where the provenance members of the JSON
// object b are, in order; it reads every member, so that b must be one
// object.
func provenanceSpans(dst []span, b []byte) ([]span, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return dst, trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, errNotObject
		}
		ke, err := skipString(b, i)
		if err != nil {
			return nil, err
		}
		key, start := b[i+1:ke-1], i
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return nil, errNotObject
		}
		vs := skipSpace(b, i+1)
		ve, err := skipValue(b, vs, 0)
		if err != nil {
			return nil, err
		}
		if provenance(key) {
			dst = append(dst, span{start, ve})
		}
		i = skipSpace(b, ve)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return dst, trailing(b, i+1)
		default:
			return nil, errNotObject
		}
	}
}

func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errNotObject
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset after the string that begins at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errors.New("unterminated string")
		}
		j += k
		escapes := 0
		for escapes < j-i-1 && b[j-1-escapes] == '\\' {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// skipValue returns the offset after the JSON value that begins at b[i].
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("unexpected end of JSON")
	}
	if depth > 64 {
		return 0, fmt.Errorf("%w: JSON nested too deep", errNoIdentity)
	}
	switch c := b[i]; c {
	case '"':
		return skipString(b, i)
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == end {
			return i + 1, nil
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, errNotObject
				}
				ke, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				if i = skipSpace(b, ke); i >= len(b) || b[i] != ':' {
					return 0, errNotObject
				}
				i = skipSpace(b, i+1)
			}
			ve, err := skipValue(b, i, depth+1)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, ve)
			switch {
			case i < len(b) && b[i] == ',':
				i = skipSpace(b, i+1)
			case i < len(b) && b[i] == end:
				return i + 1, nil
			default:
				return 0, errors.New("malformed JSON")
			}
		}
	default:
		j := i
		for j < len(b) && !strings.ContainsRune(",}] \n\t\r", rune(b[j])) {
			j++
		}
		if j == i {
			return 0, errors.New("malformed JSON")
		}
		return j, nil
	}
}

// window remembers the identities of a partition's last records, by
// offset: a record whose identity one of the size messages before it had
// is a duplicate. The decision depends only on the partition's log, so a
// pending batch rebuilt after a crash drops exactly what the first attempt
// dropped, and every record dropped has an identical one archived before
// it (by induction on offsets: the earlier one was archived, or dropped
// for an identical one before it).
type window struct {
	size  int64
	last  map[identity]int64 // latest offset of each identity in the window
	order []seenAt           // in offset order, from head
	head  int
}

type seenAt struct {
	offset int64
	id     identity
}

func newWindow(size int64) *window {
	return &window{size: size, last: map[identity]int64{}}
}

// seen records that the record at offset has identity id, and reports
// whether a record in the size messages before it had the same identity.
// Offsets are fed in increasing order; one fed again changes nothing.
func (w *window) seen(id identity, offset int64) bool {
	w.evict(offset)
	prev, ok := w.last[id]
	if ok && prev >= offset {
		return false // fed again: the first time decided
	}
	w.last[id] = offset
	w.order = append(w.order, seenAt{offset, id})
	return ok && prev >= offset-w.size
}

// evict forgets the records that are out of the window of the record at
// offset.
func (w *window) evict(offset int64) {
	for w.head < len(w.order) && w.order[w.head].offset < offset-w.size {
		e := w.order[w.head]
		if w.last[e.id] == e.offset {
			delete(w.last, e.id)
		}
		w.head++
	}
	if w.head >= 1024 && w.head >= len(w.order)/2 {
		w.order = w.order[:copy(w.order, w.order[w.head:])]
		w.head = 0
	}
}

// len is the number of identities remembered.
func (w *window) len() int { return len(w.last) }

// fill returns partition id's dedupe window filled with the valid records
// of offsets [from, to), read from the topic: those of the size messages
// before the first one fetched that the archive holds. A failed read (a
// broker restarting) is retried with backoff until ctx ends.
func (s *sinker) fill(ctx context.Context, id int, size, from, to int64) (*window, error) {
	began := time.Now()
	backoff := 200 * time.Millisecond
	for {
		w := newWindow(size)
		read := 0
		start, err := kafka.ReadRange(ctx, s.client, s.topic, id, from, to, func(offset int64, v []byte) error {
			read++
			if _, rid, ok, err := decodeRecord(v, true); err == nil && ok {
				w.seen(rid, offset)
			}
			return nil
		})
		if err == nil {
			s.log.Info("dedupe window filled", zap.Int("partition", id), zap.Int64("from", start), zap.Int64("to", to),
				zap.Int("messages", read), zap.Int("records", w.len()), zap.Duration("took", time.Since(began)))
			return w, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fill the dedupe window of partition %d: %w", id, err)
		}
		s.log.Warn("reading the messages before a partition's first failed; retrying", zap.Int("partition", id),
			zap.Duration("backoff", backoff), zap.Error(err))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, fmt.Errorf("fill the dedupe window of partition %d: %w", id, err)
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
