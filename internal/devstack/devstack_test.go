package devstack

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// demoConfig returns the demo's configuration from its flags' defaults,
// on a fresh data folder.
func demoConfig(t testing.TB) Config {
	t.Helper()
	var c Config
	c.RegisterFlags(flag.NewFlagSet("devstack", flag.ContinueOnError))
	c.DataDir = t.TempDir()
	c.Serve = false
	c.Timeout = 90 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// jsonStrings collects every string in a decoded JSON value.
func jsonStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			jsonStrings(e, out)
		}
	case map[string]any:
		for _, e := range x {
			jsonStrings(e, out)
		}
	}
}

// damage is what a record must not hold once repaired: typical mojibake of
// UTF-8 read as a Windows code page, and the wire end mark.
var damage = []string{"â€", "Ã©", "Ã¶", "â–", "■"}

func TestRunDemo(t *testing.T) {
	t.Parallel()
	cfg := demoConfig(t)
	// Leftovers of an earlier run are cleared at start.
	for _, p := range []string{"spool/stale.txt", "archive/articles/v1/old.ndjson.gz"} {
		p = filepath.Join(cfg.DataDir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("URL : http://old.example/1\nTitle : Old\nArticle :\nOld.\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	sum, err := Run(ctx, cfg, zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)), &out)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("Run without Serve wrote %q, want nothing (the caller prints the summary)", out.String())
	}
	if sum.Samples != 24 || sum.Ingested != 24 || sum.Normalized != 21 || sum.DeadLettered != 3 || len(sum.Objects) == 0 {
		t.Fatalf("summary: samples %d, ingested %d, normalized %d, dead-lettered %d, objects %d; want 24, 24, 21, 3, > 0",
			sum.Samples, sum.Ingested, sum.Normalized, sum.DeadLettered, len(sum.Objects))
	}
	if sum.ArchiveDir != filepath.Join(cfg.DataDir, "archive") || sum.SpoolDir != filepath.Join(cfg.DataDir, "spool") || sum.Broker == "" {
		t.Errorf("summary folders %q, %q, broker %q; want DATA/archive, DATA/spool and an address", sum.ArchiveDir, sum.SpoolDir, sum.Broker)
	}

	ids := map[string]string{}
	data := 0
	for _, key := range sum.Objects {
		if strings.Contains(key, "/_") {
			continue // the sink's own state and manifests, not archived records
		}
		data++
		if !strings.HasPrefix(key, "articles/v1/dt=") || !strings.HasSuffix(key, ".ndjson.gz") {
			t.Errorf("object %s: want articles/v1/dt=.../*.ndjson.gz", key)
			continue
		}
		f, err := os.Open(filepath.Join(sum.ArchiveDir, filepath.FromSlash(key)))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			line := sc.Bytes()
			recordtest.Validate(t, line)
			a, err := record.Unmarshal(line)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if prev, ok := ids[a.ID]; ok {
				t.Errorf("record %s (%s) archived twice: in %s and %s", a.ID, a.SourceID, prev, key)
			}
			ids[a.ID] = key
			if !strings.Contains(key, "/source="+a.Source+"/") {
				t.Errorf("record %s of source %s in %s", a.SourceID, a.Source, key)
			}
			var v any
			if err := json.Unmarshal(line, &v); err != nil {
				t.Fatal(err)
			}
			var texts []string
			jsonStrings(v, &texts)
			for _, s := range texts {
				for _, d := range damage {
					if strings.Contains(s, d) {
						t.Errorf("record %s (%s) still holds %q in %q", a.SourceID, a.Source, d, s)
					}
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		f.Close()
	}
	if data == 0 {
		t.Errorf("no data objects among %q", sum.Objects)
	}
	if len(ids) != 21 {
		t.Errorf("archive holds %d distinct records, want 21", len(ids))
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "archive", "articles", "v1", "old.ndjson.gz")); err == nil {
		t.Errorf("the old archive was not cleared at start")
	}
	spool, err := os.ReadDir(sum.SpoolDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range spool {
		if e.Type().IsRegular() {
			t.Errorf("spool still holds %s", e.Name())
		}
	}
	if done, _ := os.ReadDir(filepath.Join(sum.SpoolDir, "done")); len(done) != 24 {
		t.Errorf("spool done/ holds %d files, want 24", len(done))
	}

	var printed bytes.Buffer
	sum.Print(&printed)
	for _, want := range []string{"samples dropped in spool   24", "ingested (raw topic)       24", "normalized (records topic) 21", "dead-lettered              3", sum.Objects[0]} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("Print lacks %q:\n%s", want, printed.String())
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	cfg := demoConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg, zap.NewNop(), io.Discard); err == nil {
		t.Errorf("Run on a cancelled context: got nil, want an error")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "no data", change: func(c *Config) { c.DataDir = "" }, wantErr: "--data is empty"},
		{name: "negative port", change: func(c *Config) { c.BrokerPort = -1 }, wantErr: "--broker.port"},
		{name: "port too large", change: func(c *Config) { c.BrokerPort = 65536 }, wantErr: "--broker.port"},
		{name: "highest port", change: func(c *Config) { c.BrokerPort = 65535 }},
		{name: "zero partitions", change: func(c *Config) { c.Partitions = 0 }, wantErr: "--partitions"},
		{name: "zero timeout", change: func(c *Config) { c.Timeout = 0 }, wantErr: "--timeout"},
		{name: "bad log format", change: func(c *Config) { c.Telemetry.LogFormat = "xml" }, wantErr: "--log.format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.RegisterFlags(flag.NewFlagSet("devstack", flag.ContinueOnError))
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: got %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate: got %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}
