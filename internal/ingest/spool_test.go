package ingest

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// base is the fixed "now" the scanner tests start from; file times are set
// relative to it, so no test waits on the clock.
var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// spoolEntry is a file put in the spool folder before a scan.
type spoolEntry struct {
	name    string
	content string
	age     time.Duration // modification time is base minus age
}

func writeEntry(t testing.TB, dir string, e spoolEntry) {
	t.Helper()
	p := filepath.Join(dir, e.name)
	if err := os.WriteFile(p, []byte(e.content), 0o644); err != nil {
		t.Fatal(err)
	}
	mt := base.Add(-e.age)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func names(fs []spoolFile) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.name)
	}
	return out
}

// listDir returns the names of the regular files in dir, sorted.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestSpoolScanner(t *testing.T) {
	t.Parallel()
	type step struct {
		at      time.Duration // scan at base plus at
		change  *spoolEntry   // written just before this scan
		ready   []string
		pending int
	}
	tests := []struct {
		name   string
		settle time.Duration
		files  []spoolEntry
		steps  []step
	}{
		{
			name:   "in-progress names are ignored",
			settle: time.Second,
			files: []spoolEntry{
				{name: ".hidden", content: "x", age: time.Hour},
				{name: "item.tmp", content: "x", age: time.Hour},
				{name: "item.part", content: "x", age: time.Hour},
				{name: ".item.txt.tmp", content: "x", age: time.Hour},
				{name: "item.txt", content: "x", age: time.Hour},
			},
			steps: []step{{at: 0, ready: []string{"item.txt"}}},
		},
		{
			name:   "old files are taken at once, oldest first, then by name",
			settle: 2 * time.Second,
			files: []spoolEntry{
				{name: "c", content: "x", age: time.Minute},
				{name: "b", content: "x", age: time.Hour},
				{name: "a", content: "x", age: time.Minute},
			},
			steps: []step{{at: 0, ready: []string{"b", "a", "c"}}},
		},
		{
			name:   "a file written in place waits for the settle time",
			settle: 2 * time.Second,
			files:  []spoolEntry{{name: "new.txt", content: "first part", age: 0}},
			steps: []step{
				{at: 0, pending: 1},
				{at: 1999 * time.Millisecond, pending: 1},
				{at: 2 * time.Second, ready: []string{"new.txt"}},
			},
		},
		{
			name:   "a file still growing waits again",
			settle: 2 * time.Second,
			files:  []spoolEntry{{name: "grow.txt", content: "a", age: 0}},
			steps: []step{
				{at: 0, pending: 1},
				{at: 1500 * time.Millisecond, change: &spoolEntry{name: "grow.txt", content: "ab", age: -1500 * time.Millisecond}, pending: 1},
				{at: 3 * time.Second, pending: 1},
				{at: 3500 * time.Millisecond, ready: []string{"grow.txt"}},
			},
		},
		{
			name:   "a rewrite with the same size but a new time waits again",
			settle: time.Second,
			files:  []spoolEntry{{name: "same.txt", content: "aa", age: 0}},
			steps: []step{
				{at: 0, pending: 1},
				{at: 900 * time.Millisecond, change: &spoolEntry{name: "same.txt", content: "bb", age: -900 * time.Millisecond}, pending: 1},
				{at: 1800 * time.Millisecond, pending: 1},
				{at: 1900 * time.Millisecond, ready: []string{"same.txt"}},
			},
		},
		{
			name:   "a file first seen late is taken by its own age",
			settle: 2 * time.Second,
			files:  []spoolEntry{{name: "late.txt", content: "x", age: 0}},
			steps:  []step{{at: 5 * time.Second, ready: []string{"late.txt"}}},
		},
		{
			name:   "zero settle takes new files at once",
			settle: 0,
			files:  []spoolEntry{{name: "now.txt", content: "x", age: 0}},
			steps:  []step{{at: 0, ready: []string{"now.txt"}}},
		},
		{
			name:   "ready and pending together",
			settle: time.Second,
			files: []spoolEntry{
				{name: "old.txt", content: "x", age: time.Hour},
				{name: "new.txt", content: "x", age: 0},
				{name: "wip.part", content: "x", age: 0},
			},
			steps: []step{{at: 0, ready: []string{"old.txt"}, pending: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := newSpoolScanner(dir, tt.settle)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.files {
				writeEntry(t, dir, f)
			}
			for i, st := range tt.steps {
				if st.change != nil {
					writeEntry(t, dir, *st.change)
				}
				ready, pending, err := s.scan(base.Add(st.at))
				if err != nil {
					t.Fatalf("step %d: scan: %v", i, err)
				}
				want := st.ready
				if want == nil {
					want = []string{}
				}
				if got := names(ready); !slices.Equal(got, want) || pending != st.pending {
					t.Errorf("step %d (files %v, settle %s, scan at +%s): got ready %v pending %d, want ready %v pending %d",
						i, tt.files, tt.settle, st.at, got, pending, want, st.pending)
				}
			}
		})
	}
}

