package kafka

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/segmentio/kafka-go/compress"
)

// zstdWindow is the window of the zstd frames this process produces. A
// decoder holds a frame's window in memory for as long as it reads it:
// with the library's default of 8 MiB, every partition fetched at once cost
// 8 MiB of history in a consumer, and a burst that kept all of them busy
// doubled a sink's resident memory. A produce batch is compressed as one
// frame of at most --kafka.max-message-bytes; news records repeat within a
// few kilobytes, so 1 MiB loses next to nothing of the ratio.
const zstdWindow = 1 << 20

// zstdDecoders is how many idle decoders are kept: enough for the
// partitions a service fetches at once, kept across garbage collections
// (a sync.Pool is emptied by them, and a burst then allocates a fresh
// window per batch).
const zstdDecoders = 8

// The codec replaces kafka-go's zstd codec for the whole process, readers
// and writers alike; frames stay standard zstd, readable by every client,
// and frames of other producers, with larger windows, are read as before.
func init() {
	compress.Codecs[compress.Zstd] = newZstdCodec()
}

type zstdCodec struct {
	encoders sync.Pool // *zstd.Encoder
	decoders chan *zstd.Decoder
}

func newZstdCodec() *zstdCodec {
	return &zstdCodec{decoders: make(chan *zstd.Decoder, zstdDecoders)}
}

func (c *zstdCodec) Code() int8   { return int8(compress.Zstd) }
func (c *zstdCodec) Name() string { return "zstd" }

// NewReader returns a reader of one compressed record batch; Close gives
// its decoder back.
func (c *zstdCodec) NewReader(r io.Reader) io.ReadCloser {
	var dec *zstd.Decoder
	select {
	case dec = <-c.decoders:
		if err := dec.Reset(r); err != nil {
			return &zstdReader{err: err}
		}
	default:
		var err error
		if dec, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true)); err != nil {
			return &zstdReader{err: err}
		}
	}
	return &zstdReader{c: c, dec: dec}
}

// NewWriter returns a writer of one compressed record batch; Close ends
// the frame and gives its encoder back.
func (c *zstdCodec) NewWriter(w io.Writer) io.WriteCloser {
	enc, _ := c.encoders.Get().(*zstd.Encoder)
	if enc != nil {
		enc.Reset(w)
		return &zstdWriter{c: c, enc: enc}
	}
	enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true), zstd.WithWindowSize(zstdWindow))
	if err != nil {
		return &zstdWriter{err: err}
	}
	return &zstdWriter{c: c, enc: enc}
}

type zstdReader struct {
	c   *zstdCodec
	dec *zstd.Decoder
	err error
}

func (r *zstdReader) Read(p []byte) (int, error) {
	if r.dec == nil {
		return 0, r.closedErr()
	}
	return r.dec.Read(p)
}

func (r *zstdReader) WriteTo(w io.Writer) (int64, error) {
	if r.dec == nil {
		return 0, r.closedErr()
	}
	return r.dec.WriteTo(w)
}

func (r *zstdReader) closedErr() error {
	if r.err != nil {
		return r.err
	}
	return io.ErrClosedPipe
}

func (r *zstdReader) Close() error {
	if r.dec == nil {
		return nil
	}
	dec := r.dec
	r.dec = nil
	if dec.Reset(emptyReader{}) != nil {
		dec.Close()
		return nil
	}
	select {
	case r.c.decoders <- dec:
	default:
		dec.Close()
	}
	return nil
}

type zstdWriter struct {
	c   *zstdCodec
	enc *zstd.Encoder
	err error
}

func (w *zstdWriter) Write(p []byte) (int, error) {
	if w.enc == nil {
		return 0, w.closedErr()
	}
	return w.enc.Write(p)
}

func (w *zstdWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.enc == nil {
		return 0, w.closedErr()
	}
	return w.enc.ReadFrom(r)
}

func (w *zstdWriter) closedErr() error {
	if w.err != nil {
		return w.err
	}
	return io.ErrClosedPipe
}

// Close ends the frame; the encoder may be used again afterwards.
func (w *zstdWriter) Close() error {
	if w.enc == nil {
		return w.err
	}
	enc := w.enc
	w.enc = nil
	err := enc.Close()
	enc.Reset(io.Discard) // do not keep the batch's writer
	w.c.encoders.Put(enc)
	return err
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }
