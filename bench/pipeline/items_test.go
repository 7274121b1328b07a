package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/internal/normalize"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// TestItemsNormalize generates items and runs each through normalize
// offline: clean and damaged ones must become records with repaired text,
// broken ones must be refused; sizes and the kcat delimiter are checked.
func TestItemsNormalize(t *testing.T) {
	c, err := loadCorpus()
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(c, 1)
	n := &normalize.Normalizer{DefaultZone: time.UTC, Now: time.Now}
	count := map[kind]int{}
	reasons := map[string]int{}
	const items = 2000
	for seq := 0; seq < items; seq++ {
		it, err := g.item(seq)
		if err != nil {
			t.Fatal(err)
		}
		count[it.kind]++
		if len(it.body) < minItemBytes || len(it.body) > maxItemBytes {
			t.Errorf("%s: %d bytes, want %d to %d", it.name, len(it.body), minItemBytes, maxItemBytes)
		}
		if bytes.IndexByte(it.body, sep) >= 0 {
			t.Errorf("%s holds the delimiter byte", it.name)
		}
		arts, err := n.Normalize(&record.Raw{Key: it.name, Source: "spool", Format: "textdump", Body: it.body}, nil)
		if it.kind == broken {
			if err == nil {
				t.Errorf("%s: broken item normalized:\n%s", it.name, it.body)
			}
			reasons[normalize.Reason(err)]++
			continue
		}
		if err != nil {
			t.Errorf("%s: %v\n%s", it.name, err, it.body)
			continue
		}
		a := arts[0]
		if a.SourceID != it.id || a.Source == "spool" {
			t.Errorf("%s: source %q, source_id %q; want a known agency and %q", it.name, a.Source, a.SourceID, it.id)
		}
		text := a.Title + "\n" + strings.Join(a.Body, "\n") + strings.Join(a.Captions, "\n")
		for _, bad := range []string{"â€", "Ã", "Р°", "Рё", "\u009d"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s: record text still holds %q:\n%s", it.name, bad, text)
				break
			}
		}
		damagedFix := false
		for _, f := range a.Fixes {
			damagedFix = damagedFix || strings.HasPrefix(f, "mojibake:")
		}
		if damagedFix != (it.kind == damaged) {
			t.Errorf("%s: fixes %v, damaged %v", it.name, a.Fixes, it.kind == damaged)
		}
	}
	t.Logf("%d clean, %d damaged, %d broken (reasons %v)", count[clean], count[damaged], count[broken], reasons)
	if count[damaged] < items/10 || count[broken] == 0 || count[broken] > items/20 {
		t.Errorf("mix %v: want at least 10%% damaged and a few broken", count)
	}
}

// benchItems returns generated items that normalize turns into records.
func benchItems(b *testing.B, n int) []item {
	c, err := loadCorpus()
	if err != nil {
		b.Fatal(err)
	}
	g := newGenerator(c, 1)
	var out []item
	for seq := 0; len(out) < n; seq++ {
		it, err := g.item(seq)
		if err != nil {
			b.Fatal(err)
		}
		if it.kind != broken {
			out = append(out, it)
		}
	}
	return out
}

// BenchmarkNormalize is normalize's work on one item, as its batch handler
// does it: rebuild the envelope from the message, normalize, encode the
// record; for the generated mix, and for its clean and damaged items
// apart. The bytes are the raw item's.
func BenchmarkNormalize(b *testing.B) {
	all := benchItems(b, 3000)
	for _, sub := range []struct {
		name string
		keep func(item) bool
	}{
		{"mix", func(item) bool { return true }},
		{"clean", func(it item) bool { return it.kind == clean }},
		{"damaged", func(it item) bool { return it.kind == damaged }},
	} {
		var items []item
		for _, it := range all {
			if sub.keep(it) {
				items = append(items, it)
			}
		}
		b.Run(sub.name, func(b *testing.B) { benchNormalize(b, items) })
	}
}

func benchNormalize(b *testing.B, items []item) {
	n := &normalize.Normalizer{DefaultZone: time.UTC, Now: time.Now}
	raw := &record.Raw{Source: "spool", Format: "textdump", Origin: "spool:x", FetchedAt: time.Now()}
	headers := raw.Headers()
	var total int64
	for _, it := range items {
		total += int64(len(it.body))
	}
	b.SetBytes(total / int64(len(items)))
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		it := items[i%len(items)]
		r, err := record.RawFromMessage(it.name, headers, it.body)
		if err != nil {
			b.Fatal(err)
		}
		arts, err := n.Normalize(r, &record.RawRef{Topic: "raw", Partition: 0, Offset: int64(i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := arts[0].Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSinkRecord is the sink's work on one record: decode and
// validate it (to route it by date and source), then gzip its line into
// the batch's object. The bytes are the record's JSON.
func BenchmarkSinkRecord(b *testing.B) {
	items := benchItems(b, 2000)
	n := &normalize.Normalizer{DefaultZone: time.UTC, Now: time.Now}
	var lines [][]byte
	var total int64
	for _, it := range items {
		arts, err := n.Normalize(&record.Raw{Key: it.name, Source: "spool", Format: "textdump", FetchedAt: time.Now(), Body: it.body}, nil)
		if err != nil {
			b.Fatal(err)
		}
		j, err := arts[0].Marshal()
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, j)
		total += int64(len(j))
	}
	b.SetBytes(total / int64(len(lines)))
	zw := gzip.NewWriter(io.Discard)
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		l := lines[i%len(lines)]
		a, err := record.Unmarshal(l)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Validate(); err != nil {
			b.Fatal(err)
		}
		zw.Write(l)
		zw.Write([]byte{'\n'})
		if i%5000 == 4999 {
			zw.Close()
			zw.Reset(io.Discard)
		}
	}
}

// reportCPU resets the timer and returns a function that reports the
// process's CPU time per operation (user and system, GC included) as
// cpu-ns/op: unlike ns/op, it does not grow when other processes take the
// CPU away.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
	}
}
