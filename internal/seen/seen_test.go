package seen

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// open creates the topic if needed and starts a Set on it, stopped when the
// test ends.
func open(t testing.TB, kc *kafka.Config, topic string) *Set {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := kafka.EnsureTopics(ctx, kc, TopicSpec(topic, 0)); err != nil {
		t.Fatal(err)
	}
	s := New(kc, topic, nil, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	catchUp(t, s)
	return s
}

func catchUp(t testing.TB, s *Set) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
}

func mark(t testing.TB, s *Set, ms ...Marker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Mark(ctx, nil, ms...); err != nil {
		t.Fatal(err)
	}
}

func TestTopicSpec(t *testing.T) {
	t.Parallel()
	if got := TopicSpec("s", 0).Configs; len(got) != 1 || got["cleanup.policy"] != "compact" {
		t.Errorf("no retention: %v, want cleanup.policy=compact only", got)
	}
	if got := TopicSpec("s", 48*time.Hour).Configs; got["cleanup.policy"] != "compact,delete" || got["retention.ms"] != "172800000" {
		t.Errorf("48h retention: %v, want compact,delete and retention.ms=172800000", got)
	}
}

func TestFingerprintRoundTrip(t *testing.T) {
	t.Parallel()
	f := FingerprintOf([]byte("item"))
	got, err := ParseFingerprint(f.String())
	if err != nil || got != f {
		t.Fatalf("ParseFingerprint(%q) = %v, %v; want %v", f.String(), got, err, f)
	}
	for _, bad := range []string{"", "sha256:", "md5:00", "sha256:zz" + f.String()[9:], f.String() + "00"} {
		if _, err := ParseFingerprint(bad); err == nil {
			t.Errorf("ParseFingerprint(%q): no error", bad)
		}
	}
}

func TestSetSurvivesRestart(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 3)
	topic := kafkatest.Name(t, "seen")
	a := open(t, &kc, topic)
	v1, v2 := FingerprintOf([]byte("v1")), FingerprintOf([]byte("v2"))
	if st := a.Lookup("src:1", v1); st != Unseen {
		t.Fatalf("empty set: Lookup = %v, want unseen", st)
	}
	mark(t, a, Marker{"src:1", v1}, Marker{"src:2", v1})
	if st := a.Lookup("src:1", v1); st != Same {
		t.Errorf("after Mark: Lookup(src:1, v1) = %v, want same", st)
	}
	if st := a.Lookup("src:1", v2); st != Changed {
		t.Errorf("after Mark: Lookup(src:1, v2) = %v, want changed", st)
	}
	mark(t, a, Marker{"src:2", v2})

	// A new Set on the same topic, as after a restart, reads it all.
	b := open(t, &kc, topic)
	tests := []struct {
		key  string
		f    Fingerprint
		want State
	}{
		{"src:1", v1, Same},
		{"src:1", v2, Changed},
		{"src:2", v2, Same},
		{"src:2", v1, Changed},
		{"src:3", v1, Unseen},
	}
	for _, tt := range tests {
		if got := b.Lookup(tt.key, tt.f); got != tt.want {
			t.Errorf("after restart: Lookup(%s, %v) = %v, want %v", tt.key, tt.f, got, tt.want)
		}
	}
	if b.Len() != 2 {
		t.Errorf("after restart: Len = %d, want 2", b.Len())
	}
}

// TestSetSeesOtherReplicas: a marker written by one Set is in another Set
// on the same topic after CatchUp.
func TestSetSeesOtherReplicas(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 3)
	topic := kafkatest.Name(t, "seen")
	a := open(t, &kc, topic)
	b := open(t, &kc, topic)
	for i := range 20 {
		key := fmt.Sprintf("src:%d", i)
		mark(t, a, Marker{key, FingerprintOf([]byte(key))})
		catchUp(t, b)
		if st := b.Lookup(key, FingerprintOf([]byte(key))); st != Same {
			t.Fatalf("replica b after CatchUp: Lookup(%s) = %v, want same", key, st)
		}
	}
}

func TestSetTombstoneAndForeignValue(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 1)
	topic := kafkatest.Name(t, "seen")
	a := open(t, &kc, topic)
	f := FingerprintOf([]byte("x"))
	mark(t, a, Marker{"src:gone", f})
	w := kafka.NewWriter(&kc, topic, zap.NewNop())
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Write(ctx, nil, kafka.Message{Key: []byte("src:gone")}, kafka.Message{Key: []byte("src:foreign"), Value: []byte("not a fingerprint")}); err != nil {
		t.Fatal(err)
	}
	b := open(t, &kc, topic)
	if st := b.Lookup("src:gone", f); st != Unseen {
		t.Errorf("key with a tombstone: %v, want unseen", st)
	}
	if st := b.Lookup("src:foreign", f); st != Changed {
		t.Errorf("key with an unreadable marker: %v, want changed (published in some version)", st)
	}
}

// BenchmarkSetMemory reports the heap the in-memory set takes per key.
func BenchmarkSetMemory(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := make(map[keyHash]uint64)
		for i := range n {
			k := fmt.Sprintf("some-agency:https://news.example.com/2026/11/story-%d.html", i)
			m[hashKey(k)] = short(FingerprintOf([]byte(k)))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/key")
		runtime.KeepAlive(m)
	}
}

// TestCatchUpConcurrent: many callers catching up at once share listings,
// and each still sees every marker written before its call.
func TestCatchUpConcurrent(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 3)
	topic := kafkatest.Name(t, "seen")
	a := open(t, &kc, topic)
	b := open(t, &kc, topic)
	errs := make(chan error, 100)
	for i := range 100 {
		go func() {
			key := fmt.Sprintf("src:%d", i)
			f := FingerprintOf([]byte(key))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := a.Mark(ctx, nil, Marker{key, f}); err != nil {
				errs <- err
				return
			}
			if err := b.CatchUp(ctx); err != nil {
				errs <- err
				return
			}
			if st := b.Lookup(key, f); st != Same {
				errs <- fmt.Errorf("%s after CatchUp: %v, want same", key, st)
				return
			}
			errs <- nil
		}()
	}
	for range 100 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
