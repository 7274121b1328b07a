package main

import (
	"bytes"
	"strings"
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
	const items = 3000
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
