package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The examples of the S3 API reference, "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk".
func TestSignMatchesS3Examples(t *testing.T) {
	s := signer{
		accessKey: "AKIAIOSFODNN7EXAMPLE",
		secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		region:    "us-east-1",
		service:   "s3",
	}
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		method, url   string
		headers       map[string]string
		body          string
		signedHeaders string
		signature     string
	}{
		{
			name:          "get object with range",
			method:        http.MethodGet,
			url:           "https://examplebucket.s3.amazonaws.com/test.txt",
			headers:       map[string]string{"Range": "bytes=0-9"},
			signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
			signature:     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name:   "put object",
			method: http.MethodPut,
			url:    "https://examplebucket.s3.amazonaws.com/test$file.text",
			headers: map[string]string{
				"Date":                "Fri, 24 May 2013 00:00:00 GMT",
				"X-Amz-Storage-Class": "REDUCED_REDUNDANCY",
			},
			body:          "Welcome to Amazon S3.",
			signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			signature:     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name:          "list objects",
			method:        http.MethodGet,
			url:           "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			signature:     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			s.sign(req, []byte(tt.body), at)
			want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request" +
				", SignedHeaders=" + tt.signedHeaders + ", Signature=" + tt.signature
			if got := req.Header.Get("Authorization"); got != want {
				t.Errorf("%s %s\n got: %s\nwant: %s", tt.method, tt.url, got, want)
			}
		})
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct {
		in          string
		encodeSlash bool
		want        string
	}{
		{"/test$file.text", false, "/test%24file.text"},
		{"a b/c~d", false, "a%20b/c~d"},
		{"a/b", true, "a%2Fb"},
		{"é", true, "%C3%A9"},
	}
	for _, tt := range tests {
		if got := uriEncode(tt.in, tt.encodeSlash); got != tt.want {
			t.Errorf("uriEncode(%q, %v) = %q, want %q", tt.in, tt.encodeSlash, got, tt.want)
		}
	}
}

func TestXMLValues(t *testing.T) {
	doc := `<ListAllMyBucketsResult><Buckets><Bucket><Name>a</Name></Bucket><Bucket><Name>b</Name></Bucket></Buckets></ListAllMyBucketsResult>`
	got := strings.Join(xmlValues(doc, "Name"), ",")
	if got != "a,b" {
		t.Errorf("xmlValues(%q, Name) = %q, want %q", doc, got, "a,b")
	}
}
