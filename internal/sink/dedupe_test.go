package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestWindow feeds identities at offsets and checks which are duplicates:
// a record is one when a record of the size messages before it had its
// identity, whatever happened to that one.
func TestWindow(t *testing.T) {
	a, b, c := identity{1}, identity{2}, identity{3}
	type feed struct {
		id     identity
		offset int64
		dup    bool
	}
	for _, tt := range []struct {
		name  string
		size  int64
		feeds []feed
	}{
		{"first of each is kept", 10, []feed{{a, 0, false}, {b, 1, false}, {c, 2, false}}},
		{"again within the window", 10, []feed{{a, 0, false}, {b, 1, false}, {a, 2, true}, {b, 11, true}}},
		{"exactly size messages before", 3, []feed{{a, 0, false}, {a, 3, true}}},
		{"one more than size before", 3, []feed{{a, 0, false}, {a, 4, false}}},
		{"a duplicate renews the window", 3, []feed{{a, 0, false}, {a, 3, true}, {a, 6, true}, {a, 10, false}}},
		{"offsets with holes", 5, []feed{{a, 100, false}, {b, 103, false}, {a, 105, true}, {b, 109, false}}},
		{"same offset fed again changes nothing", 5, []feed{{a, 0, false}, {a, 0, false}, {a, 1, true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindow(tt.size)
			for _, f := range tt.feeds {
				if got := w.seen(f.id, f.offset); got != f.dup {
					t.Errorf("seen(%v, %d) = %v, want %v", f.id[0], f.offset, got, f.dup)
				}
			}
		})
	}
}

// TestWindowForgets checks that the window holds no more than its size,
// however many records pass.
func TestWindowForgets(t *testing.T) {
	w := newWindow(100)
	for i := range int64(100000) {
		var id identity
		id[0], id[1], id[2] = byte(i), byte(i>>8), byte(i>>16)
		if w.seen(id, i) {
			t.Fatalf("offset %d: a new identity taken for a duplicate", i)
		}
	}
	if n := w.len(); n > 101 {
		t.Errorf("window of 100 remembers %d identities", n)
	}
	if len(w.order)-w.head > 101 || cap(w.order) > 4096 {
		t.Errorf("window of 100 keeps %d entries in a slice of capacity %d", len(w.order)-w.head, cap(w.order))
	}
}

func TestRecordIdentity(t *testing.T) {
	const rec = `{"schema_version":1,"id":"a1","source":"wire","title":"T","body":["p"],"content_hash":"h",` +
		`"ingested_at":"2024-02-04T00:00:00Z","normalized_at":"2024-02-04T00:00:01Z","raw":{"topic":"raw","partition":0,"offset":7}}`
	base, err := recordIdentity([]byte(rec))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, old, new string
		same           bool
	}{
		{"normalized again", `"normalized_at":"2024-02-04T00:00:01Z"`, `"normalized_at":"2025-01-01T00:00:00Z"`, true},
		{"ingested again", `"ingested_at":"2024-02-04T00:00:00Z"`, `"ingested_at":"2024-02-05T00:00:00Z"`, true},
		{"from another raw message", `"offset":7`, `"offset":8`, true},
		{"without raw", `,"raw":{"topic":"raw","partition":0,"offset":7}`, ``, false},
		{"provenance in another place", `"title":"T","body"`, `"raw":{"offset":1},"title":"T","body"`, false},
		{"members in another order", `"id":"a1","source":"wire"`, `"source":"wire","id":"a1"`, false},
		{"spaced otherwise", `"id":"a1","source":"wire"`, `"id":"a1", "source":"wire"`, false},
		{"a key spelled otherwise", `"title":"T"`, `"\u0074itle":"T"`, false},
		{"another title", `"title":"T"`, `"title":"U"`, false},
		{"another body", `"body":["p"]`, `"body":["p","q"]`, false},
		{"a member added", `"title":"T"`, `"title":"T","byline":"B"`, false},
		{"a value moved to another member", `"title":"T","body":["p"]`, `"title":"Tp","body":[]`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			changed := strings.Replace(rec, tt.old, tt.new, 1)
			if changed == rec {
				t.Fatalf("%q not in the record", tt.old)
			}
			id, err := recordIdentity([]byte(changed))
			if err != nil {
				t.Fatal(err)
			}
			if (id == base) != tt.same {
				t.Errorf("same identity = %v, want %v", id == base, tt.same)
			}
		})
	}
	for _, bad := range []string{``, `[1]`, `{"id":`, `"text"`} {
		if _, err := recordIdentity([]byte(bad)); err == nil {
			t.Errorf("recordIdentity(%q): no error", bad)
		}
	}
}

