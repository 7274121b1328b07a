package main

import (
	"os"
	"testing"
	"time"
)

// TestWriteSection rewrites the section in a file with sections before and
// after it, keeping its findings, and appends it to a file without it.
func TestWriteSection(t *testing.T) {
	path := t.TempDir() + "/benchmarks.md"
	old := "# Benchmarks\n\n## Before\n\ntext\n\n" + sectionTitle + "\n\nold numbers\n\n" + findingsTitle + "\n\n- a finding\n\n## After\n\nmore\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, sectionTitle+"\n\nnew numbers\n\n### Notes\n\n- note\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# Benchmarks\n\n## Before\n\ntext\n\n" + sectionTitle + "\n\nnew numbers\n\n### Notes\n\n- note\n\n" + findingsTitle + "\n\n- a finding\n\n## After\n\nmore\n"
	if string(got) != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
	os.WriteFile(path, []byte("# Benchmarks\n\n## Other\n\nx\n"), 0o644)
	if err := writeSection(path, sectionTitle+"\n\nnumbers\n"); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(path)
	if want := "# Benchmarks\n\n## Other\n\nx\n\n" + sectionTitle + "\n\nnumbers\n"; string(got) != want {
		t.Errorf("appended:\n%q\nwant:\n%q", got, want)
	}
}

// TestHistogramQuantiles reads quantiles out of Prometheus text the way
// histogram_quantile does, and subtracts an earlier scrape.
func TestHistogramQuantiles(t *testing.T) {
	const m = "wirefeed_sink_end_to_end_latency_seconds"
	text := m + "_bucket{le=\"0.5\"} 0\n" + m + "_bucket{le=\"1\"} 50\n" + m + "_bucket{le=\"2\"} 100\n" + m + "_bucket{le=\"+Inf\"} 100\n"
	before := m + "_bucket{le=\"0.5\"} 0\n" + m + "_bucket{le=\"1\"} 50\n" + m + "_bucket{le=\"2\"} 50\n" + m + "_bucket{le=\"+Inf\"} 50\n"
	for _, tc := range []struct {
		name         string
		text, before string
		want         latency
	}{
		{"all", text, "", latency{p50: time.Second, p99: 1980 * time.Millisecond, n: 100}},
		{"since before", text, before, latency{p50: 1500 * time.Millisecond, p99: 1990 * time.Millisecond, n: 50}},
		{"empty", "", "", latency{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := histogramQuantiles(tc.text, tc.before, m); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
