package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// State is the progress of one partition of the records topic, kept in the
// store at PREFIX/_state/TOPIC/pPPP.json: the store, not the consumer
// group, says what is archived.
type State struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	// NextOffset is the first offset not yet archived: every record of the
	// partition below it is in exactly one data object.
	NextOffset int64 `json:"next_offset"`
	// Pending is a batch cut and being written: its objects may exist in
	// part. Whoever finds it writes exactly this batch again, to the same
	// keys, before anything else.
	Pending *Pending `json:"pending"`
	// DedupeFrom is the offset from which every message below NextOffset
	// was taken by this archive: archived, dead-lettered or dropped as a
	// duplicate of one archived. The dedupe window reads nothing below it
	// (offsets passed over, or where the archive began). Absent in states
	// written before the window: NextOffset then.
	DedupeFrom *int64 `json:"dedupe_from,omitempty"`
	// MaxIngestedAt is the latest ingested_at among the records archived so
	// far: a watermark for downstream jobs (see docs/sink.md).
	MaxIngestedAt time.Time `json:"max_ingested_at,omitzero"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Pending is a batch whose objects are being written.
type Pending struct {
	First int64    `json:"first"`
	Last  int64    `json:"last"`
	Keys  []string `json:"keys"` // data objects and manifests, sorted
	// Duplicates are the offsets the batch dropped as duplicates: a
	// rebuild drops exactly these, whatever its window says.
	Duplicates []int64 `json:"duplicates,omitempty"`
}

// dropped reports whether the batch dropped the record at offset as a
// duplicate.
func (p *Pending) dropped(offset int64) bool {
	_, found := slices.BinarySearch(p.Duplicates, offset)
	return found
}

// errFenced is returned when a partition's state changed in the store since
// this sink read or wrote it: another sink (after a rebalance, or a zombie)
// wrote it. The sink then drops what it holds and starts consuming again.
var errFenced = errors.New("partition state changed in the store by another writer")

// stateStore reads and writes state objects with a version, so that a write
// based on an old read is refused with errFenced.
type stateStore interface {
	// load returns the state at key and its version; nil and "" when absent.
	load(ctx context.Context, key string) (*State, string, error)
	// save writes st at key if the stored version is still version ("":
	// absent) and returns the new version.
	save(ctx context.Context, key string, st *State, version string) (string, error)
}

// newStateStore returns the S3 store, with conditional writes, for s3://
// buckets, and the generic one otherwise.
func newStateStore(b *blob.Bucket, bucketName string) stateStore {
	var client *s3.Client
	if bucketName != "" && b.As(&client) {
		return &s3States{client: client, bucket: bucketName}
	}
	return &blobStates{b: b}
}

func encodeState(st *State) ([]byte, error) {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func decodeState(key string, b []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", key, err)
	}
	return &st, nil
}

// blobStates keeps state through the portable blob API. Its versions are
// content hashes, and a save reads the object again and compares before
// writing: a check, not an atomic compare-and-swap (a writer in between the
// read and the write is not seen).
type blobStates struct{ b *blob.Bucket }

func hashVersion(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (s *blobStates) load(ctx context.Context, key string) (*State, string, error) {
	b, err := s.b.ReadAll(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	st, err := decodeState(key, b)
	if err != nil {
		return nil, "", err
	}
	return st, hashVersion(b), nil
}

func (s *blobStates) save(ctx context.Context, key string, st *State, version string) (string, error) {
	_, current, err := s.load(ctx, key)
	if err != nil {
		return "", err
	}
	if current != version {
		return "", errFenced
	}
	b, err := encodeState(st)
	if err != nil {
		return "", err
	}
	if err := s.b.WriteAll(ctx, key, b, &blob.WriterOptions{ContentType: "application/json", IfNotExist: version == ""}); err != nil {
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return "", errFenced
		}
		return "", err
	}
	return hashVersion(b), nil
}

// s3States keeps state with S3 conditional writes: a save is a PUT with
// If-Match on the ETag read or written last (If-None-Match: * when there was
// none), so two writers can never both move a partition on from the same
// state.
type s3States struct {
	client *s3.Client
	bucket string
}

// whenRequired leaves out the optional request checksums, as the bucket URL's
// request_checksum_calculation=when_required does for the blob API.
func whenRequired(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func (s *s3States) load(ctx context.Context, key string) (*State, string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if httpStatus(err) == http.StatusNotFound {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", key, err)
	}
	st, err := decodeState(key, b)
	if err != nil {
		return nil, "", err
	}
	return st, aws.ToString(out.ETag), nil
}

func (s *s3States) save(ctx context.Context, key string, st *State, version string) (string, error) {
	b, err := encodeState(st)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(b),
		ContentType: aws.String("application/json"), ContentLength: aws.Int64(int64(len(b)))}
	if version == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(version)
	}
	out, err := s.client.PutObject(ctx, in, whenRequired)
	switch httpStatus(err) {
	case 0:
	case http.StatusPreconditionFailed:
		return "", errFenced
	default:
		// 409 ConditionalRequestConflict among them: a concurrent write;
		// the retry then meets 412 if that write won.
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	if err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	if out.ETag == nil {
		return "", fmt.Errorf("put %s: the server returned no ETag", key)
	}
	return *out.ETag, nil
}
