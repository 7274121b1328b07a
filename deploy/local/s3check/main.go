// Command s3check talks to an S3-compatible endpoint with requests signed by
// AWS Signature Version 4, using the standard library only. The local stack
// scripts use it as a readiness probe for the S3 gateway and to check a
// signed write and read by hand.
//
// Usage:
//
//	s3check [flags] ls                  list buckets
//	s3check [flags] head BUCKET         succeed if BUCKET exists and the credentials are accepted
//	s3check [flags] put BUCKET KEY      upload standard input to BUCKET/KEY
//	s3check [flags] get BUCKET KEY      write BUCKET/KEY to standard output
//	s3check [flags] rm BUCKET KEY       delete BUCKET/KEY
//	s3check [flags] roundtrip BUCKET    put, get, compare and delete a small object
//
// Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never
// from flags, so they do not show up in the process list.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	fs := flag.NewFlagSet("s3check", flag.ContinueOnError)
	endpoint := fs.String("endpoint", envOr("WIREFEED_S3_ENDPOINT", "http://127.0.0.1:7070"), "S3 endpoint URL, path-style requests (env WIREFEED_S3_ENDPOINT)")
	region := fs.String("region", envOr("AWS_REGION", "us-east-1"), "region used in the signature (env AWS_REGION)")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout for the whole command")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: s3check [flags] ls | head BUCKET | put BUCKET KEY | get BUCKET KEY | rm BUCKET KEY | roundtrip BUCKET")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	args := fs.Args()
	if len(args) == 0 || len(args) != map[string]int{"ls": 1, "head": 2, "put": 3, "get": 3, "rm": 3, "roundtrip": 2}[args[0]] {
		fs.Usage()
		os.Exit(2)
	}
	c, err := newClient(*endpoint, *region, os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3check:", err)
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, c, args); err != nil {
		fmt.Fprintln(os.Stderr, "s3check:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *client, args []string) error {
	switch args[0] {
	case "ls":
		body, err := c.do(ctx, http.MethodGet, "", "", nil)
		if err != nil {
			return fmt.Errorf("list buckets: %w", err)
		}
		for _, name := range xmlValues(string(body), "Name") {
			fmt.Println(name)
		}
	case "head":
		if _, err := c.do(ctx, http.MethodHead, args[1], "", nil); err != nil {
			return fmt.Errorf("head bucket %s: %w", args[1], err)
		}
	case "put":
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		if _, err := c.do(ctx, http.MethodPut, args[1], args[2], data); err != nil {
			return fmt.Errorf("put %s/%s: %w", args[1], args[2], err)
		}
	case "get":
		body, err := c.do(ctx, http.MethodGet, args[1], args[2], nil)
		if err != nil {
			return fmt.Errorf("get %s/%s: %w", args[1], args[2], err)
		}
		_, err = os.Stdout.Write(body)
		return err
	case "rm":
		if _, err := c.do(ctx, http.MethodDelete, args[1], args[2], nil); err != nil {
			return fmt.Errorf("delete %s/%s: %w", args[1], args[2], err)
		}
	case "roundtrip":
		return roundtrip(ctx, c, args[1])
	}
	return nil
}

// roundtrip writes a small random object, reads it back, compares, and
// deletes it again.
func roundtrip(ctx context.Context, c *client, bucket string) error {
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	key := "s3check/" + hex.EncodeToString(nonce[:]) + ".txt"
	want := []byte("s3check " + time.Now().UTC().Format(time.RFC3339Nano) + "\n")
	if _, err := c.do(ctx, http.MethodPut, bucket, key, want); err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	got, err := c.do(ctx, http.MethodGet, bucket, key, nil)
	if err != nil {
		return fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("get %s/%s: got %q, want %q", bucket, key, got, want)
	}
	if _, err := c.do(ctx, http.MethodDelete, bucket, key, nil); err != nil {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	fmt.Printf("put, get and delete of %s/%s (%d bytes) ok\n", bucket, key, len(want))
	return nil
}

type client struct {
	base   *url.URL
	signer signer
	http   *http.Client
}

func newClient(endpoint, region, accessKey, secretKey string) (*client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want http(s)://host:port", endpoint)
	}
	if accessKey == "" || secretKey == "" {
		return nil, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")
	}
	return &client{
		base:   u,
		signer: signer{accessKey: accessKey, secretKey: secretKey, region: region, service: "s3"},
		http:   &http.Client{},
	}, nil
}

// do sends one path-style request and returns the body of a 2xx answer.
func (c *client) do(ctx context.Context, method, bucket, key string, body []byte) ([]byte, error) {
	u := *c.base
	u.Path = "/"
	if bucket != "" {
		u.Path += bucket
	}
	if key != "" {
		u.Path += "/" + key
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(body))
	c.signer.sign(req, body, time.Now())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.Join(append(xmlValues(string(data), "Code"), xmlValues(string(data), "Message")...), ": ")
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	return data, nil
}

// signer signs requests with AWS Signature Version 4, headers variant, with
// the payload hash in x-amz-content-sha256 as S3 requires.
type signer struct {
	accessKey, secretKey, region, service string
}

const sigAlgorithm = "AWS4-HMAC-SHA256"

func (s signer) sign(req *http.Request, body []byte, now time.Time) {
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	payloadHash := hashHex(body)
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)

	canonical, signedHeaders := canonicalRequest(req, payloadHash)
	scope := day + "/" + s.region + "/" + s.service + "/aws4_request"
	stringToSign := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hashHex([]byte(canonical))

	key := hmacSHA256([]byte("AWS4"+s.secretKey), day)
	key = hmacSHA256(key, s.region)
	key = hmacSHA256(key, s.service)
	key = hmacSHA256(key, "aws4_request")
	signature := hex.EncodeToString(hmacSHA256(key, stringToSign))

	req.Header.Set("Authorization", sigAlgorithm+
		" Credential="+s.accessKey+"/"+scope+
		", SignedHeaders="+signedHeaders+
		", Signature="+signature)
}

