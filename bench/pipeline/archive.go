package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// URLs
	_ "gocloud.dev/blob/s3blob"   // s3:// URLs
)

// archived is one record read back from the archive, with what the
// latencies need.
type archived struct {
	sourceID     string
	ingestedAt   time.Time
	normalizedAt time.Time
	partition    int   // records topic partition of the object's batch
	lastOffset   int64 // last records offset of that batch
	modTime      time.Time
	bytes        int64 // of its JSON line
}

// object is one archive object as listed.
type object struct {
	key          string
	size         int64
	records      int // from the object's records metadata
	lines        int
	jsonBytes    int64 // uncompressed NDJSON
	modTime      time.Time
	partition    int
	first, last  int64
	metadataSeen bool
}

// keyRe reads the batch out of an object name:
// TOPIC-pPPP-FIRSTOFFSET-LASTOFFSET.ndjson[.gz|.zst]
var keyRe = regexp.MustCompile(`-p(\d{3,})-(\d{20})-(\d{20})\.ndjson(\.gz|\.zst)?$`)

// readArchive lists the objects under prefix through the bucket's API,
// reads each one's records metadata (x-amz-meta-records on S3) and its
// records.
func readArchive(ctx context.Context, bucketURL, prefix string) ([]object, []archived, error) {
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, nil, fmt.Errorf("open bucket: %w", err)
	}
	defer b.Close()
	var objs []object
	var recs []archived
	it := b.List(&blob.ListOptions{Prefix: prefix + "/"})
	for {
		lo, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if lo.IsDir || strings.Contains(lo.Key, "/_") {
			continue // the sink's own _state and _manifest
		}
		m := keyRe.FindStringSubmatch(lo.Key)
		if m == nil {
			return nil, nil, fmt.Errorf("object %s: name does not hold a batch", lo.Key)
		}
		o := object{key: lo.Key, size: lo.Size, modTime: lo.ModTime}
		o.partition, _ = strconv.Atoi(m[1])
		o.first, _ = strconv.ParseInt(m[2], 10, 64)
		o.last, _ = strconv.ParseInt(m[3], 10, 64)
		attrs, err := b.Attributes(ctx, lo.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("attributes of %s: %w", lo.Key, err)
		}
		if v, ok := attrs.Metadata["records"]; ok {
			o.records, _ = strconv.Atoi(v)
			o.metadataSeen = true
		}
		rs, err := readObject(ctx, b, &o)
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, rs...)
		objs = append(objs, o)
	}
	return objs, recs, nil
}

func readObject(ctx context.Context, b *blob.Bucket, o *object) ([]archived, error) {
	r, err := b.NewReader(ctx, o.key, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", o.key, err)
	}
	defer r.Close()
	var rd io.Reader = r
	switch {
	case strings.HasSuffix(o.key, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.key, err)
		}
		rd = zr
	case strings.HasSuffix(o.key, ".zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.key, err)
		}
		defer zr.Close()
		rd = zr
	}
	var out []archived
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		// Only the fields the latencies need; pkg/record's Article has
		// the same names.
		var a struct {
			SourceID     string    `json:"source_id"`
			IngestedAt   time.Time `json:"ingested_at"`
			NormalizedAt time.Time `json:"normalized_at"`
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", o.key, o.lines+1, err)
		}
		o.lines++
		o.jsonBytes += int64(len(sc.Bytes())) + 1
		out = append(out, archived{sourceID: a.SourceID, ingestedAt: a.IngestedAt, normalizedAt: a.NormalizedAt,
			partition: o.partition, lastOffset: o.last, modTime: o.modTime, bytes: int64(len(sc.Bytes())) + 1})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", o.key, err)
	}
	return out, nil
}

// deletePrefix removes every object under prefix.
func deletePrefix(ctx context.Context, bucketURL, prefix string) error {
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return err
	}
	defer b.Close()
	it := b.List(&blob.ListOptions{Prefix: prefix + "/"})
	for {
		lo, err := it.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if lo.IsDir {
			continue
		}
		if err := b.Delete(ctx, lo.Key); err != nil {
			return fmt.Errorf("delete %s: %w", lo.Key, err)
		}
	}
}
