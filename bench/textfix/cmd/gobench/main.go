// Command gobench measures pkg/textfix for the comparison with ftfy that
// bench/textfix/run.sh drives. With -gen it writes the shared inputs;
// otherwise it reads them and prints speed and accuracy as JSON.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/wirefeed/wirefeed/pkg/textfix"
)

// A pair is one accuracy case: the damaged text and the text it should become.
type pair struct {
	Kind  string `json:"kind"`
	Input string `json:"input"`
	Want  string `json:"want"`
}

func main() {
	gen := flag.String("gen", "", "write the inputs into this directory and exit")
	clean := flag.String("clean", "pkg/textfix/testdata/clean.txt", "clean lines to build the inputs from (with -gen)")
	data := flag.String("data", "", "directory of inputs written by -gen")
	flag.Parse()
	switch {
	case *gen != "":
		if err := generate(*clean, *gen); err != nil {
			fmt.Fprintln(os.Stderr, "gobench:", err)
			os.Exit(1)
		}
	case *data != "":
		res, err := measure(*data)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gobench:", err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(res)
	default:
		flag.Usage()
		os.Exit(2)
	}
}

// misdecode shows the UTF-8 bytes of s as charset cm would (nil: ISO-8859-1);
// bytes the charset leaves undefined become the code point of the same number.
func misdecode(s string, cm *charmap.Charmap) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		r := rune(c)
		if cm != nil && c >= 0x80 {
			if d := cm.DecodeByte(c); d != '\uFFFD' {
				r = d
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

var kinds = []struct {
	name   string
	damage func(string) string
}{
	{"cp1252", func(s string) string { return misdecode(s, charmap.Windows1252) }},
	{"latin1", func(s string) string { return misdecode(s, nil) }},
	{"cp1250", func(s string) string { return misdecode(s, charmap.Windows1250) }},
	{"iso8859-2", func(s string) string { return misdecode(s, charmap.ISO8859_2) }},
	{"cp1251", func(s string) string { return misdecode(s, charmap.Windows1251) }},
	{"macroman", func(s string) string { return misdecode(s, charmap.Macintosh) }},
	{"cp437", func(s string) string { return misdecode(s, charmap.CodePage437) }},
	{"cp1252 twice", func(s string) string {
		return misdecode(misdecode(s, charmap.Windows1252), charmap.Windows1252)
	}},
	{"cp1251 then cp1252", func(s string) string {
		return misdecode(misdecode(s, charmap.Windows1251), charmap.Windows1252)
	}},
	{"cp1252 in half the line", func(s string) string {
		i := strings.IndexByte(s[len(s)/2:], ' ')
		if i < 0 {
			return s
		}
		i += len(s) / 2
		return s[:i] + misdecode(s[i:], charmap.Windows1252)
	}},
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

// generate writes clean.jsonl and damaged.jsonl (accuracy) and clean.txt
// and damaged.txt (speed, one record a line).
func generate(cleanPath, dir string) error {
	lines, err := readLines(cleanPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var cleanPairs, damagedPairs, englishPairs []pair
	for _, l := range lines {
		cleanPairs = append(cleanPairs, pair{"clean", l, l})
		if isEnglishLike(l) {
			englishPairs = append(englishPairs, pair{"english", l, l})
		}
		for _, k := range kinds {
			if bad := k.damage(l); bad != l && !strings.Contains(bad, "\n") {
				damagedPairs = append(damagedPairs, pair{k.name, bad, l})
			}
		}
	}
	if err := writeJSONL(filepath.Join(dir, "clean.jsonl"), cleanPairs); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "damaged.jsonl"), damagedPairs); err != nil {
		return err
	}
	if err := writeRepeated(filepath.Join(dir, "clean.txt"), cleanPairs, 1<<20); err != nil {
		return err
	}
	if err := writeRepeated(filepath.Join(dir, "english.txt"), englishPairs, 1<<20); err != nil {
		return err
	}
	return writeRepeated(filepath.Join(dir, "damaged.txt"), damagedPairs, 1<<20)
}

// isEnglishLike reports whether l is ASCII but for typographic punctuation
// and symbols: the bulk of an English-language wire.
func isEnglishLike(l string) bool {
	for _, r := range l {
		if r >= 0x80 && !strings.ContainsRune("’‘“”–—…€£¥°−", r) {
			return false
		}
	}
	return true
}

func writeJSONL(path string, ps []pair) error {
	var b strings.Builder
	for _, p := range ps {
		j, err := json.Marshal(p)
		if err != nil {
			return err
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeRepeated writes the inputs of ps, one a line, until about n bytes.
func writeRepeated(path string, ps []pair, n int) error {
	var b strings.Builder
	for b.Len() < n {
		for _, p := range ps {
			b.WriteString(p.Input)
			b.WriteByte('\n')
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// result is what gobench and ftfy_bench.py both print.
type result struct {
	Speed    map[string]float64 `json:"speed_mb_s"`
	Accuracy map[string][2]int  `json:"accuracy"`
	ByKind   map[string][2]int  `json:"damaged_by_kind"`
}

func measure(dir string) (result, error) {
	res := result{Speed: map[string]float64{}, Accuracy: map[string][2]int{}, ByKind: map[string][2]int{}}
	for _, name := range []string{"english", "clean", "damaged"} {
		lines, err := readLines(filepath.Join(dir, name+".txt"))
		if err != nil {
			return res, err
		}
		res.Speed[name] = speed(lines)
	}
	for _, name := range []string{"clean", "damaged"} {
		ps, err := readPairs(filepath.Join(dir, name+".jsonl"))
		if err != nil {
			return res, err
		}
		ok := 0
		for _, p := range ps {
			good := textfix.Fix(p.Input) == p.Want
			if good {
				ok++
			}
			if name == "damaged" {
				k := res.ByKind[p.Kind]
				k[1]++
				if good {
					k[0]++
				}
				res.ByKind[p.Kind] = k
			}
		}
		res.Accuracy[name] = [2]int{ok, len(ps)}
	}
	return res, nil
}

// speed returns the MB/s of Fix over lines, one call a line, best of three
// passes of at least a second each. Time is the process's CPU time where
// the system reports it (see cputime_unix.go), so that other work on the
// machine does not count; ftfy_bench.py measures the same way.
func speed(lines []string) float64 {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	best := 0.0
	for range 3 {
		start, n := cpuTime(), 0
		for cpuTime()-start < time.Second {
			for _, l := range lines {
				textfix.Fix(l)
			}
			n++
		}
		if mbs := float64(size*n) / (cpuTime() - start).Seconds() / 1e6; mbs > best {
			best = mbs
		}
	}
	return best
}

func readPairs(path string) ([]pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ps []pair
	dec := json.NewDecoder(f)
	for dec.More() {
		var p pair
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}
