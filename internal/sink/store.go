package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// store is the sink's access to object storage: every operation is retried
// with backoff until it succeeds or its context ends, so that a store that
// is down holds the sink (nothing is committed meanwhile) and a store that
// comes back lets it catch up.
type store struct {
	bucket      *blob.Bucket
	states      stateStore
	janitor     *janitor
	m           *metrics
	log         *zap.Logger
	partSize    int
	concurrency int
	hook        func(point, key string) error
}

const maxBackoff = 30 * time.Second

// retry runs op until it succeeds, fails for good (errFenced), or ctx ends.
func (s *store) retry(ctx context.Context, what, key string, op func(context.Context) error) error {
	backoff := 200 * time.Millisecond
	for {
		err := op(ctx)
		if err == nil || errors.Is(err, errFenced) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", what, key, err)
		}
		s.m.retries.Inc()
		s.log.Warn("store operation failed; retrying", zap.String("op", what), zap.String("key", key), zap.Duration("backoff", backoff), zap.Error(err))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %s: %w", what, key, err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (s *store) loadState(ctx context.Context, key string) (st *State, version string, err error) {
	// A state write killed half-way leaves a temporary file on file://.
	if err := s.cleanOrphans(ctx, key); err != nil {
		return nil, "", err
	}
	err = s.retry(ctx, "read state", key, func(ctx context.Context) error {
		var err error
		st, version, err = s.states.load(ctx, key)
		return err
	})
	return st, version, err
}

func (s *store) saveState(ctx context.Context, key string, st *State, version string) (string, error) {
	var out string
	err := s.retry(ctx, "write state", key, func(ctx context.Context) error {
		var err error
		out, err = s.states.save(ctx, key, st, version)
		if errors.Is(err, errFenced) {
			// A retry after a write that succeeded but whose answer was
			// lost finds our own write: not another writer.
			if cur, cv, lerr := s.states.load(ctx, key); lerr == nil && cur != nil && sameState(cur, st) {
				out, err = cv, nil
			}
		}
		return err
	})
	return out, err
}

// sameState reports whether two states are the same, write time included
// (so that another writer's identical progress is not taken for ours).
func sameState(a, b *State) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeObject writes key, only if absent, streaming what encode writes: on
// S3, an object of 16 MiB or more goes up as a multipart upload of
// partSize parts, concurrency at a time, never whole in memory. It returns
// the object's size and whether it existed already. check asks to look for
// the object first (when writing a pending batch again, most exist).
func (s *store) writeObject(ctx context.Context, key, contentType string, check bool, md map[string]string, encode func(io.Writer) error) (size int64, existed bool, err error) {
	if check {
		var attrs *blob.Attributes
		err := s.retry(ctx, "look up", key, func(ctx context.Context) error {
			var err error
			attrs, err = s.bucket.Attributes(ctx, key)
			if gcerrors.Code(err) == gcerrors.NotFound {
				attrs, err = nil, nil
			}
			return err
		})
		if err != nil {
			return 0, false, err
		}
		if attrs != nil {
			return attrs.Size, true, nil
		}
	}
	err = s.retry(ctx, "write", key, func(ctx context.Context) error {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{
			ContentType: contentType, IfNotExist: true, Metadata: md,
			BufferSize: s.partSize, MaxConcurrency: s.concurrency,
		})
		if err != nil {
			return err
		}
		cw := &countWriter{w: w}
		if err := encode(cw); err != nil {
			cancel() // abort: a cancelled write leaves no object
			w.Close()
			return err
		}
		err = w.Close()
		switch {
		case gcerrors.Code(err) == gcerrors.FailedPrecondition:
			existed = true
			return nil
		case err != nil:
			return err
		}
		size = cw.n
		return nil
	})
	if err != nil || !existed {
		return size, existed, err
	}
	// Written before a crash (or by another sink): its size, as stored.
	err = s.retry(ctx, "look up", key, func(ctx context.Context) error {
		attrs, err := s.bucket.Attributes(ctx, key)
		if err == nil {
			size = attrs.Size
		}
		return err
	})
	return size, true, err
}

// writeJSON writes v as JSON at key, only if absent.
func (s *store) writeJSON(ctx context.Context, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return s.retry(ctx, "write", key, func(ctx context.Context) error {
		err := s.bucket.WriteAll(ctx, key, b, &blob.WriterOptions{ContentType: "application/json", IfNotExist: true})
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return nil
		}
		return err
	})
}

// remove deletes key; a missing key is fine.
func (s *store) remove(ctx context.Context, key string) error {
	return s.retry(ctx, "delete", key, func(ctx context.Context) error {
		err := s.bucket.Delete(ctx, key)
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil
		}
		return err
	})
}

// cleanOrphans removes the leftovers of killed writes of key.
func (s *store) cleanOrphans(ctx context.Context, key string) error {
	return s.retry(ctx, "clean up", key, func(ctx context.Context) error {
		files, uploads, err := s.janitor.clean(ctx, key)
		if files > 0 {
			s.m.orphans.WithLabelValues("temp_file").Add(float64(files))
			s.log.Info("removed temporary files of a killed write", zap.String("key", key), zap.Int("files", files))
		}
		if uploads > 0 {
			s.m.orphans.WithLabelValues("multipart_upload").Add(float64(uploads))
			s.log.Info("aborted multipart uploads of a killed write", zap.String("key", key), zap.Int("uploads", uploads))
		}
		return err
	})
}
