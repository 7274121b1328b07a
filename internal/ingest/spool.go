package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
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

// fail moves a refused file to failed/ and writes the reason beside it.
func (s *spoolScanner) fail(f spoolFile, reason string, cause error) error {
	delete(s.seen, f.name)
	dir := filepath.Join(s.dir, spoolFailed)
	msg := fmt.Sprintf("reason: %s\nerror: %v\ntime: %s\n", reason, cause, time.Now().UTC().Format(time.RFC3339))
	if err := writeFileAtomic(filepath.Join(dir, f.name+".reason"), []byte(msg)); err != nil {
		return err
	}
	return moveInto(f.path, dir)
}

// moveInto renames path into dir, keeping its name; an existing file of the
// same name there gets a numbered suffix rather than being overwritten.
func moveInto(path, dir string) error {
	base := filepath.Base(path)
	dst := filepath.Join(dir, base)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = filepath.Join(dir, fmt.Sprintf("%s.%d", base, i))
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("move %s to %s: %w", path, dir, err)
	}
	return nil
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
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" {
			l.keys[k] = true
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("read ledger %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, err
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
