package iptc7901

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/golden"
	"github.com/wirefeed/wirefeed/internal/story"
)

// TestCorpusGolden parses every sample of the corpus's anpa folder and
// compares the facts of each story (or the rejection reason), with the
// text fingerprinted, with testdata/golden/<path in the corpus>.golden.
// The .iptc transmissions must parse; the other samples (dpa's JSON
// inputs) must be rejected as unframed.
func TestCorpusGolden(t *testing.T) {
	iptc := 0
	var tally golden.Tally
	golden.EachSample(t, "anpa", func(t *testing.T, rel string, b []byte) {
		isIPTC := strings.HasSuffix(rel, ".iptc")
		if isIPTC {
			iptc++
		}
		if Sniff(string(b)) != isIPTC {
			t.Errorf("Sniff = %v, want %v", !isIPTC, isIPTC)
		}
		stories, err := Parse(b)
		var pe *story.ParseError
		switch {
		case isIPTC && (err != nil || len(stories) == 0):
			t.Errorf("Parse: %d stories, %v; want the transmission read", len(stories), err)
		case !isIPTC && (!errors.As(err, &pe) || pe.Reason != ReasonNoFraming):
			t.Errorf("Parse of a file that is not a transmission: %v, want %s", err, ReasonNoFraming)
		}
		tally.Add(rel, stories, err)
		golden.CompareSample(t, rel, "", stories, err)
	})
	tally.Log(t)
	if iptc != 6 {
		t.Errorf("found %d .iptc files, want the 6 the corpus describes", iptc)
	}
}

// TestFixtureGolden parses the edge-case fixtures in testdata and compares
// them with testdata/golden/fixtures/<name>.golden.
func TestFixtureGolden(t *testing.T) {
	golden.Fixtures(t, filepath.Join("testdata", "*.iptc"), Parse)
}
