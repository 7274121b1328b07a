package normalize

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// TestHandleKeepsOrderInParallel normalizes one batch on several workers
// and checks that the records topic gets every good item's record in the
// order of the raw items, and the dead-letter topic every broken one.
func TestHandleKeepsOrderInParallel(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			kc := kafkatest.Config(t, 1)
			recordsTopic, deadTopic := kafkatest.Name(t, "records"), kafkatest.Name(t, "dead")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: recordsTopic}, kafka.TopicSpec{Name: deadTopic}); err != nil {
				t.Fatal(err)
			}
			log := zaptest.NewLogger(t)
			out, dlq := kafka.NewWriter(&kc, recordsTopic, log), kafka.NewWriter(&kc, deadTopic, log)
			defer out.Close()
			defer dlq.Close()
			reg := prometheus.NewRegistry()
			h := &handler{n: testNormalizer(), out: out, dlq: dlq, m: newMetrics(reg), workers: workers, log: log}

			const items = 60
			var batch []kafka.Message
			var wantIDs []string
			var wantDead []int64
			for i := range items {
				body := fmt.Sprintf("URL : http://wire.example/%d\nID : WIRE%05d\n\nDate : 2024-02-01 08:00:00\nTitle : Story %d\nArticle :\nPARIS (Wire) -- Story %d, itâ€™s here.\n", i, i, i, i)
				if i%7 == 3 {
					body = "not a text dump at all" // dead-lettered
					wantDead = append(wantDead, int64(i))
				} else {
					wantIDs = append(wantIDs, fmt.Sprintf("WIRE%05d", i))
				}
				r := record.Raw{Key: fmt.Sprintf("wire:%d", i), Source: "wire", Format: "textdump", Origin: "test", FetchedAt: fixedNow, Body: []byte(body)}
				batch = append(batch, kafka.Message{Topic: "raw", Offset: int64(i), Key: []byte(r.Key), Value: r.Body, Headers: kafka.Headers(r.Headers())})
			}
			if err := h.handle(ctx, batch); err != nil {
				t.Fatal(err)
			}

			recs := kafkatest.ReadTopic(t, &kc, recordsTopic)
			if len(recs) != len(wantIDs) {
				t.Fatalf("got %d records, want %d", len(recs), len(wantIDs))
			}
			for i, m := range recs {
				a, err := record.Unmarshal(m.Value)
				if err != nil {
					t.Fatal(err)
				}
				if a.SourceID != wantIDs[i] {
					t.Fatalf("record %d is %s, want %s: order not kept", i, a.SourceID, wantIDs[i])
				}
				if len(a.Fixes) == 0 {
					t.Errorf("record %s: the damaged quote was not reported as fixed", a.SourceID)
				}
			}
			want := fmt.Sprintf(`
# HELP wirefeed_normalize_items_total Raw items consumed, by result (ok, skipped, dead_letter) and source (the envelope's source slug; unknown when the envelope is unreadable).
# TYPE wirefeed_normalize_items_total counter
wirefeed_normalize_items_total{result="dead_letter",source="wire"} %d
wirefeed_normalize_items_total{result="ok",source="wire"} %d
wirefeed_normalize_items_total{result="skipped",source="wire"} 0
`, len(wantDead), len(wantIDs))
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "wirefeed_normalize_items_total"); err != nil {
				t.Error(err)
			}
			dead := kafkatest.ReadTopic(t, &kc, deadTopic)
			if len(dead) != len(wantDead) {
				t.Fatalf("got %d dead letters, want %d", len(dead), len(wantDead))
			}
			for i, m := range dead {
				if want := fmt.Sprintf("wire:%d", wantDead[i]); string(m.Key) != want {
					t.Errorf("dead letter %d has key %s, want %s", i, m.Key, want)
				}
			}
		})
	}
}
