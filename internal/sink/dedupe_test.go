package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
		{"without raw", `,"raw":{"topic":"raw","partition":0,"offset":7}`, ``, true},
		{"members in another order", `"id":"a1","source":"wire"`, `"source":"wire","id":"a1"`, true},
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
// reads every JSON object, and that the order of its members and the
// spaces between them do not change the identity.
func FuzzRecordIdentity(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, ` { "a" : [1, {"b":"c\"}"}] , "raw":{"offset":7} } `,
		`{"title":"T\\","body":["p","q"],"normalized_at":"2024-02-04T00:00:01Z"}`,
		`{"a":{"b":{"c":[[],{}]}},"d":null,"e":true,"f":-1.5e3}`, `[1]`, `{"a":`, `{"a" 1}`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := recordIdentity(b)
		valid := json.Valid(b) && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
		if valid && err != nil && !errors.Is(err, errNoIdentity) {
			t.Fatalf("recordIdentity(%q): %v, on a JSON object", b, err)
		}
		if !valid || err != nil {
			return
		}
		ms, err := appendMembers(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		// The members the other way round, spaced otherwise.
		var r bytes.Buffer
		r.WriteString("{ ")
		for i := len(ms) - 1; i >= 0; i-- {
			fmt.Fprintf(&r, "\"%s\" :\t%s", ms[i].key, ms[i].value)
			if i > 0 {
				r.WriteString(" ,\n")
			}
		}
		r.WriteString("}")
		if id2, err := recordIdentity(r.Bytes()); err != nil || id2 != id {
			t.Errorf("%q and %q: identity differs (%v)", b, r.Bytes(), err)
		}
	})
}

// TestRecordIdentityNone checks the records that have no identity: they
// are archived as any other (never taken for a duplicate), not
// dead-lettered.
func TestRecordIdentityNone(t *testing.T) {
	const base = `"schema_version":1,"id":"x","source":"s","format":"f","title":"A","body":["p"],"content_hash":"h","normalized_at":"2024-02-04T00:00:01Z"`
	deep := strings.Repeat("[", 70) + strings.Repeat("]", 70)
	for _, tt := range []struct{ name, in string }{
		// A decoder keeps one of the two titles, and which one depends on
		// their order: two such records would hash the same.
		{"a key given twice", `{` + base + `,"title":"B"}`},
		{"nested too deep", `{` + base + `,"ext":` + deep + `}`},
		// Decoders read "\u0074itle" and "Title" as "title".
		{"an escaped key", `{` + base + `,"\u0074itle":"B"}`},
		{"an upper-case key", `{` + base + `,"Title":"B"}`},
		{"a non-ASCII key", `{` + base + `,"tĩtle":"B"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _, ok, err := decodeRecord([]byte(tt.in), true)
			if err != nil || a == nil {
				t.Fatalf("decodeRecord: %v; want the record accepted", err)
			}
			if ok {
				t.Errorf("decodeRecord gave an identity")
			}
		})
	}
}
