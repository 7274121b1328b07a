package kafka_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

func TestReadRange(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 1)
	topic := newTopic(t, &cfg)
	keys := produce(t, &cfg, topic, 20)
	read := func(from, to int64) (int64, []string) {
		t.Helper()
		var got []string
		start, err := kafka.ReadRange(testCtx(t), cfg.Client(), topic, 0, from, to, func(offset int64, v []byte) error {
			got = append(got, fmt.Sprintf("%d=%s", offset, v))
			return nil
		})
		if err != nil {
			t.Fatalf("ReadRange(%d, %d): %v", from, to, err)
		}
		return start, got
	}
	want := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("%d=value of %s", i, keys[i]))
		}
		return out
	}
	for _, tt := range []struct {
		name            string
		from, to        int64
		start, wantFrom int64
		wantTo          int
	}{
		{"a middle range", 5, 12, 5, 5, 12},
		{"from before the log", -100, 3, 0, 0, 3},
		{"empty", 7, 7, 7, 7, 7},
		{"past the end", 18, 40, 18, 18, 20},
	} {
		start, got := read(tt.from, tt.to)
		if w := want(int(tt.wantFrom), tt.wantTo); start != tt.start || !slices.Equal(got, w) {
			t.Errorf("%s: ReadRange(%d, %d) started at %d and read %q; want %d and %q", tt.name, tt.from, tt.to, start, got, tt.start, w)
		}
	}

	// Retention took offsets 0-7: reading from 2 starts at 8.
	kafkatest.DeleteRecords(t, &cfg, topic, 0, 8)
	start, got := read(2, 11)
	if w := want(8, 11); start != 8 || !slices.Equal(got, w) {
		t.Errorf("after retention: ReadRange(2, 11) started at %d and read %q; want 8 and %q", start, got, w)
	}
}
