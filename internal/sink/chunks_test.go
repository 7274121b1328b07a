package sink

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestCompressorChunksConcatenate compresses a text chunk by chunk and
// checks that the concatenated chunks are one stream to standard readers,
// and that the same input gives the same bytes.
func TestCompressorChunksConcatenate(t *testing.T) {
	var sb strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&sb, `{"id":"wire:%d","title":"Story %d","body":["Paragraph %d."]}`+"\n", i, i, i%31)
	}
	text := sb.String()
	decode := map[string]func(io.Reader) (io.Reader, error){
		"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
		"zstd": func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) },
		"none": func(r io.Reader) (io.Reader, error) { return r, nil },
	}
	for comp, dec := range decode {
		t.Run(comp, func(t *testing.T) {
			encode := func() []byte {
				c := newCompressor(comp)
				defer c.close()
				var chunks []*chunk
				for rest := text; rest != ""; {
					n := min(len(rest), 100000)
					chunks = append(chunks, c.submit([]byte(rest[:n])))
					rest = rest[n:]
				}
				var out bytes.Buffer
				for _, ch := range chunks {
					b, err := ch.wait()
					if err != nil {
						t.Fatal(err)
					}
					out.Write(b)
				}
				return out.Bytes()
			}
			first := encode()
			r, err := dec(bytes.NewReader(first))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != text {
				t.Fatalf("decoded %d bytes, want the %d bytes compressed", len(got), len(text))
			}
			if comp != "none" && len(first) > len(text)/4 {
				t.Errorf("compressed to %d of %d bytes: chunks compress badly", len(first), len(text))
			}
			if again := encode(); !bytes.Equal(again, first) {
				t.Error("the same chunks compressed twice differ")
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        Config
		gomemlimit string
		want       int64
		wantFrom   string
	}{
		{"automatic, gzip", Config{Compression: "gzip", MaxBuffered: 64 << 20}, "", 40 << 20, "automatic"},
		{"automatic, zstd, default bound", Config{Compression: "zstd"}, "", 40 << 20, "automatic"},
		{"automatic, uncompressed", Config{Compression: "none", MaxBuffered: 64 << 20}, "", 96 << 20, "automatic"},
		{"automatic, parquet", Config{Format: FormatParquet, Compression: "zstd", MaxBuffered: 32 << 20}, "", 64 << 20, "automatic"},
		{"GOMEMLIMIT wins over automatic", Config{Compression: "gzip"}, "200MiB", -1, "GOMEMLIMIT"},
		{"flag wins over GOMEMLIMIT", Config{Compression: "gzip", MemoryLimit: 1 << 30}, "200MiB", 1 << 30, "--memory.limit"},
		{"none", Config{Compression: "gzip", MemoryLimit: -1}, "", -1, "--memory.limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, from := tc.cfg.memoryLimit(tc.gomemlimit)
			if got != tc.want || from != tc.wantFrom {
				t.Errorf("memoryLimit = %d from %s, want %d from %s", got, from, tc.want, tc.wantFrom)
			}
		})
	}
}

// TestDecodeHead checks the fast decoder of record heads on well-formed and
// malformed JSON: malformed records must be refused, not half-read.
func TestDecodeHead(t *testing.T) {
	const good = `{"schema_version":1,"id":"a:1","source":"a","format":"textdump","title":"T","body":["p"],"content_hash":"sha256:00","published_at":"2024-02-01T08:00:00Z","ingested_at":"2024-02-01T08:00:01Z","normalized_at":"2024-02-01T08:00:02Z","extra":{"nested":[1,2,{"x":null}]}}`
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"well-formed", good, true},
		{"empty body", strings.Replace(good, `["p"]`, `[]`, 1), true},
		{"truncated", good[:len(good)-5], false},
		{"trailing garbage", good + "x", false},
		{"two documents", good + good, false},
		{"body not an array", strings.Replace(good, `["p"]`, `"p"`, 1), false},
		{"bad time", strings.Replace(good, `2024-02-01T08:00:00Z`, `yesterday`, 1), false},
		{"unterminated string in an unknown field", strings.Replace(good, `"x":null`, `"x":"abc`, 1), false},
		{"other schema version", strings.Replace(good, `"schema_version":1`, `"schema_version":2`, 1), false},
		{"not JSON", "URL : http://wire.example/1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := decodeHead([]byte(tc.in))
			if tc.ok {
				if err != nil {
					t.Fatalf("decodeHead: %v", err)
				}
				if a.ID != "a:1" || a.Source != "a" || a.PublishedAt.IsZero() || a.NormalizedAt.IsZero() {
					t.Errorf("decoded %+v", a)
				}
				return
			}
			if err == nil {
				t.Errorf("decodeHead accepted %q", tc.in)
			}
		})
	}
}
