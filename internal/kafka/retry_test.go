package kafka

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRetryCounters checks that a consumer's retries are counted by
// operation under the stage's metric names, and exported from the start.
func TestRetryCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := &Consumer{}
	c.retried("fetch") // no callback yet: nothing happens
	c.OnRetry(RetryCounters(reg, "normalize"))
	want := `
# HELP wirefeed_normalize_commit_retries_total Offset commits to Kafka that failed and were retried with backoff (a broker or the group coordinator restarting, a rebalance).
# TYPE wirefeed_normalize_commit_retries_total counter
wirefeed_normalize_commit_retries_total 0
# HELP wirefeed_normalize_fetch_retries_total Fetches from Kafka that failed and were retried with backoff (a broker or the group coordinator restarting, a rebalance).
# TYPE wirefeed_normalize_fetch_retries_total counter
wirefeed_normalize_fetch_retries_total 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	c.retried("fetch")
	c.retried("fetch")
	c.retried("commit")
	c.retried("unknown")
	want = strings.NewReplacer("commit_retries_total 0", "commit_retries_total 1", "fetch_retries_total 0", "fetch_retries_total 2").Replace(want)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