// BenchmarkDecodeRecord compares the decoding every record gets with the
// identity hashing the dedupe window adds, on a record of typical size.
func BenchmarkDecodeRecord(b *testing.B) {
	body := strings.Repeat(`"A paragraph of a wire story, with some words in it, and a number, 1,234.",`, 40)
	rec := []byte(`{"schema_version":1,"id":"0123456789abcdef0123456789abcdef","source":"wire","source_id":"S1","format":"textdump",` +
		`"title":"A title","published_at":"2024-02-01T08:30:00+01:00","language":"en","body":[` + body + `"end"],` +
		`"fixes":["mojibake:cp1252"],"content_hash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",` +
		`"ingested_at":"2024-02-04T00:00:00Z","normalized_at":"2024-02-04T00:00:01Z","raw":{"topic":"raw","partition":0,"offset":7}}`)
	for _, identify := range []bool{false, true} {
		b.Run(map[bool]string{false: "head", true: "head+identity"}[identify], func(b *testing.B) {
			b.SetBytes(int64(len(rec)))
			for b.Loop() {
				if _, _, _, err := decodeRecord(rec, identify); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzRecordIdentity checks that reading a record's members never panics,
// reads every JSON object, and that a provenance member changes nothing in
// the identity while any other member does.
func FuzzRecordIdentity(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, ` { "a" : [1, {"b":"c\"}"}] , "raw":{"offset":7} } `,
		`{"title":"T\\","body":["p","q"],"normalized_at":"2024-02-04T00:00:01Z"}`,
		`{"a":{"b":{"c":[[],{}]}},"d":null,"e":true,"f":-1.5e3}`, `[1]`, `{"a":`, `{"a" 1}`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := recordIdentity(b)
		valid := json.Valid(b) && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
		if valid && err != nil && !errors.Is(err, errNoIdentity) {
			t.Fatalf("recordIdentity(%q): %v, on a JSON object", b, err)
		}
		if !valid || err != nil {
			return
		}
		// The same with a provenance member put in, of two values: one
		// identity; with another member besides: another.
		i := bytes.IndexByte(b, '{') + 1
		with := func(member string) []byte {
			sep := ","
			if bytes.TrimLeft(b[i:], " \t\r\n")[0] == '}' {
				sep = ""
			}
			return append(append(append([]byte{}, b[:i]...), member+sep...), b[i:]...)
		}
		x, errx := recordIdentity(with(`"normalized_at":"2024-01-01T00:00:00Z"`))
		y, erry := recordIdentity(with(`"normalized_at":"2025-06-30T12:00:00Z"`))
		z, errz := recordIdentity(with(`"normalized_at":"2025-06-30T12:00:00Z","zz":1`))
		if errx != nil || erry != nil || errz != nil || x != y {
			t.Errorf("%q: identity changes with normalized_at (%v %v %v)", b, errx, erry, errz)
		}
		if z == y {
			t.Errorf("%q: a member added, the same identity", b)
		}
	})
}

// TestRecordIdentityNone checks that a record too deep to read has no
// identity and is archived as any other (never taken for a duplicate),
// not dead-lettered; and that records which decoders read differently
// (a key given twice, in another order) have different identities.
func TestRecordIdentityNone(t *testing.T) {
	const base = `"schema_version":1,"id":"x","source":"s","format":"f","title":"A","body":["p"],"content_hash":"h","normalized_at":"2024-02-04T00:00:01Z"`
	deep := strings.Repeat("[", 70) + strings.Repeat("]", 70)
	a, _, ok, err := decodeRecord([]byte(`{`+base+`,"ext":`+deep+`}`), true)
	if err != nil || a == nil || ok {
		t.Errorf("nested too deep: decodeRecord gave identity %v, error %v; want the record accepted without one", ok, err)
	}
	for _, pair := range [][2]string{
		{`"title":"A","title":"B"`, `"title":"B","title":"A"`},
		{`"title":"A","\u0074itle":"B"`, `"\u0074itle":"B","title":"A"`},
		{`"title":"A","Title":"B"`, `"Title":"B","title":"A"`},
	} {
		x, errx := recordIdentity([]byte(`{` + base + `,` + pair[0] + `}`))
		y, erry := recordIdentity([]byte(`{` + base + `,` + pair[1] + `}`))
		if errx != nil || erry != nil || x == y {
			t.Errorf("%s and %s: the same identity (%v, %v)", pair[0], pair[1], errx, erry)
		}
	}
}
