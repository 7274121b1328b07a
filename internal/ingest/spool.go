package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// Spool folder layout: items are dropped in the folder itself; published
// ones are moved to done/, refused ones to failed/ with a NAME.reason file
// beside them. Hidden files (".name") and files ending in .tmp or .part are
// being written and are left alone, so writers should write under such a
// name and rename when done; a file written in place is taken once its size
// and modification time have not changed for the settle time.
const (
	spoolDone   = "done"
	spoolFailed = "failed"
	spoolState  = ".wirefeed"
	ledgerName  = "published.log"
)

// spoolFile is a complete file ready to be published.
type spoolFile struct {
	name string
	path string
	size int64
}

type fileState struct {
	size  int64
	mtime time.Time
	since time.Time // when this size and mtime were first seen
}

// spoolScanner finds complete files in a spool folder.
type spoolScanner struct {
	dir    string
	settle time.Duration
	seen   map[string]fileState
}

func newSpoolScanner(dir string, settle time.Duration) (*spoolScanner, error) {
	for _, sub := range []string{spoolDone, spoolFailed, spoolState} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("spool %s: %w", dir, err)
		}
	}
	return &spoolScanner{dir: dir, settle: settle, seen: map[string]fileState{}}, nil
}

func inProgress(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".part")
}

// scan returns the complete files, oldest first, and the number of files
// still being written.
func (s *spoolScanner) scan(now time.Time) (ready []spoolFile, pending int, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, 0, fmt.Errorf("read spool %s: %w", s.dir, err)
	}
	present := map[string]bool{}
	type candidate struct {
		f     spoolFile
		mtime time.Time
	}
	var cands []candidate
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || inProgress(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		present[name] = true
		st, ok := s.seen[name]
		if !ok || st.size != info.Size() || !st.mtime.Equal(info.ModTime()) {
			st = fileState{size: info.Size(), mtime: info.ModTime(), since: now}
			s.seen[name] = st
		}
		// Complete when unchanged for the settle time, measured from the
		// file's own modification time or from when we first saw it.
		stable := now.Sub(st.since) >= s.settle || now.Sub(info.ModTime()) >= s.settle
		if !stable {
			pending++
			continue
		}
		cands = append(cands, candidate{spoolFile{name: name, path: filepath.Join(s.dir, name), size: info.Size()}, info.ModTime()})
	}
	for name := range s.seen {
		if !present[name] {
			delete(s.seen, name)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].mtime.Equal(cands[j].mtime) {
			return cands[i].mtime.Before(cands[j].mtime)
		}
		return cands[i].f.name < cands[j].f.name
	})
	for _, c := range cands {
		ready = append(ready, c.f)
	}
	return ready, pending, nil
}

// done moves a published file to done/.
func (s *spoolScanner) done(f spoolFile) error {
	delete(s.seen, f.name)
	return moveInto(f.path, filepath.Join(s.dir, spoolDone))
}

// fail moves a refused file to failed/ and writes the reason beside it,
// under the name the file gets there.
func (s *spoolScanner) fail(f spoolFile, reason string, cause error) error {
	delete(s.seen, f.name)
	dir := filepath.Join(s.dir, spoolFailed)
	dst := freeName(dir, f.name)
	msg := fmt.Sprintf("reason: %s\nerror: %v\ntime: %s\n", reason, cause, time.Now().UTC().Format(time.RFC3339))
	if err := writeFileAtomic(dst+".reason", []byte(msg)); err != nil {
		return err
	}
	if err := os.Rename(f.path, dst); err != nil {
		return fmt.Errorf("move %s to %s: %w", f.path, dir, err)
	}
	return nil
}

// moveInto renames path into dir, keeping its name; an existing file of the
// same name there gets a numbered suffix rather than being overwritten.
func moveInto(path, dir string) error {
	if err := os.Rename(path, freeName(dir, filepath.Base(path))); err != nil {
		return fmt.Errorf("move %s to %s: %w", path, dir, err)
	}
	return nil
}

// freeName returns dir/base, or dir/base.N with the smallest N free, so
// that nothing already in dir (a file or its .reason) is overwritten.
func freeName(dir, base string) string {
	dst := filepath.Join(dir, base)
	for i := 1; ; i++ {
		_, err1 := os.Lstat(dst)
		_, err2 := os.Lstat(dst + ".reason")
		if errors.Is(err1, os.ErrNotExist) && errors.Is(err2, os.ErrNotExist) {
			return dst
		}
		dst = filepath.Join(dir, fmt.Sprintf("%s.%d", base, i))
	}
}

func writeFileAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ledger is the durable set of item keys this spool has published. A key is
// appended, and synced, right after the broker acknowledged the item and
// before the file is moved to done/, so that a crash between publishing and
// moving does not publish the file again on restart.
type ledger struct {
	mu   sync.Mutex
	f    *os.File
	keys map[string]bool
}

func openLedger(path string) (*ledger, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	l := &ledger{f: f, keys: map[string]bool{}}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read ledger %s: %w", path, err)
	}
	// A last line without its line break was torn by a crash in the middle
	// of an append: that key was not recorded. Cut it off, so that the next
	// append starts on a line of its own.
	if end := bytes.LastIndexByte(data, '\n') + 1; end < len(data) {
		if err := f.Truncate(int64(end)); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut torn line of ledger %s: %w", path, err)
		}
		data = data[:end]
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k := strings.TrimSpace(line); k != "" {
			l.keys[k] = true
		}
	}
	return l, nil
}

