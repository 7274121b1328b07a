package golden

import (
	"path"
	"testing"

	"github.com/wirefeed/wirefeed/internal/story"
)

// Tally counts what a parser made of corpus samples, by folder, for a test
// to log. The zero value is ready to use.
type Tally struct {
	folders []string
	counts  map[string]*folderCount
}

type folderCount struct {
	files, stories int
	outcomes       map[string]int
}

// Add counts the result of parsing the sample rel (a path that Samples
// returned).
func (c *Tally) Add(rel string, stories []story.Story, err error) {
	if c.counts == nil {
		c.counts = map[string]*folderCount{}
	}
	dir := path.Dir(rel)
	f := c.counts[dir]
	if f == nil {
		f = &folderCount{outcomes: map[string]int{}}
		c.counts[dir] = f
		c.folders = append(c.folders, dir)
	}
	f.files++
	if err == nil {
		f.stories += len(stories)
	}
	f.outcomes[Outcome(stories, err)]++
}

// Log logs a line a folder, in the order the folders were first added:
// how many files, how many stories they held, and how many files had each
// outcome.
func (c *Tally) Log(t testing.TB) {
	t.Helper()
	for _, dir := range c.folders {
		f := c.counts[dir]
		t.Logf("%-45s files %3d, stories %4d: %v", dir, f.files, f.stories, f.outcomes)
	}
}
