package sink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"gocloud.dev/blob"

	"github.com/wirefeed/wirefeed/pkg/record"
)

// Archive is what the sink wrote under a prefix, read back through the
// blob API: for tests, checks and jobs that read the archive.
type Archive struct {
	Prefix    string
	Objects   []ArchivedObject     // data objects, by key
	Manifests map[string]*Manifest // by key
	States    map[string]*State    // by key
	// Stray holds every other key under the prefix: a fileblob temporary
	// file of a write under way or killed, or anything not the sink's.
	Stray []string
}

// ArchivedObject is one data object and its records.
type ArchivedObject struct {
	Key     string
	Size    int64
	Records []*record.Article
}

var (
	dataNameRe     = regexp.MustCompile(`/[A-Za-z0-9._-]+-p\d{3,}-\d{20}-\d{20}\.(ndjson|ndjson\.gz|ndjson\.zst|parquet)$`)
	manifestPathRe = regexp.MustCompile(`^dt=\d{4}-\d{2}-\d{2}/_manifest/[A-Za-z0-9._-]+-p\d{3,}-\d{20}-\d{20}\.json$`)
	statePathRe    = regexp.MustCompile(`^_state/[A-Za-z0-9._-]+/p\d{3,}\.json$`)
)

// ReadArchive lists everything under prefix and reads it: data objects
// (decoded whatever their format), manifests and states.
func ReadArchive(ctx context.Context, b *blob.Bucket, prefix string) (*Archive, error) {
	a := &Archive{Prefix: prefix, Manifests: map[string]*Manifest{}, States: map[string]*State{}}
	it := b.List(&blob.ListOptions{Prefix: prefix + "/"})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if obj.IsDir {
			continue
		}
		rel := strings.TrimPrefix(obj.Key, prefix+"/")
		switch {
		case statePathRe.MatchString(rel):
			body, err := b.ReadAll(ctx, obj.Key)
			if err != nil {
				return nil, err
			}
			st, err := decodeState(obj.Key, body)
			if err != nil {
				return nil, err
			}
			a.States[obj.Key] = st
		case manifestPathRe.MatchString(rel):
			body, err := b.ReadAll(ctx, obj.Key)
			if err != nil {
				return nil, err
			}
			var m Manifest
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, fmt.Errorf("manifest %s: %w", obj.Key, err)
			}
			a.Manifests[obj.Key] = &m
		case dataNameRe.MatchString(obj.Key) && !strings.HasPrefix(rel, "_") && !strings.Contains(rel, "/_"):
			body, err := b.ReadAll(ctx, obj.Key)
			if err != nil {
				return nil, err
			}
			recs, err := DecodeObject(obj.Key, body)
			if err != nil {
				return nil, err
			}
			a.Objects = append(a.Objects, ArchivedObject{Key: obj.Key, Size: int64(len(body)), Records: recs})
		default:
			a.Stray = append(a.Stray, obj.Key)
		}
	}
	sort.Slice(a.Objects, func(i, j int) bool { return a.Objects[i].Key < a.Objects[j].Key })
	return a, nil
}

// DecodeObject decodes a data object by its name: .ndjson, .ndjson.gz,
// .ndjson.zst or .parquet.
func DecodeObject(key string, body []byte) ([]*record.Article, error) {
	if strings.HasSuffix(key, ".parquet") {
		recs, err := ReadParquet(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return recs, nil
	}
	var r io.Reader = bytes.NewReader(body)
	switch {
	case strings.HasSuffix(key, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		r = zr
	case strings.HasSuffix(key, ".zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		defer zr.Close()
		r = zr
	}
	var out []*record.Article
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		a, err := record.Unmarshal(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", key, len(out)+1, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return out, nil
}

// Problems lists what breaks the archive's invariants: a stray key, a
// partition left with a pending batch, a data object that no manifest
// lists (or more than one), a manifest entry whose object is missing or
// whose record count or size differs.
func (a *Archive) Problems() []string {
	var out []string
	for _, k := range a.Stray {
		out = append(out, "stray key "+k)
	}
	for k, st := range a.States {
		if st.Pending != nil {
			out = append(out, fmt.Sprintf("state %s has a pending batch [%d, %d]", k, st.Pending.First, st.Pending.Last))
		}
	}
	listed := map[string]int{}
	objs := map[string]ArchivedObject{}
	for _, o := range a.Objects {
		objs[o.Key] = o
	}
	mkeys := make([]string, 0, len(a.Manifests))
	for k := range a.Manifests {
		mkeys = append(mkeys, k)
	}
	sort.Strings(mkeys)
	for _, k := range mkeys {
		m := a.Manifests[k]
		total := 0
		for _, mo := range m.Objects {
			listed[mo.Key]++
			total += mo.Records
			o, ok := objs[mo.Key]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("manifest %s lists %s, which does not exist", k, mo.Key))
			case len(o.Records) != mo.Records || o.Size != mo.Bytes:
				out = append(out, fmt.Sprintf("manifest %s: %s has %d records, %d bytes; the manifest says %d, %d", k, mo.Key, len(o.Records), o.Size, mo.Records, mo.Bytes))
			}
		}
		if total != m.Records {
			out = append(out, fmt.Sprintf("manifest %s: records %d, its objects add up to %d", k, m.Records, total))
		}
	}
	for _, o := range a.Objects {
		if listed[o.Key] != 1 {
			out = append(out, fmt.Sprintf("object %s is listed by %d manifests, want 1", o.Key, listed[o.Key]))
		}
	}
	return out
}