// canonicalRequest builds the SigV4 canonical request over the host header
// and every header already set on req.
func canonicalRequest(req *http.Request, payloadHash string) (canonical, signedHeaders string) {
	headers := map[string]string{"host": req.URL.Host}
	if req.Host != "" {
		headers["host"] = req.Host
	}
	for name, values := range req.Header {
		trimmed := make([]string, len(values))
		for i, v := range values {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		headers[strings.ToLower(name)] = strings.Join(trimmed, ",")
	}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, name := range names {
		ch.WriteString(name + ":" + headers[name] + "\n")
	}
	signedHeaders = strings.Join(names, ";")

	path := req.URL.EscapedPath()
	if p, err := url.PathUnescape(path); err == nil {
		path = uriEncode(p, false)
	}
	if path == "" {
		path = "/"
	}

	query := req.URL.Query()
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vals := append([]string(nil), query[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			pairs = append(pairs, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}

	canonical = strings.Join([]string{
		req.Method, path, strings.Join(pairs, "&"), ch.String(), signedHeaders, payloadHash,
	}, "\n")
	return canonical, signedHeaders
}

// uriEncode percent-encodes everything but the SigV4 unreserved characters;
// '/' is kept unless encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// xmlValues returns the text of every <tag>...</tag> in doc; enough for the
// flat answers of ListBuckets and S3 error bodies.
func xmlValues(doc, tag string) []string {
	var out []string
	open, end := "<"+tag+">", "</"+tag+">"
	for {
		i := strings.Index(doc, open)
		if i < 0 {
			return out
		}
		doc = doc[i+len(open):]
		j := strings.Index(doc, end)
		if j < 0 {
			return out
		}
		out = append(out, doc[:j])
		doc = doc[j+len(end):]
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
