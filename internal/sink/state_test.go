package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"gocloud.dev/blob"

	"github.com/wirefeed/wirefeed/internal/blobtest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// TestStateStoreVersions holds both state stores to one contract: a save
// based on a version that is no longer the stored one is refused with
// errFenced. On a local folder that is the blob store; with
// WIREFEED_TEST_BUCKET set to an S3 bucket, the conditional-write store.
func TestStateStoreVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bs := blobtest.New(t)
	states := newStateStore(bs.Bucket, bucketName(bs.URL))
	if _, isS3 := states.(*s3States); isS3 != blobtest.Real() {
		t.Fatalf("store %T for bucket %s", states, redact(bs.URL))
	}
	key := bs.Prefix + "/_state/topic/p000.json"

	st, v0, err := states.load(ctx, key)
	if st != nil || v0 != "" || err != nil {
		t.Fatalf("load of a partition never written: %+v, %q, %v; want nothing", st, v0, err)
	}
	v1, err := states.save(ctx, key, &State{NextOffset: 10}, "")
	if err != nil || v1 == "" {
		t.Fatalf("first save: %q, %v", v1, err)
	}
	if _, err := states.save(ctx, key, &State{NextOffset: 99}, ""); !errors.Is(err, errFenced) {
		t.Errorf("second first save (as a sink that read no state): %v, want errFenced", err)
	}
	got, v, err := states.load(ctx, key)
	if err != nil || got == nil || got.NextOffset != 10 || v != v1 {
		t.Fatalf("load: %+v, %q, %v; want next_offset 10 at version %q", got, v, err, v1)
	}
	v2, err := states.save(ctx, key, &State{NextOffset: 20, Pending: &Pending{First: 20, Last: 29, Keys: []string{"a", "b"}}}, v1)
	if err != nil || v2 == v1 {
		t.Fatalf("save on the current version: %q, %v", v2, err)
	}
	if _, err := states.save(ctx, key, &State{NextOffset: 30}, v1); !errors.Is(err, errFenced) {
		t.Errorf("save on a stale version (a zombie writer): %v, want errFenced", err)
	}
	got, v, err = states.load(ctx, key)
	if err != nil || got.NextOffset != 20 || got.Pending == nil || got.Pending.Last != 29 || v != v2 {
		t.Errorf("after the refused save: %+v, %q, %v; want next_offset 20, pending [20, 29], version %q", got, v, err, v2)
	}
}

// TestJanitor leaves behind what a killed write leaves (a fileblob
// temporary file; on S3, a multipart upload never completed) and checks
// that the janitor removes exactly that.
func TestJanitor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bs := blobtest.New(t)
	url := bs.URL
	if !blobtest.Real() {
		url = strings.Replace(url, "?", "?no_tmp_dir=true&", 1)
	}
	b, err := openBucket(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	j := newJanitor(b, url)
	key := bs.Prefix + "/dt=2024-02-01/source=alpha/t-p000-00000000000000000000-00000000000000000009.ndjson.gz"
	other := key + ".keep" // another object whose name starts like the key
	if err := b.WriteAll(ctx, key, []byte("whole"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteAll(ctx, other, []byte("whole"), nil); err != nil {
		t.Fatal(err)
	}
	wantFiles, wantUploads := 0, 0
	if blobtest.Real() {
		var client *s3.Client
		if !b.As(&client) {
			t.Fatal("no S3 client")
		}
		bucket := bucketName(url)
		up, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key}, whenRequired)
		if err != nil {
			t.Fatal(err)
		}
		part := bytes.Repeat([]byte("x"), 5<<20)
		if _, err := client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part)}, whenRequired); err != nil {
			t.Fatal(err)
		}
		wantUploads = 1
		defer func() {
			out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket, Prefix: &bs.Prefix}, whenRequired)
			if err != nil || len(out.Uploads) != 0 {
				t.Errorf("multipart uploads left under the prefix: %v (%v)", out.Uploads, err)
			}
		}()
	} else {
		dir := strings.TrimPrefix(strings.SplitN(bs.URL, "?", 2)[0], "file://")
		for i := range 2 {
			tmp := filepath.Join(dir, filepath.FromSlash(key)) + fmt.Sprintf(".18ebb4d0805acc0%d.tmp", i)
			if err := os.WriteFile(tmp, []byte("half"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		wantFiles = 2
	}
	files, uploads, err := j.clean(ctx, key)
	if err != nil || files != wantFiles || uploads != wantUploads {
		t.Errorf("clean: %d temporary files, %d uploads, %v; want %d, %d", files, uploads, err, wantFiles, wantUploads)
	}
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: bs.Prefix + "/"})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			break
		}
		keys = append(keys, obj.Key)
	}
	if want := []string{key, other}; strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("after clean: %v, want %v", keys, want)
	}
}