func (l *ledger) has(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys[key]
}

func (l *ledger) add(keys ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('\n')
	}
	if _, err := l.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("append to ledger: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync ledger: %w", err)
	}
	for _, k := range keys {
		l.keys[k] = true
	}
	return nil
}

func (l *ledger) close() error { return l.f.Close() }

// spool publishes the files of one spool folder.
type spool struct {
	src     Source
	settle  time.Duration
	batch   int
	maxItem int64
	scanner *spoolScanner
	ledger  *ledger
	w       *kafka.Writer
	m       *metrics
	log     *zap.Logger
}

func newSpool(src Source, cfg *Config, w *kafka.Writer, m *metrics, log *zap.Logger) (*spool, error) {
	sc, err := newSpoolScanner(src.Path, cfg.SpoolSettle)
	if err != nil {
		return nil, err
	}
	l, err := openLedger(filepath.Join(src.Path, spoolState, ledgerName))
	if err != nil {
		return nil, err
	}
	return &spool{src: src, settle: cfg.SpoolSettle, batch: cfg.SpoolBatch, maxItem: cfg.MaxItemBytes, scanner: sc, ledger: l, w: w, m: m, log: log}, nil
}

func (s *spool) close() error { return s.ledger.close() }

// run scans the spool folder until ctx is done. A batch being published when
// ctx ends is finished (acknowledged, recorded and moved) before returning.
func (s *spool) run(ctx context.Context) error {
	s.log.Info("watching spool folder", zap.String("path", s.src.Path))
	t := time.NewTicker(s.src.Interval)
	defer t.Stop()
	work := context.WithoutCancel(ctx)
	for {
		ready, pending, err := s.scanner.scan(time.Now())
		if err != nil {
			return err
		}
		s.m.pending.WithLabelValues(s.src.ID).Set(float64(pending))
		for len(ready) > 0 && ctx.Err() == nil {
			n := min(len(ready), s.batch)
			if err := s.publish(work, ready[:n]); err != nil {
				return err
			}
			ready = ready[n:]
		}
		select {
		case <-ctx.Done():
			s.log.Info("spool stopped")
			return nil
		case <-t.C:
		}
	}
}

// item is a spool file read and wrapped, ready to produce.
type item struct {
	file spoolFile
	raw  *record.Raw
}

// publish reads files, publishes the new ones in one produce request, then
// records their keys in the ledger and moves them to done/.
func (s *spool) publish(ctx context.Context, files []spoolFile) error {
	id := s.src.ID
	var items []item
	var dups []spoolFile
	for _, f := range files {
		body, reason, err := readItem(f.path, s.maxItem)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // taken away meanwhile
			}
			s.log.Warn("spool file refused", zap.String("file", f.name), zap.String("reason", reason), zap.Error(err))
			s.m.items.WithLabelValues(id, "failed").Inc()
			s.m.refused.WithLabelValues(id, reason).Inc()
			if err := s.scanner.fail(f, reason, err); err != nil {
				return err
			}
			continue
		}
		key := record.ItemKey(id, "", body)
		if s.ledger.has(key) {
			dups = append(dups, f)
			continue
		}
		items = append(items, item{file: f, raw: &record.Raw{
			Key: key, Source: id, Format: s.src.Format, Charset: s.src.Charset,
			Origin: "spool:" + f.name, FetchedAt: time.Now().UTC(), Body: body,
		}})
	}
	for _, f := range dups {
		s.log.Info("spool file already published; moving to done", zap.String("file", f.name))
		s.m.items.WithLabelValues(id, "duplicate").Inc()
		if err := s.scanner.done(f); err != nil {
			return err
		}
	}
	if len(items) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(items))
	keys := make([]string, len(items))
	var total int
	for i, it := range items {
		msgs[i] = message(it.raw, s.src.Timezone)
		keys[i] = it.raw.Key
		total += len(it.raw.Body)
	}
	start := time.Now()
	if err := s.w.Write(ctx, func(error) { s.m.retries.Inc() }, msgs...); err != nil {
		return err
	}
	s.m.publish.Observe(time.Since(start).Seconds())
	// Acknowledged: record, then move. A crash before the ledger write
	// publishes these again on restart (at-least-once); after it, never.
	if err := s.ledger.add(keys...); err != nil {
		return err
	}
	for _, it := range items {
		if err := s.scanner.done(it.file); err != nil {
			return err
		}
	}
	s.m.items.WithLabelValues(id, "published").Add(float64(len(items)))
	s.m.bytes.WithLabelValues(id).Add(float64(total))
	s.m.lastItem.WithLabelValues(id).SetToCurrentTime()
	s.log.Info("published spool items", zap.Int("items", len(items)), zap.Int("bytes", total), zap.Duration("took", time.Since(start)))
	return nil
}

// readItem reads a spool file, refusing empty and oversized ones with a
// reason code.
func readItem(path string, limit int64) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "unreadable", err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, limit+1))
	switch {
	case err != nil:
		return nil, "unreadable", err
	case int64(len(body)) > limit:
		return nil, "too_large", fmt.Errorf("file is larger than %d bytes", limit)
	case len(body) == 0:
		return nil, "empty", errors.New("file is empty")
	}
	return body, "", nil
}
