package kafka

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/segmentio/kafka-go/compress"
)

func compressWith(t *testing.T, c compress.Codec, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := c.NewWriter(&buf)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decompressWith(t *testing.T, c compress.Codec, data []byte) []byte {
	t.Helper()
	r := c.NewReader(bytes.NewReader(data))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestZstdCodec checks that the process's zstd codec is this package's,
// that its frames declare a 1 MiB window and are read by kafka-go's own
// codec, that it reads frames of kafka-go's codec (8 MiB windows), and that
// its decoders are reused.
func TestZstdCodec(t *testing.T) {
	c, ok := compress.Zstd.Codec().(*zstdCodec)
	if !ok {
		t.Fatalf("the zstd codec in use is %T, want *zstdCodec", compress.Zstd.Codec())
	}
	var sb strings.Builder
	for i := range 40000 {
		fmt.Fprintf(&sb, `{"id":"wire:%d","title":"Story %d","body":["Paragraph of story %d."]}`+"\n", i, i, i%97)
	}
	data := []byte(sb.String()) // about 2.8 MB, more than the window

	ours := compressWith(t, c, data)
	var h zstd.Header
	if err := h.Decode(ours); err != nil {
		t.Fatal(err)
	}
	if h.WindowSize > zstdWindow {
		t.Errorf("frame window %d, want at most %d", h.WindowSize, zstdWindow)
	}
	if got := decompressWith(t, &compress.ZstdCodec, ours); !bytes.Equal(got, data) {
		t.Error("kafka-go's codec reads our frame wrong")
	}
	theirs := compressWith(t, &compress.ZstdCodec, data)
	for range 3 {
		if got := decompressWith(t, c, theirs); !bytes.Equal(got, data) {
			t.Fatal("our codec reads kafka-go's frame wrong")
		}
		if got := decompressWith(t, c, ours); !bytes.Equal(got, data) {
			t.Fatal("our codec reads its own frame wrong")
		}
	}
	if n := len(c.decoders); n != 1 {
		t.Errorf("%d idle decoders after reading one batch at a time, want 1 (reused)", n)
	}
	// A corrupt batch is an error, not a panic, and the decoder is not
	// lost.
	r := c.NewReader(bytes.NewReader(ours[:len(ours)/2]))
	if _, err := io.ReadAll(r); err == nil {
		t.Error("a truncated frame was read without error")
	}
	r.Close()
	if got := decompressWith(t, c, ours); !bytes.Equal(got, data) {
		t.Error("a decoder given back after an error reads wrong")
	}
}
