package record_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/pkg/record"
)

func ExampleNewID() {
	// The same source item gets the same ID in every run and version.
	fmt.Println(record.NewID("xinhua", "XINH2020050100060", "http://www.xinhuanet.com/english/2020-05/01/c_139023018.htm"))
	fmt.Println(record.NewID("xinhua", "XINH2020050100060", "https://other.example/"))
	// Output:
	// 7d0700b656a44649701baed5b3ddb491
	// 7d0700b656a44649701baed5b3ddb491
}

func ExampleUnmarshal() {
	line := `{"schema_version":1,"id":"7d0700b656a44649701baed5b3ddb491","source":"xinhua","format":"textdump",` +
		`"title":"China pledges continuous support for Peru in COVID-19 fight: Xi","published_at":"2020-05-01T10:15:28+08:00",` +
		`"body":["China firmly supports the Peruvian government."],"content_hash":"sha256:00","normalized_at":"2026-11-26T12:00:00Z"}`
	a, err := record.Unmarshal([]byte(line))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Source, a.PublishedAt.Format(time.RFC3339), a.Title)
	// Output: xinhua 2020-05-01T10:15:28+08:00 China pledges continuous support for Peru in COVID-19 fight: Xi
}

func TestNewID(t *testing.T) {
	tests := []struct {
		name       string
		a, b       [3]string
		wantSameID bool
	}{
		{"same item, other url", [3]string{"s", "1", "u1"}, [3]string{"s", "1", "u2"}, true},
		{"other source", [3]string{"s", "1", ""}, [3]string{"t", "1", ""}, false},
		{"no item id: url decides", [3]string{"s", "", "u1"}, [3]string{"t", "", "u1"}, true},
		{"no item id, other url", [3]string{"s", "", "u1"}, [3]string{"s", "", "u2"}, false},
		{"id equal to a url is not the url", [3]string{"s", "u1", ""}, [3]string{"s", "", "u1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := record.NewID(tt.a[0], tt.a[1], tt.a[2])
			b := record.NewID(tt.b[0], tt.b[1], tt.b[2])
			if (a == b) != tt.wantSameID {
				t.Errorf("NewID(%q) = %s, NewID(%q) = %s; same = %v, want %v", tt.a, a, tt.b, b, a == b, tt.wantSameID)
			}
		})
	}
}

func TestHashSeparatesFields(t *testing.T) {
	h1 := record.Hash("t", []string{"ab"}, nil)
	h2 := record.Hash("t", []string{"a", "b"}, nil)
	h3 := record.Hash("t", nil, []string{"ab"})
	if h1 == h2 || h1 == h3 || h2 == h3 {
		t.Errorf("hashes collide: %s %s %s", h1, h2, h3)
	}
}

func TestRawHeadersRoundTrip(t *testing.T) {
	in := record.Raw{Key: "k", Source: "s", Format: "rss", Origin: "https://x.example/feed", FetchedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		ContentType: "application/rss+xml", Charset: "iso-8859-1", Timezone: "Europe/Berlin", Body: []byte("<rss/>")}
	out, err := record.RawFromMessage(in.Key, in.Headers(), in.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*out, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", *out, in)
	}
	for _, bad := range [][]record.Header{
		nil,
		{{Key: record.HeaderVersion, Value: "1"}},
		{{Key: record.HeaderVersion, Value: "2"}, {Key: record.HeaderSource, Value: "s"}},
		{{Key: record.HeaderVersion, Value: "1"}, {Key: record.HeaderSource, Value: "s"}, {Key: record.HeaderFetchedAt, Value: "yesterday"}},
	} {
		if _, err := record.RawFromMessage("k", bad, nil); err == nil {
			t.Errorf("RawFromMessage(%v) accepted a bad envelope", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	good := func() *record.Article {
		return &record.Article{SchemaVersion: 1, ID: "i", Source: "s", Format: "textdump", Title: "T", ContentHash: "sha256:0", NormalizedAt: time.Now()}
	}
	tests := []struct {
		name   string
		mutate func(*record.Article)
		want   string
	}{
		{"good", func(*record.Article) {}, ""},
		{"version", func(a *record.Article) { a.SchemaVersion = 2 }, "schema_version"},
		{"id", func(a *record.Article) { a.ID = "" }, "id"},
		{"source", func(a *record.Article) { a.Source = "" }, "source"},
		{"format", func(a *record.Article) { a.Format = "" }, "format"},
		{"no text", func(a *record.Article) { a.Title = " " }, "neither title nor body"},
		{"hash", func(a *record.Article) { a.ContentHash = "" }, "content_hash"},
		{"time", func(a *record.Article) { a.NormalizedAt = time.Time{} }, "normalized_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := good()
			tt.mutate(a)
			err := a.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestSchemaMatchesStruct checks that the JSON Schema and the Go type name
// the same fields, so neither drifts from the other.
func TestSchemaMatchesStruct(t *testing.T) {
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(record.Schema, &schema); err != nil {
		t.Fatal(err)
	}
	var inSchema, inStruct []string
	for k := range schema.Properties {
		inSchema = append(inSchema, k)
	}
	rt := reflect.TypeOf(record.Article{})
	for i := range rt.NumField() {
		inStruct = append(inStruct, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
	}
	sort.Strings(inSchema)
	sort.Strings(inStruct)
	if !reflect.DeepEqual(inSchema, inStruct) {
		t.Errorf("schema properties %v\nstruct fields     %v", inSchema, inStruct)
	}
}