func TestSpoolScannerIgnoresFoldersAndLinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := newSpoolScanner(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{spoolDone, spoolFailed, spoolState} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			t.Errorf("spool folder %s/: %v, want created", sub, err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	writeEntry(t, other, spoolEntry{name: "target", content: "x", age: time.Hour})
	if err := os.Symlink(filepath.Join(other, "target"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	writeEntry(t, dir, spoolEntry{name: "real.txt", content: "x", age: time.Hour})
	ready, pending, err := s.scan(base)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ready); !slices.Equal(got, []string{"real.txt"}) || pending != 0 {
		t.Errorf("scan with folders done/ failed/ .wirefeed/ sub/ and a symlink: got %v pending %d, want [real.txt] pending 0", got, pending)
	}
}

func TestSpoolDoneNameClash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		existing []string // already in done/
		want     string   // where the new file lands
	}{
		{existing: nil, want: "a.txt"},
		{existing: []string{"a.txt"}, want: "a.txt.1"},
		{existing: []string{"a.txt", "a.txt.1"}, want: "a.txt.2"},
		{existing: []string{"a.txt", "a.txt.2"}, want: "a.txt.1"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.existing, ","), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := newSpoolScanner(dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			doneDir := filepath.Join(dir, spoolDone)
			for _, name := range tt.existing {
				writeEntry(t, doneDir, spoolEntry{name: name, content: "old " + name})
			}
			writeEntry(t, dir, spoolEntry{name: "a.txt", content: "new", age: time.Hour})
			ready, _, err := s.scan(base)
			if err != nil || len(ready) != 1 {
				t.Fatalf("scan: %v, %v; want one file", names(ready), err)
			}
			if err := s.done(ready[0]); err != nil {
				t.Fatal(err)
			}
			if got := listDir(t, dir); len(got) != 0 {
				t.Errorf("spool after done: %v, want empty", got)
			}
			b, err := os.ReadFile(filepath.Join(doneDir, tt.want))
			if err != nil || string(b) != "new" {
				t.Errorf("done/ with %v before: %s holds %q (%v), want the new file; done/ is %v", tt.existing, tt.want, b, err, listDir(t, doneDir))
			}
			for _, name := range tt.existing {
				if b, _ := os.ReadFile(filepath.Join(doneDir, name)); string(b) != "old "+name {
					t.Errorf("existing done/%s now holds %q, want it untouched", name, b)
				}
			}
		})
	}
}

func TestSpoolFail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := newSpoolScanner(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeEntry(t, dir, spoolEntry{name: "bad.txt", content: "", age: time.Hour})
	ready, _, err := s.scan(base)
	if err != nil || len(ready) != 1 {
		t.Fatalf("scan: %v, %v", names(ready), err)
	}
	if err := s.fail(ready[0], "empty", errors.New("file is empty")); err != nil {
		t.Fatal(err)
	}
	failedDir := filepath.Join(dir, spoolFailed)
	if got, want := listDir(t, failedDir), []string{"bad.txt", "bad.txt.reason"}; !slices.Equal(got, want) {
		t.Errorf("failed/: got %v, want %v", got, want)
	}
	reason, _ := os.ReadFile(filepath.Join(failedDir, "bad.txt.reason"))
	for _, want := range []string{"reason: empty\n", "error: file is empty\n", "time: "} {
		if !strings.Contains(string(reason), want) {
			t.Errorf("bad.txt.reason:\n%s\nwant it to contain %q", reason, want)
		}
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("spool after fail: %v, want empty", got)
	}
}

