// Package blobtest gives tests an object store: a fresh local folder by
// default, or the bucket named by the WIREFEED_TEST_BUCKET environment
// variable (e.g. the S3 server of `make up`), where each test works under a
// prefix of its own.
package blobtest

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// URLs
	_ "gocloud.dev/blob/s3blob"   // s3:// URLs
)

// Store is a bucket and the key prefix a test owns in it.
type Store struct {
	URL    string // bucket URL, for the sink's --bucket
	Prefix string // key prefix, for the sink's --prefix
	Bucket *blob.Bucket
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// New returns a store for the test, closed when it ends.
func New(t testing.TB) *Store {
	t.Helper()
	url := os.Getenv("WIREFEED_TEST_BUCKET")
	if url == "" {
		url = "file://" + filepath.ToSlash(t.TempDir()) + "?create_dir=true"
	}
	b, err := blob.OpenBucket(context.Background(), url)
	if err != nil {
		t.Fatalf("open bucket: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	r := make([]byte, 4)
	rand.Read(r)
	name := unsafe.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	return &Store{URL: url, Prefix: "test/" + name + "-" + hex.EncodeToString(r) + "/articles/v1", Bucket: b}
}

// Real reports whether tests run against a bucket named by the environment.
func Real() bool { return os.Getenv("WIREFEED_TEST_BUCKET") != "" }

// Object is one archived object, decompressed into its lines.
type Object struct {
	Key   string
	Lines [][]byte
}

// Objects lists every object under the store's prefix and reads its lines
// (gzip objects are decompressed).
func (s *Store) Objects(t testing.TB) []Object {
	t.Helper()
	return objects(t, s.Bucket, s.Prefix)
}

// ObjectsAt reads, as Objects does, the objects of the bucket at url under
// prefix, or all of them for prefix "": for a bucket the test set up itself,
// such as a local folder given to the sink.
func ObjectsAt(t testing.TB, url, prefix string) []Object {
	t.Helper()
	b, err := blob.OpenBucket(context.Background(), url)
	if err != nil {
		t.Fatalf("open bucket: %v", err)
	}
	defer b.Close()
	return objects(t, b, prefix)
}

// objects reads every object of b under prefix but the sink's own
// (_state, _manifest).
func objects(t testing.TB, b *blob.Bucket, prefix string) []Object {
	t.Helper()
	ctx := context.Background()
	var out []Object
	opts := &blob.ListOptions{}
	if prefix != "" {
		opts.Prefix = prefix + "/"
	}
	it := b.List(opts)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		if obj.IsDir || strings.Contains(obj.Key, "/_") {
			continue
		}
		r, err := b.NewReader(ctx, obj.Key, nil)
		if err != nil {
			t.Fatalf("read %s: %v", obj.Key, err)
		}
		var rd io.Reader = r
		if strings.HasSuffix(obj.Key, ".gz") {
			zr, err := gzip.NewReader(r)
			if err != nil {
				t.Fatalf("%s: %v", obj.Key, err)
			}
			rd = zr
		}
		o := Object{Key: obj.Key}
		sc := bufio.NewScanner(rd)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			o.Lines = append(o.Lines, append([]byte(nil), sc.Bytes()...))
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", obj.Key, err)
		}
		r.Close()
		out = append(out, o)
	}
	return out
}
