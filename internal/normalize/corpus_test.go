package normalize

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// TestCorpus normalizes every sample of the shared corpus with the format
// sniffed, as normalize does for items without a hint: each either becomes
// records that validate and hold no mojibake and no markup, or is skipped or
// rejected with a specific reason (never an unknown format or an internal
// error).
func TestCorpus(t *testing.T) {
	root := recordtest.SharedDir(t, "corpus")
	counts := map[string]map[string]int{} // folder -> outcome -> files
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".xml", ".rss", ".atom", ".json", ".iptc":
		default:
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		folder := strings.SplitN(rel, string(filepath.Separator), 2)[0]
		if folder == "ftfy" {
			return nil // text repair cases, not items
		}
		if counts[folder] == nil {
			counts[folder] = map[string]int{}
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		arts, err := testNormalizer().Normalize(&record.Raw{Source: "corpus", Body: body}, nil)
		switch {
		case Skipped(err):
			counts[folder]["skipped:"+Reason(err)]++
			return nil
		case err != nil:
			reason := Reason(err)
			if reason == "internal" || reason == "unknown_format" {
				t.Errorf("%s: %s: %v", rel, reason, err)
			}
			counts[folder]["rejected:"+reason]++
			return nil
		}
		counts[folder]["records"] += len(arts)
		counts[folder]["parsed"]++
		for _, a := range arts {
			recordtest.ValidateArticle(t, a)
			text := a.Title + "\n" + strings.Join(a.Body, "\n") + "\n" + strings.Join(a.Captions, "\n")
			for _, bad := range []string{"â€", "Ã©", "Ã¤", "Ã¶", "<p>", "<br", "</", "&amp;", "&lt;", "&#"} {
				if strings.Contains(text, bad) {
					t.Errorf("%s: record %q still holds %q", rel, a.Title, bad)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	folders := make([]string, 0, len(counts))
	for f := range counts {
		folders = append(folders, f)
	}
	sort.Strings(folders)
	for _, f := range folders {
		var parts []string
		for k, v := range counts[f] {
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		}
		sort.Strings(parts)
		t.Logf("%s: %s", f, strings.Join(parts, " "))
	}
}