// TestWriteObjectOnce writes a large object twice under one key: the second
// write finds it (on S3 a multipart upload completed with If-None-Match
// fails, and is aborted) and reports its size as stored.
func TestWriteObjectOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bs := blobtest.New(t)
	m := newMetrics(prometheus.NewRegistry())
	st := &store{bucket: bs.Bucket, m: m, log: zap.NewNop(), partSize: 5 << 20, concurrency: 2}
	key := bs.Prefix + "/large.ndjson"
	payload := bytes.Repeat([]byte("0123456789abcdef"), (18<<20)/16)
	write := func() (int64, bool, error) {
		return st.writeObject(ctx, key, "application/x-ndjson", false, nil, func(w io.Writer) error {
			for off := 0; off < len(payload); off += 1 << 20 {
				if _, err := w.Write(payload[off:min(off+1<<20, len(payload))]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	size, existed, err := write()
	if err != nil || existed || size != int64(len(payload)) {
		t.Fatalf("first write: %d bytes, existed %v, %v", size, existed, err)
	}
	size, existed, err = write()
	if err != nil || !existed || size != int64(len(payload)) {
		t.Fatalf("second write: %d bytes, existed %v, %v; want the object found, %d bytes", size, existed, err, len(payload))
	}
	got, err := bs.Bucket.ReadAll(ctx, key)
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("read back %d bytes (%v), want the %d written", len(got), err, len(payload))
	}
}

// TestParquetRoundTrip converts an article with every field to its Parquet
// row, through a file, and back.
func TestParquetRoundTrip(t *testing.T) {
	t.Parallel()
	pub := time.Date(2024, 2, 1, 8, 30, 0, 0, time.UTC)
	full := &record.Article{SchemaVersion: 1, ID: "0123456789abcdef0123456789abcdef", Source: "alpha", SourceID: "A1", URL: "https://a.example/1",
		Format: "newsml-g2", Version: 3, PubStatus: "usable", Signals: []string{"update"}, Title: "Title", PublishedAt: pub,
		UpdatedAt: pub.Add(time.Hour), Dateline: &record.Dateline{Place: "BEIJING", Date: "May 1", Agency: "Xinhua"}, Language: "en",
		Byline: "By someone", Subjects: []string{"economy"}, Body: []string{"One.", "Two."}, Captions: []string{"A caption."},
		Fixes: []string{"whitespace"}, ContentHash: "sha256:00", IngestedAt: pub.Add(2 * time.Hour), NormalizedAt: pub.Add(3 * time.Hour),
		Raw: &record.RawRef{Topic: "raw", Partition: 2, Offset: 417}}
	bare := &record.Article{SchemaVersion: 1, ID: "fedcba9876543210fedcba9876543210", Source: "beta", Format: "textdump", Title: "Bare",
		Body: []string{}, ContentHash: "sha256:01", NormalizedAt: pub}
	e := newEncoder("zstd")
	var lines [][]byte
	for _, a := range []*record.Article{full, bare} {
		b, _ := a.Marshal()
		lines = append(lines, b)
	}
	var buf bytes.Buffer
	if err := e.encode(&buf, lines); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []*record.Article{full, bare} {
		wj, _ := want.Marshal()
		gj, _ := got[i].Marshal()
		if !bytes.Equal(wj, gj) {
			t.Errorf("row %d:\n got %s\nwant %s", i, gj, wj)
		}
	}
	// The same records give the same bytes: a batch written again after a
	// crash is the same object.
	var again bytes.Buffer
	if err := e.encode(&again, lines); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("encoding twice gave different bytes (%v)", err)
	}
}

// TestDecodeHeadAgreesWithRecord: the sink's partial decoding accepts and
// refuses exactly what record.Unmarshal and Validate do, and reads the
// fields it needs the same.
func TestDecodeHeadAgreesWithRecord(t *testing.T) {
	t.Parallel()
	good := `{"schema_version":1,"id":"0123456789abcdef0123456789abcdef","source":"alpha","format":"textdump","title":"T","published_at":"2024-02-01T08:30:00+01:00","body":["a \"quoted\" paragraph","b"],"content_hash":"sha256:00","ingested_at":"2024-02-04T00:00:00Z","normalized_at":"2024-02-04T00:00:01Z"}`
	tests := []struct{ name, in string }{
		{"valid", good},
		{"no title, a body", strings.Replace(good, `"title":"T"`, `"title":" "`, 1)},
		{"no title, no body", strings.Replace(strings.Replace(good, `"title":"T"`, `"title":""`, 1), `["a \"quoted\" paragraph","b"]`, `[ ]`, 1)},
		{"title, empty body", strings.Replace(good, `["a \"quoted\" paragraph","b"]`, `[]`, 1)},
		{"null body, no title", strings.Replace(strings.Replace(good, `"title":"T"`, `"title":""`, 1), `["a \"quoted\" paragraph","b"]`, `null`, 1)},
		{"body not an array", strings.Replace(good, `["a \"quoted\" paragraph","b"]`, `"text"`, 1)},
		{"schema 2", strings.Replace(good, `"schema_version":1`, `"schema_version":2`, 1)},
		{"no id", strings.Replace(good, `"id":"0123456789abcdef0123456789abcdef",`, ``, 1)},
		{"no source", strings.Replace(good, `"source":"alpha"`, `"source":""`, 1)},
		{"no format", strings.Replace(good, `"format":"textdump",`, ``, 1)},
		{"no hash", strings.Replace(good, `"content_hash":"sha256:00",`, ``, 1)},
		{"no normalized_at", strings.Replace(good, `,"normalized_at":"2024-02-04T00:00:01Z"`, ``, 1)},
		{"bad time", strings.Replace(good, `2024-02-01T08:30:00+01:00`, `yesterday`, 1)},
		{"not JSON", `{"schema_version":1,`},
		{"trailing garbage", good + `x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, ferr := record.Unmarshal([]byte(tt.in))
			if ferr == nil {
				ferr = full.Validate()
			}
			h, herr := decodeHead([]byte(tt.in))
			if herr == nil {
				herr = h.Validate()
			}
			if (ferr == nil) != (herr == nil) {
				t.Fatalf("record: %v; sink's head: %v", ferr, herr)
			}
			if ferr == nil && (h.ID != full.ID || h.Source != full.Source || !h.PublishedAt.Equal(full.PublishedAt) ||
				!h.IngestedAt.Equal(full.IngestedAt) || !h.NormalizedAt.Equal(full.NormalizedAt)) {
				t.Errorf("head %+v, record %+v", h, full)
			}
		})
	}
}
