// Package demo ships sample wire items for trying the pipeline without a
// live feed: 24 text dumps from fictional agencies, some damaged and some
// broken on purpose (see README.md).
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Samples holds the sample items, as samples/NN-agency-slug.txt.
//
//go:embed samples/*.txt
var Samples embed.FS

// WriteSamples writes every sample into dir, creating dir if needed, and
// returns how many it wrote. Each file is written to a hidden temporary file
// in dir and then renamed into place, so that a watcher of dir never sees a
// partly written item. Existing files of the same name are replaced.
func WriteSamples(dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("write samples: %w", err)
	}
	names, err := fs.Glob(Samples, "samples/*.txt")
	if err != nil {
		return 0, fmt.Errorf("write samples: %w", err)
	}
	for i, name := range names {
		b, err := Samples.ReadFile(name)
		if err != nil {
			return i, fmt.Errorf("write samples: %w", err)
		}
		if err := writeAtomic(dir, path.Base(name), b); err != nil {
			return i, fmt.Errorf("write samples: %w", err)
		}
	}
	return len(names), nil
}

// writeAtomic writes b to dir/name through a temporary file whose name starts
// with a dot.
func writeAtomic(dir, name string, b []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, name))
}
