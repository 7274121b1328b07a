package newstext

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/internal/textdump"
)

// TestSeed runs the helpers over the body of the original example item, kept
// in the shared/seeds folder beside the repository.
func TestSeed(t *testing.T) {
	dir := recordtest.SharedDir(t, "seeds")
	b, err := os.ReadFile(filepath.Join(dir, "xinhua-peru-2020-05-01.txt"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := textdump.Parse(string(b))
	if err != nil {
		t.Fatalf("textdump.Parse(seed): %v", err)
	}
	if len(doc.Body) != 15 || doc.Body[14] != "\u00e2\u2013" {
		t.Fatalf("seed body: %d lines, last %q; want 15, the last the damaged end mark", len(doc.Body), doc.Body[len(doc.Body)-1])
	}

	// The damaged mark is not an end mark until the text is repaired.
	if _, removed := StripEndMark(doc.Body); removed {
		t.Errorf("StripEndMark removed the unrepaired mark %q", doc.Body[14])
	}
	body := slices.Clone(doc.Body)
	body[14] = "■" // as the text repair leaves it
	body, removed := StripEndMark(body)
	if !removed || len(body) != 14 {
		t.Fatalf("StripEndMark(repaired seed) = %d lines, %v; want 14, true", len(body), removed)
	}

	var captions, datelines []int
	for i, p := range body {
		if IsCaption(p) {
			captions = append(captions, i)
		}
		if d, rest, ok := SplitDateline(p); ok {
			datelines = append(datelines, i)
			if want := (Dateline{"BEIJING", "May 1", "Xinhua"}); d != want || !strings.HasPrefix(rest, "China firmly") {
				t.Errorf("SplitDateline(seed line %d) = %+v, %q; want %+v, \"China firmly...\"", i, d, rest, want)
			}
		}
	}
	if want := []int{0, 4, 9}; !slices.Equal(captions, want) {
		t.Errorf("seed captions at lines %v, want %v", captions, want)
	}
	if want := []int{1}; !slices.Equal(datelines, want) {
		t.Errorf("seed datelines at lines %v, want %v", datelines, want)
	}
}
