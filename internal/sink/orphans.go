package sink

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// What a writer killed in the middle of a write leaves behind, by store:
//
//   - S3: nothing visible. A single PUT is atomic; a multipart upload not
//     completed is not an object (it is not listed, and cannot be read) but
//     its parts are kept, and billed, until aborted.
//   - file://: fileblob writes a temporary file and renames it to the key.
//     The sink opens file buckets with no_tmp_dir, so that the temporary
//     file is next to the key (a rename across file systems fails), named
//     KEY.<hex>.tmp, and fileblob's List shows it.
//
// The sink removes both for every key of a pending batch it writes again,
// and for the state object of a partition it takes over: the only keys a
// killed sink can have been writing.

var tmpSuffixRe = regexp.MustCompile(`^\.[0-9a-f]+\.tmp$`)

// janitor removes the leftovers of killed writes.
type janitor struct {
	b        *blob.Bucket
	file     bool       // a file:// bucket
	s3       *s3.Client // an s3:// bucket
	s3Bucket string
}

func newJanitor(b *blob.Bucket, bucketURL string) *janitor {
	j := &janitor{b: b}
	u, err := url.Parse(bucketURL)
	if err != nil {
		return j
	}
	switch u.Scheme {
	case "file":
		j.file = true
	case "s3":
		var c *s3.Client
		if b.As(&c) {
			j.s3, j.s3Bucket = c, u.Host
		}
	}
	return j
}

// clean removes the temporary files and aborts the multipart uploads of
// key, and says how many of each it found.
func (j *janitor) clean(ctx context.Context, key string) (tmpFiles, uploads int, err error) {
	if j.file {
		it := j.b.List(&blob.ListOptions{Prefix: key + "."})
		for {
			obj, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return tmpFiles, uploads, fmt.Errorf("list %s.*: %w", key, err)
			}
			if !tmpSuffixRe.MatchString(strings.TrimPrefix(obj.Key, key)) {
				continue
			}
			if err := j.b.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return tmpFiles, uploads, fmt.Errorf("remove %s: %w", obj.Key, err)
			}
			tmpFiles++
		}
	}
	if j.s3 != nil {
		var keyMarker, idMarker *string
		for {
			out, err := j.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &j.s3Bucket, Prefix: &key,
				KeyMarker: keyMarker, UploadIdMarker: idMarker}, whenRequired)
			if err != nil {
				return tmpFiles, uploads, fmt.Errorf("list multipart uploads of %s: %w", key, err)
			}
			for _, u := range out.Uploads {
				if aws.ToString(u.Key) != key {
					continue
				}
				_, err := j.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &j.s3Bucket, Key: u.Key, UploadId: u.UploadId}, whenRequired)
				if err != nil && httpStatus(err) != 404 {
					return tmpFiles, uploads, fmt.Errorf("abort multipart upload %s of %s: %w", aws.ToString(u.UploadId), key, err)
				}
				uploads++
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIdMarker
		}
	}
	return tmpFiles, uploads, nil
}

// bucketName returns the bucket of an s3:// URL, "" for other schemes.
func bucketName(bucketURL string) string {
	u, err := url.Parse(bucketURL)
	if err != nil || u.Scheme != "s3" {
		return ""
	}
	return u.Host
}

// openBucket opens the bucket of a URL. A file:// bucket whose folder is on
// another file system than the system's temporary folder gets no_tmp_dir:
// fileblob writes a temporary file and renames it to the key, and a rename
// across file systems fails. (Its temporary files are then next to their
// keys, KEY.<hex>.tmp, listed while a write is under way; see janitor.)
func openBucket(ctx context.Context, bucketURL string) (*blob.Bucket, error) {
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(bucketURL)
	if err != nil || u.Scheme != "file" || u.Query().Get("no_tmp_dir") != "" {
		return b, nil
	}
	dir := u.Path // as fileblob reads it: host "." means a relative path
	if u.Host == "." {
		dir = strings.TrimPrefix(dir, "/")
	}
	if renameWorks(filepath.FromSlash(dir)) {
		return b, nil
	}
	b.Close()
	q := u.Query()
	q.Set("no_tmp_dir", "true")
	u.RawQuery = q.Encode()
	return blob.OpenBucket(ctx, u.String())
}

// renameWorks reports whether a file made in the system's temporary folder
// can be renamed into dir.
func renameWorks(dir string) bool {
	f, err := os.CreateTemp("", ".wirefeed-rename-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	defer os.Remove(f.Name())
	to := filepath.Join(dir, filepath.Base(f.Name()))
	if err := os.Rename(f.Name(), to); err != nil {
		return false
	}
	os.Remove(to)
	return true
}
