// Package recordtest checks, in tests, that what the project emits is a
// valid record: every test that produces articles runs them through
// Validate, against the JSON Schema shipped in pkg/record.
package recordtest

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wirefeed/wirefeed/pkg/record"
)

var (
	once   sync.Once
	schema *jsonschema.Schema
	errC   error
)

func compiled() (*jsonschema.Schema, error) {
	once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(record.Schema))
		if err != nil {
			errC = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		const url = "https://github.com/wirefeed/wirefeed/pkg/record/article.v1.schema.json"
		if errC = c.AddResource(url, doc); errC != nil {
			return
		}
		schema, errC = c.Compile(url)
	})
	return schema, errC
}

// Validate fails the test unless b, a JSON article, validates against the
// schema.
func Validate(t testing.TB, b []byte) {
	t.Helper()
	sch, err := compiled()
	if err != nil {
		t.Fatalf("compile article schema: %v", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("article is not JSON: %v\n%s", err, b)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("article does not validate against the schema: %v\n%s", err, b)
	}
}

// ValidateArticle marshals a and validates it.
func ValidateArticle(t testing.TB, a *record.Article) {
	t.Helper()
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	Validate(t, b)
}

// SharedDir returns the folder name (e.g. "seeds" or "corpus") of the shared
// test material that sits beside the repository, looked up from the test's
// working directory upwards, or skips the test with a clear message when it
// is absent (as on a user's clone).
func SharedDir(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", name)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("shared/%s not found beside the repository; this test reads the shared test material at run time", name)
		}
		dir = parent
	}
}
