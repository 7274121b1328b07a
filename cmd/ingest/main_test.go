package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/clitest"
	"github.com/wirefeed/wirefeed/internal/ingest"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// bin is the command under test, built once for the package.
var bin = clitest.New("ingest")

func TestMain(m *testing.M) { bin.Main(m) }

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--help", "-h", "-help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			new(ingest.Config).RegisterFlags(fs)
			bin.CheckHelp(t, clitest.Input{}, []string{arg}, "Usage: ingest --spool DIR [flags]", fs)
		})
	}
}

func TestBadFlagsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     []string
		noSpool bool
		wantErr string
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "no spool", noSpool: true, wantErr: "--spool is required"},
		{name: "bad int", args: []string{"--spool.batch=many"}, wantErr: `invalid value "many" for flag -spool.batch`},
		{name: "bad duration", args: []string{"--spool.settle=2"}, wantErr: "-spool.settle"},
		{name: "zero batch", args: []string{"--spool.batch=0"}, wantErr: "--spool.batch must be at least 1"},
		{name: "zero poll", args: []string{"--spool.poll=0s"}, wantErr: "--spool.poll must be positive"},
		{name: "bad source", args: []string{"--spool.source=Wire Service"}, wantErr: `--spool.source "Wire Service"`},
		{name: "item larger than a message", args: []string{"--max-item-bytes=99999999"}, wantErr: "--max-item-bytes"},
		{name: "bad compression", args: []string{"--kafka.compression=brotli"}, wantErr: `--kafka.compression "brotli"`},
		{name: "bad log format", args: []string{"--log.format=xml"}, wantErr: "--log.format"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "bad env value", env: []string{"WIREFEED_SPOOL_SETTLE=soon"}, wantErr: "WIREFEED_SPOOL_SETTLE"},
		{name: "bad env bound", env: []string{"WIREFEED_SPOOL_BATCH=0"}, wantErr: "--spool.batch must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spool := filepath.Join(t.TempDir(), "spool")
			args := []string{"--kafka.brokers=127.0.0.1:1", "--http.addr=" + clitest.FreeAddr(t)}
			if !tt.noSpool {
				args = append(args, "--spool="+spool)
			}
			args = append(args, tt.args...)
			bin.CheckRefused(t, clitest.Input{Env: tt.env}, args, tt.wantErr)
			if _, err := os.Stat(spool); err == nil {
				t.Errorf("ingest %q: created the spool folder before refusing its flags", args)
			}
		})
	}
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	brokers := strings.Join(kafkatest.Brokers(t), ",")
	addr := clitest.FreeAddr(t)
	spool := t.TempDir()
	s := bin.Start(t, clitest.Input{}, "--spool", spool, "--kafka.brokers", brokers, "--kafka.partitions=1", "--http.addr", addr,
		"--topic.raw="+kafkatest.Name(t, "raw"), "--spool.poll=50ms")
	s.WaitReady(t, addr)

	// Drop an item as a feed writer would, and see it published.
	tmp := filepath.Join(spool, ".item.txt.tmp")
	if err := os.WriteFile(tmp, []byte("Title : A\nArticle :\nB.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(spool, "item.txt")); err != nil {
		t.Fatal(err)
	}
	kafkatest.WaitFor(t, "item.txt moved to done/", func() (bool, string) {
		_, err := os.Stat(filepath.Join(spool, "done", "item.txt"))
		return err == nil, s.Output()
	})
	if want := `wirefeed_ingest_items_total{result="published",source="spool"} 1`; !strings.Contains(clitest.Metrics(t, addr), want) {
		t.Errorf("/metrics does not show %s", want)
	}

	if code := s.Stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0\n%s", code, s.Output())
	}
	if !clitest.HasLog(s.Output(), "stopped") {
		t.Errorf("no \"stopped\" log line after SIGTERM:\n%s", s.Output())
	}
}
