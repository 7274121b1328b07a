package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// inputs are the generated items, on disk.
type inputs struct {
	staging  string   // burst items, in a sibling folder of the spool
	burst    []string // their file names, in order
	trickle  string   // items dropped one by one after the burst
	trickles []string
	payloads string // the burst items for kcat, separated by sep

	sizes    []int // bytes of each burst item
	bytes    int64 // of all burst items
	kinds    map[kind]int
	crlf     int
	trickleK map[kind]int
}

// records and dead are how many records and dead letters a set of items
// must become.
func records(k map[kind]int) int { return k[clean] + k[damaged] }
func dead(k map[kind]int) int    { return k[broken] }

// writeInputs generates n burst items and m trickle items into dir, and
// the payload file for kcat, then syncs the file systems so that the
// write-back of some 200 MB does not fall into the measurement.
func writeInputs(dir string, n, m int, seed uint64) (*inputs, error) {
	c, err := loadCorpus()
	if err != nil {
		return nil, err
	}
	g := newGenerator(c, seed)
	in := &inputs{
		staging:  filepath.Join(dir, "staging"),
		trickle:  filepath.Join(dir, "trickle"),
		payloads: filepath.Join(dir, "payloads.bin"),
		kinds:    map[kind]int{},
		trickleK: map[kind]int{},
	}
	for _, d := range []string{in.staging, in.trickle} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	pf, err := os.Create(in.payloads)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	pw := bufio.NewWriterSize(pf, 1<<20)
	for seq := 0; seq < n+m; seq++ {
		it, err := g.item(seq)
		if err != nil {
			return nil, err
		}
		folder := in.staging
		if seq < n {
			in.burst = append(in.burst, it.name)
			in.sizes = append(in.sizes, len(it.body))
			in.bytes += int64(len(it.body))
			in.kinds[it.kind]++
			if it.crlf {
				in.crlf++
			}
			if seq > 0 {
				pw.WriteByte(sep)
			}
			pw.Write(it.body)
		} else {
			folder = in.trickle
			in.trickles = append(in.trickles, it.name)
			in.trickleK[it.kind]++
		}
		if err := os.WriteFile(filepath.Join(folder, it.name), it.body, 0o644); err != nil {
			return nil, err
		}
	}
	if err := pw.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", in.payloads, err)
	}
	syscall.Sync()
	return in, nil
}