// TestSpoolFailNameClashKeepsEachReason refuses two files of the same name
// one after the other. The second lands in failed/ under a numbered name;
// its reason must sit beside it, and the first file's reason must survive.
func TestSpoolFailNameClashKeepsEachReason(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := newSpoolScanner(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	failedDir := filepath.Join(dir, spoolFailed)
	for i, reason := range []string{"empty", "too_large"} {
		writeEntry(t, dir, spoolEntry{name: "dup.txt", content: reason, age: time.Hour})
		ready, _, err := s.scan(base.Add(time.Duration(i) * time.Minute))
		if err != nil || len(ready) != 1 {
			t.Fatalf("scan %d: %v, %v", i, names(ready), err)
		}
		if err := s.fail(ready[0], reason, errors.New(reason)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"dup.txt": "empty", "dup.txt.1": "too_large"}
	for file, reason := range want {
		b, err := os.ReadFile(filepath.Join(failedDir, file+".reason"))
		if err != nil || !strings.Contains(string(b), "reason: "+reason+"\n") {
			t.Errorf("failed/%s.reason: got %q (%v), want it to say %q; failed/ holds %v", file, b, err, reason, listDir(t, failedDir))
		}
	}
}

func TestReadItem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name       string
		content    *string // nil: the file does not exist
		limit      int64
		wantReason string
		wantNotExt bool
	}{
		{name: "ok", content: ptr("hello"), limit: 10},
		{name: "exactly the limit", content: ptr("12345"), limit: 5},
		{name: "one byte over", content: ptr("123456"), limit: 5, wantReason: "too_large"},
		{name: "far over", content: ptr(strings.Repeat("x", 10000)), limit: 100, wantReason: "too_large"},
		{name: "empty", content: ptr(""), limit: 5, wantReason: "empty"},
		{name: "missing", limit: 5, wantReason: "unreadable", wantNotExt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if tt.content != nil {
				if err := os.WriteFile(p, []byte(*tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			body, reason, err := readItem(p, tt.limit)
			if reason != tt.wantReason || (err != nil) != (tt.wantReason != "") {
				t.Fatalf("readItem(%q, limit %d): got reason %q err %v, want reason %q", tt.name, tt.limit, reason, err, tt.wantReason)
			}
			if tt.wantNotExt && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("readItem of a missing file: got %v, want os.ErrNotExist", err)
			}
			if tt.wantReason == "" && string(body) != *tt.content {
				t.Errorf("readItem body: got %q, want %q", body, *tt.content)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestLedgerSurvivesReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ledgerName)
	l, err := openLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.has("a") {
		t.Error("new ledger has key a")
	}
	if err := l.add("a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := l.add("c"); err != nil {
		t.Fatal(err)
	}
	if !l.has("a") || !l.has("c") {
		t.Error("ledger lost keys it just added")
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		l, err = openLedger(path)
		if err != nil {
			t.Fatalf("reopen %d: %v", round, err)
		}
		for _, k := range []string{"a", "b", "c"} {
			if !l.has(k) {
				t.Errorf("reopen %d: key %q lost", round, k)
			}
		}
		if l.has("d") || l.has("") {
			t.Errorf("reopen %d: has a key never added", round)
		}
		if round == 1 {
			if err := l.add("e"); err != nil {
				t.Fatal(err)
			}
		} else if !l.has("e") {
			t.Error("key added after a reopen lost on the next reopen")
		}
		l.close()
	}
	b, _ := os.ReadFile(path)
	if got, want := string(b), "a\nb\nc\ne\n"; got != want {
		t.Errorf("ledger file: got %q, want %q", got, want)
	}
}

func TestLedgerReadsBlankLinesAndSpaces(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ledgerName)
	if err := os.WriteFile(path, []byte("\nk1\n  k2  \n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := openLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if !l.has("k1") || !l.has("k2") || l.has("") {
		t.Errorf("ledger from %q: has k1 %v, k2 %v, empty %v; want true, true, false", "\\nk1\\n  k2  \\n\\n", l.has("k1"), l.has("k2"), l.has(""))
	}
}

// TestLedgerTornLastLine opens a ledger whose last line was cut short by a
// crash in the middle of an append. Keys appended afterwards must survive
// the next reopen; they must not be glued onto the torn line.
func TestLedgerTornLastLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ledgerName)
	if err := os.WriteFile(path, []byte("k1\nk2-cut-sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := openLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.add("k3"); err != nil {
		t.Fatal(err)
	}
	l.close()
	l, err = openLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if !l.has("k1") || !l.has("k3") {
		b, _ := os.ReadFile(path)
		t.Errorf("ledger file %q after a torn line and add(k3): has k1 %v, k3 %v; want both", b, l.has("k1"), l.has("k3"))
	}
}

// validConfig returns an ingest configuration built from the flags'
// defaults, as a main builds it.
func validConfig(t testing.TB) Config {
	t.Helper()
	var c Config
	c.RegisterFlags(flag.NewFlagSet("ingest", flag.ContinueOnError))
	c.SpoolDir = t.TempDir()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults with --spool: %v", err)
	}
	return c
}

// checkValidate applies change to a valid configuration and checks what
// Validate says: nil when wantErr is "", else an error containing wantErr.
func checkValidate(t testing.TB, change func(*Config), wantErr string) {
	t.Helper()
	c := validConfig(t)
	change(&c)
	err := c.Validate()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("Validate: got %v, want nil", err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Errorf("Validate: got %v, want an error containing %s", err, wantErr)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string // "" for valid
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "no spool", change: func(c *Config) { c.SpoolDir = "" }, wantErr: "--spool is required"},
		{name: "bad source", change: func(c *Config) { c.SpoolSource = "Wire Service" }, wantErr: "--spool.source"},
		{name: "zero poll", change: func(c *Config) { c.SpoolPoll = 0 }, wantErr: "--spool.poll"},
		{name: "negative settle", change: func(c *Config) { c.SpoolSettle = -time.Second }, wantErr: "--spool.settle"},
		{name: "zero settle", change: func(c *Config) { c.SpoolSettle = 0 }},
		{name: "zero batch", change: func(c *Config) { c.SpoolBatch = 0 }, wantErr: "--spool.batch"},
		{name: "item larger than a message", change: func(c *Config) { c.MaxItemBytes = int64(c.Kafka.MaxMessageBytes) + 1 }, wantErr: "--max-item-bytes"},
		{name: "no raw topic", change: func(c *Config) { c.RawTopic = "" }, wantErr: "--topic.raw"},
		{name: "bad kafka", change: func(c *Config) { c.Kafka.Brokers = nil }, wantErr: "--kafka.brokers"},
		{name: "bad log level", change: func(c *Config) { c.Telemetry.LogLevel = "loud" }, wantErr: "--log.level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkValidate(t, tt.change, tt.wantErr) })
	}
}
