package newsmlg2

import (
	"path/filepath"
	"testing"

	"github.com/wirefeed/wirefeed/internal/golden"
)

// TestCorpusGolden parses every sample of the NewsML-G2 corpus and
// compares the facts of each story (or the skip or rejection reason), with
// the text fingerprinted, with testdata/golden/<path in the corpus>.golden.
func TestCorpusGolden(t *testing.T) {
	files := 0
	var tally golden.Tally
	golden.EachSample(t, "newsml-g2", func(t *testing.T, rel string, b []byte) {
		files++
		if !Sniff(string(b)) {
			t.Errorf("Sniff is false for a NewsML-G2 sample")
		}
		stories, err := Parse(b)
		tally.Add(rel, stories, err)
		golden.CompareSample(t, rel, "", stories, err)
	})
	if files != 38 {
		t.Errorf("found %d samples, want the 38 XML files the corpus describes", files)
	}
	tally.Log(t)
}

// TestFixtureGolden parses the edge-case fixtures in testdata and compares
// them with testdata/golden/fixtures/<name>.golden.
func TestFixtureGolden(t *testing.T) {
	golden.Fixtures(t, filepath.Join("testdata", "*.xml"), Parse)
}
