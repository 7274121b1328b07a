package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/clitest"
	"github.com/wirefeed/wirefeed/internal/devstack"
)

// bin is the command under test, built once for the package.
var bin = clitest.New("devstack")

func TestMain(m *testing.M) { bin.Main(m) }

// fresh is the input of a run in a fresh working folder, so that a
// default ./data lands there, with env added to the environment.
func fresh(t testing.TB, env []string) clitest.Input {
	return clitest.Input{Env: env, Dir: t.TempDir()}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--help", "-h"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			new(devstack.Config).RegisterFlags(fs)
			fs.String("write-samples", "", "") // main's own
			bin.CheckHelp(t, fresh(t, nil), []string{arg}, "Usage: devstack [flags]", fs)
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
		{name: "bad int", args: []string{"--partitions=x"}, wantErr: `invalid value "x" for flag -partitions`},
		{name: "zero partitions", args: []string{"--partitions=0"}, wantErr: "--partitions must be at least 1"},
		{name: "port out of range", args: []string{"--broker.port=70000"}, wantErr: "--broker.port must be between 0 and 65535"},
		{name: "zero timeout", args: []string{"--timeout=0s"}, wantErr: "--timeout must be positive"},
		{name: "bad log level", args: []string{"--log.level=loud"}, wantErr: "--log.level"},
		{name: "bad env bound", env: []string{"WIREFEED_PARTITIONS=0"}, wantErr: "--partitions must be at least 1"},
		{name: "bad env int", env: []string{"WIREFEED_PARTITIONS=x"}, wantErr: "WIREFEED_PARTITIONS"},
		{name: "bad env duration", env: []string{"WIREFEED_TIMEOUT=5"}, wantErr: "WIREFEED_TIMEOUT"},
		{name: "positional argument", args: []string{"--timeout=30s", "extra", "--data=elsewhere"}, wantErr: "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"--data=" + data}, tt.args...)
			bin.CheckRefused(t, fresh(t, tt.env), args, tt.wantErr)
			if _, err := os.Stat(data); err == nil {
				t.Errorf("devstack %q (env %q): created the data folder before refusing its flags", args, tt.env)
			}
		})
	}
}

func TestWriteSamples(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, stdout, stderr := bin.Run(t, fresh(t, nil), "--write-samples", dir)
	if code != 0 {
		t.Fatalf("devstack --write-samples: exit %d\n%s", code, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 24 || !strings.Contains(stdout, "wrote 24 sample items") {
		t.Errorf("--write-samples wrote %d files and said %q, want 24", len(entries), stdout)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	code, stdout, stderr := bin.Run(t, fresh(t, nil), "--data", data, "--timeout", "90s")
	if code != 0 {
		t.Fatalf("devstack: exit %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{
		"samples dropped in spool   24",
		"ingested (raw topic)       24",
		"normalized (records topic) 21",
		"dead-lettered              3",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	objects := regexp.MustCompile(`(?m)^    (articles/v1/\S+\.ndjson\.gz)$`).FindAllStringSubmatch(stdout, -1)
	if len(objects) == 0 {
		t.Errorf("summary lists no objects:\n%s", stdout)
	}
	for _, m := range objects {
		if _, err := os.Stat(filepath.Join(data, "archive", filepath.FromSlash(m[1]))); err != nil {
			t.Errorf("listed object %s: %v", m[1], err)
		}
	}
}
