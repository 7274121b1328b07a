package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/blobtest"
	"github.com/wirefeed/wirefeed/internal/clitest"
	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// bin is the command under test, built once for the package.
var bin = clitest.New("sink")

func TestMain(m *testing.M) { bin.Main(m) }

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--help", "-h"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			new(sink.Config).RegisterFlags(fs)
			bin.CheckHelp(t, clitest.Input{}, []string{arg}, "Usage: sink [flags]", fs)
		})
	}
}

func TestBadFlagsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     []string
		wantErr string
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "bucket not a URL", args: []string{"--bucket=./archive"}, wantErr: `--bucket "./archive" is not a URL`},
		{name: "prefix with slash", args: []string{"--prefix=/articles"}, wantErr: `--prefix "/articles"`},
		{name: "zero max-records", args: []string{"--batch.max-records=0"}, wantErr: "--batch.max-records must be at least 1"},
		{name: "bad max-age", args: []string{"--batch.max-age=60"}, wantErr: "-batch.max-age"},
		{name: "bad compression", args: []string{"--compression=brotli"}, wantErr: `--compression "brotli"`},
		{name: "no group", args: []string{"--group="}, wantErr: "--group is empty"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "bad env value", env: []string{"WIREFEED_BATCH_MAX_RECORDS=lots"}, wantErr: "WIREFEED_BATCH_MAX_RECORDS"},
		{name: "bad env bound", env: []string{"WIREFEED_BATCH_MAX_BYTES=10"}, wantErr: "--batch.max-bytes must be at least 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			archive := filepath.Join(t.TempDir(), "archive")
			args := append([]string{"--kafka.brokers=127.0.0.1:1", "--http.addr=" + clitest.FreeAddr(t), "--bucket=file://" + archive + "?create_dir=true"}, tt.args...)
			bin.CheckRefused(t, clitest.Input{Env: tt.env}, args, tt.wantErr)
			if _, err := os.Stat(archive); err == nil {
				t.Errorf("sink %q: opened the bucket before refusing its flags", args)
			}
		})
	}
}

var bufferedRe = regexp.MustCompile(`(?m)^wirefeed_sink_buffered_bytes (\S+)$`)

// TestSIGTERMStopsCleanly stops the sink while it holds a record in a batch
// far from its bounds: the record is archived before the process exits 0.
func TestSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	addr := clitest.FreeAddr(t)
	archive := t.TempDir()
	topic := kafkatest.Name(t, "records")
	s := bin.Start(t, clitest.Input{}, "--kafka.brokers="+strings.Join(brokers, ","), "--kafka.partitions=1", "--http.addr="+addr,
		"--lag.interval=200ms", "--batch.max-age=1h", "--bucket=file://"+archive,
		"--topic.records="+topic, "--topic.dead-letter="+kafkatest.Name(t, "dlq"), "--group="+kafkatest.Name(t, "group"))
	s.WaitReady(t, addr)

	var kc kafka.Config
	kc.RegisterFlags(flag.NewFlagSet("kafka", flag.ContinueOnError))
	kc.Brokers = flagenv.Strings(brokers)
	a := &record.Article{SchemaVersion: record.SchemaVersion, ID: record.NewID("alpha", "A1", ""), Source: "alpha", SourceID: "A1",
		Format: "textdump", Title: "A title", Body: []string{"A paragraph."},
		PublishedAt: time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC), NormalizedAt: time.Now().UTC()}
	a.ContentHash = record.Hash(a.Title, a.Body, nil)
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w := kafka.NewWriter(&kc, topic, zap.NewNop())
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Write(ctx, nil, kafka.Message{Key: []byte(a.ID), Value: b}); err != nil {
		t.Fatal(err)
	}

	kafkatest.WaitFor(t, "the record buffered", func() (bool, string) {
		g := bufferedRe.FindStringSubmatch(clitest.Metrics(t, addr))
		return g != nil && g[1] != "0", s.Output()
	})
	if n := archived(t, archive); len(n) != 0 {
		t.Fatalf("archived before SIGTERM with max-age 1h: %d records", len(n))
	}

	if code := s.Stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0\n%s", code, s.Output())
	}
	if !clitest.HasLog(s.Output(), "stopped") {
		t.Errorf("no \"stopped\" log line after SIGTERM:\n%s", s.Output())
	}
	if got := archived(t, archive); len(got) != 1 || !strings.Contains(got[0], `"title":"A title"`) {
		t.Errorf("archive after SIGTERM: %q, want the one record", got)
	}
}

// archived returns the records of every object under dir, validated.
func archived(t testing.TB, dir string) []string {
	t.Helper()
	var lines []string
	for _, o := range blobtest.ObjectsAt(t, "file://"+filepath.ToSlash(dir), "") {
		if !strings.HasSuffix(o.Key, ".ndjson.gz") {
			continue
		}
		for _, l := range o.Lines {
			recordtest.Validate(t, l)
			lines = append(lines, string(l))
		}
	}
	return lines
}
