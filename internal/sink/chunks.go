package sink

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// chunkBytes is how much record JSON of one NDJSON object is compressed at
// a time. A batch holds its records compressed, chunk by chunk, as they
// arrive, not as JSON until it is written: what a batch costs in memory is
// then about its compressed size, whatever the input rate. Chunks are whole
// gzip members or zstd frames; an object is their concatenation, which
// every gzip and zstd reader reads as one stream. The cut between chunks
// depends only on the records, so a batch written again after a crash gives
// the same bytes.
const chunkBytes = 64 << 10

// zstdWindow is the window of a chunk's zstd frame: a chunk is little more
// than chunkBytes, and the library's default window (8 MiB) would cost each
// worker's encoder as much memory again.
const zstdWindow = 256 << 10

// A chunk is a run of an object's NDJSON lines, compressed by the
// compressor's workers. out is set and raw released before done is closed.
type chunk struct {
	raw  []byte
	out  []byte
	err  error
	done chan struct{}
}

// wait returns the chunk's compressed bytes once they are made.
func (c *chunk) wait() ([]byte, error) {
	<-c.done
	return c.out, c.err
}

// compressor compresses chunks on a few goroutines, so that compressing
// keeps up with fetching and decoding on every core. Submitting waits while
// they are all busy (back-pressure): JSON waiting for compression is
// bounded by the workers' queue.
type compressor struct {
	compression string
	jobs        chan *chunk
	wg          sync.WaitGroup
}

func newCompressor(compression string) *compressor {
	workers := runtime.GOMAXPROCS(0)
	c := &compressor{compression: compression, jobs: make(chan *chunk, workers)}
	if compression == "none" {
		return c
	}
	for range workers {
		c.wg.Go(c.work)
	}
	return c
}

// submit hands raw to the workers and returns its chunk.
func (c *compressor) submit(raw []byte) *chunk {
	ch := &chunk{raw: raw, done: make(chan struct{})}
	if c.compression == "none" {
		ch.out, ch.raw = raw, nil
		close(ch.done)
		return ch
	}
	c.jobs <- ch
	return ch
}

// close stops the workers once every chunk submitted is compressed.
func (c *compressor) close() {
	close(c.jobs)
	c.wg.Wait()
}

func (c *compressor) work() {
	var gz *gzip.Writer
	var zs *zstd.Encoder
	for ch := range c.jobs {
		switch c.compression {
		case "gzip":
			var buf bytes.Buffer
			buf.Grow(len(ch.raw) / 6)
			if gz == nil {
				gz = gzip.NewWriter(&buf) // no name, no time: the same input gives the same bytes
			} else {
				gz.Reset(&buf)
			}
			if _, err := gz.Write(ch.raw); err != nil {
				ch.err = fmt.Errorf("gzip: %w", err)
			} else if err := gz.Close(); err != nil {
				ch.err = fmt.Errorf("gzip: %w", err)
			}
			ch.out = buf.Bytes()
		case "zstd":
			if zs == nil {
				var err error
				if zs, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(zstdWindow)); err != nil {
					ch.err = fmt.Errorf("zstd encoder: %w", err)
					break
				}
			}
			ch.out = zs.EncodeAll(ch.raw, make([]byte, 0, len(ch.raw)/6))
		default:
			ch.err = fmt.Errorf("unknown compression %q", c.compression)
		}
		ch.raw = nil
		close(ch.done)
	}
}
