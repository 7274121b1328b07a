package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stageResult is one stage's throughput over its window: from the moment
// its first input was there to the moment its last output was.
type stageResult struct {
	name, what string
	items      int64
	bytes      int64
	from, to   time.Time
	tail       time.Duration // how long after its input was complete the stage was done
}

func (s stageResult) seconds() float64 { return s.to.Sub(s.from).Seconds() }
func (s stageResult) itemsPerSec() float64 {
	return float64(s.items) / s.seconds()
}
func (s stageResult) mbPerSec() float64 { return float64(s.bytes) / 1e6 / s.seconds() }

// latency is a distribution's median and 99th percentile; n is 0 when
// there were no observations.
type latency struct {
	p50, p99 time.Duration
	n        int
}

func percentiles(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(ds)))) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	return latency{p50: at(0.50), p99: at(0.99), n: len(ds)}
}

// latencyRow is one latency, for the burst and for the trickle.
type latencyRow struct {
	what           string
	burst, trickle latency
}

// cpuRow is one process's CPU use during the burst, and its rate (cores)
// in the idle seconds before it.
type cpuRow struct {
	name    string
	seconds float64
	idle    float64
}

// results is everything the report shows.
type results struct {
	date        time.Time
	built       string // what the services were built from
	m           machine
	loadBefore  string
	loadAfter   string
	n           int
	in          *inputs
	trickleRate float64
	interval    time.Duration // of the sampling
	ceil        ceiling
	ob          *observed

	stages    []stageResult
	pipeline  stageResult
	latencies []latencyRow
	cpu       []cpuRow
	cpuWindow float64 // seconds
	steal     float64

	objects       int
	objectRecords int // from the objects' records metadata
	objectBytes   int64
	jsonBytes     int64
	distinct      int
	duplicates    int
	missing       int
	maxModSkew    time.Duration // commit seen minus object LastModified, largest
	fsync         latency       // append and sync a line in the work folder
}

func (r *results) ceilingRate() (items, mb float64, which string) {
	p := float64(r.n) / r.ceil.produce.Seconds()
	c := float64(r.n) / r.ceil.consume.Seconds()
	if p <= c {
		return p, float64(r.in.bytes) / 1e6 / r.ceil.produce.Seconds(), "produce"
	}
	return c, float64(r.in.bytes) / 1e6 / r.ceil.consume.Seconds(), "consume"
}

// seqOf reads the sequence number out of a generated source ID (its last
// six digits), -1 when there is none.
func seqOf(sourceID string) int {
	if len(sourceID) < 6 {
		return -1
	}
	n, err := strconv.Atoi(sourceID[len(sourceID)-6:])
	if err != nil {
		return -1
	}
	return n
}

// analyse turns the observations and the archive into results.
func analyse(r *results, objs []object, recs []archived) {
	ob, in := r.ob, r.in
	n := int64(r.n)
	wantRecords, wantDead := int64(records(in.kinds)), int64(dead(in.kinds))
	first := func(ok func(sample) bool) time.Time {
		t, _ := firstWhen(ob.samples, ok)
		return t
	}

	// Stages, each from its first input to its last output.
	rawFirst := first(func(s sample) bool { return s.raw > 0 })
	rawAll := first(func(s sample) bool { return s.raw >= n })
	recFirst := first(func(s sample) bool { return s.records > 0 })
	recAll := first(func(s sample) bool { return s.records >= wantRecords && s.dlq >= wantDead })
	var jsonBurst int64
	for _, a := range recs {
		if seqOf(a.sourceID) < r.n {
			jsonBurst += a.bytes
		}
	}
	r.stages = []stageResult{
		{name: "ingest", what: "spool folder → raw topic", items: n, bytes: in.bytes, from: ob.t0, to: rawAll, tail: rawAll.Sub(ob.t0.Add(ob.moveTook))},
		{name: "normalize", what: "raw topic → records topic", items: n, bytes: in.bytes, from: rawFirst, to: recAll, tail: recAll.Sub(rawAll)},
		{name: "sink", what: "records topic → S3 objects", items: wantRecords, bytes: jsonBurst, from: recFirst, to: ob.burstEnd, tail: ob.burstEnd.Sub(recAll)},
	}
	r.pipeline = stageResult{name: "pipeline", what: "first spool file → last record archived", items: n, bytes: in.bytes, from: ob.t0, to: ob.burstEnd}

	// When each record was archived: the first sample in which the sink
	// group's committed offset on the record's partition passed the last
	// offset of the record's batch (the sink commits right after writing
	// the batch's objects).
	type key struct {
		p    int
		last int64
	}
	archivedAt := map[key]time.Time{}
	for _, o := range objs {
		k := key{o.partition, o.last}
		if _, ok := archivedAt[k]; ok {
			continue
		}
		at, ok := firstWhen(ob.samples, func(s sample) bool { return s.sinkPart[o.partition] > o.last })
		if ok {
			archivedAt[k] = at
			if skew := at.Sub(o.modTime); skew > r.maxModSkew {
				r.maxModSkew = skew
			}
		}
	}
	var spoolB, normB, sinkB, totalB, endB []time.Duration
	var spoolT, normT, sinkT, totalT, endT []time.Duration
	seen := map[string]int{}
	for _, a := range recs {
		seen[a.sourceID]++
		if seen[a.sourceID] > 1 {
			continue
		}
		at, ok := archivedAt[key{a.partition, a.lastOffset}]
		if !ok {
			continue
		}
		seq := seqOf(a.sourceID)
		if seq < r.n {
			spoolB = append(spoolB, a.ingestedAt.Sub(ob.t0))
			normB = append(normB, a.normalizedAt.Sub(a.ingestedAt))
			sinkB = append(sinkB, at.Sub(a.normalizedAt))
			totalB = append(totalB, at.Sub(a.ingestedAt))
			endB = append(endB, at.Sub(ob.t0))
			continue
		}
		dropped, ok := ob.dropped[fmt.Sprintf("bench-%06d.txt", seq)]
		if !ok {
			continue
		}
		spoolT = append(spoolT, a.ingestedAt.Sub(dropped))
		normT = append(normT, a.normalizedAt.Sub(a.ingestedAt))
		sinkT = append(sinkT, at.Sub(a.normalizedAt))
		totalT = append(totalT, at.Sub(a.ingestedAt))
		endT = append(endT, at.Sub(dropped))
	}
	histB := histogramLatency(ob.burstMetrics["sink"], "")
	histT := histogramLatency(ob.trickleMetrics["sink"], ob.burstMetrics["sink"])
	r.latencies = []latencyRow{
		{"waiting in the spool: ingest read the file (`ingested_at`) − file in the spool", percentiles(spoolB), percentiles(spoolT)},
		{"normalize: `normalized_at` − `ingested_at`", percentiles(normB), percentiles(normT)},
		{"sink: batch archived and committed − `normalized_at`", percentiles(sinkB), percentiles(sinkT)},
		{"ingest to archive: archived − `ingested_at`", percentiles(totalB), percentiles(totalT)},
		{"the same from the sink's histogram `wirefeed_sink_end_to_end_latency_seconds`", histB, histT},
		{"end to end: archived − file in the spool", percentiles(endB), percentiles(endT)},
	}

	// The archive: counts, duplicates, missing items.
	r.objects = len(objs)
	for _, o := range objs {
		r.objectRecords += o.records
		r.objectBytes += o.size
		r.jsonBytes += o.jsonBytes
	}
	r.distinct = len(seen)
	r.duplicates = len(recs) - len(seen)
	r.missing = records(in.kinds) + records(in.trickleK) - r.distinct

	// CPU during the burst.
	r.cpuWindow = ob.cpu1.at.Sub(ob.cpu0.at).Seconds()
	idleWindow := ob.cpu0.at.Sub(ob.idle0.at).Seconds()
	var ours, oursIdle float64
	for _, name := range []string{"ingest", "normalize", "sink", "kafka", "s3", "prometheus", "self"} {
		i0, ok := ob.idle0.procs[name]
		s0, ok0 := ob.cpu0.procs[name]
		s1, ok1 := ob.cpu1.procs[name]
		if !ok || !ok0 || !ok1 {
			continue
		}
		r.cpu = append(r.cpu, cpuRow{name, s1 - s0, (s0 - i0) / idleWindow})
		ours += s1 - s0
		oursIdle += s0 - i0
	}
	// The machine's and the processes' times are read a moment apart: a
	// small negative remainder is that, not negative use.
	r.cpu = append(r.cpu, cpuRow{"other", max(0, ob.cpu1.busy-ob.cpu0.busy-ours), max(0, (ob.cpu0.busy-ob.idle0.busy-oursIdle)/idleWindow)})
	r.steal = ob.cpu1.steal - ob.cpu0.steal
}

// histogramLatency is the sink's end-to-end latency histogram, see
// histogramQuantiles.
func histogramLatency(text, before string) latency {
	return histogramQuantiles(text, before, "wirefeed_sink_end_to_end_latency_seconds")
}

// histogramQuantiles estimates the median and 99th percentile of a
// histogram in a /metrics text, minus the counts of an earlier scrape (if
// given), interpolating linearly within a bucket as Prometheus's
// histogram_quantile does.
func histogramQuantiles(text, before, metric string) latency {
	name := metric + "_bucket"
	les, counts := parseBuckets(text, name)
	if before != "" {
		_, c0 := parseBuckets(before, name)
		for i := range counts {
			if i < len(c0) {
				counts[i] -= c0[i]
			}
		}
	}
	if len(counts) == 0 || counts[len(counts)-1] == 0 {
		return latency{}
	}
	total := counts[len(counts)-1]
	q := func(q float64) time.Duration {
		rank := q * total
		for i, c := range counts {
			if c < rank {
				continue
			}
			if math.IsInf(les[i], 1) {
				return time.Duration(les[i-1] * float64(time.Second))
			}
			lo, below := 0.0, 0.0
			if i > 0 {
				lo, below = les[i-1], counts[i-1]
			}
			frac := 0.0
			if c > below {
				frac = (rank - below) / (c - below)
			}
			return time.Duration((lo + (les[i]-lo)*frac) * float64(time.Second))
		}
		return 0
	}
	return latency{p50: q(0.5), p99: q(0.99), n: int(total)}
}

// parseBuckets reads a histogram's cumulative bucket counts, by upper
// bound, from Prometheus text exposition.
func parseBuckets(text, name string) (les, counts []float64) {
	type bucket struct{ le, count float64 }
	var bs []bucket
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, name+"{") {
			continue
		}
		i := strings.Index(l, `le="`)
		if i < 0 {
			continue
		}
		rest := l[i+4:]
		j := strings.IndexByte(rest, '"')
		le, err1 := strconv.ParseFloat(rest[:j], 64)
		f := strings.Fields(l)
		c, err2 := strconv.ParseFloat(f[len(f)-1], 64)
		if err1 == nil && err2 == nil {
			bs = append(bs, bucket{le, c})
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	for _, b := range bs {
		les, counts = append(les, b.le), append(counts, b.count)
	}
	return les, counts
}

// counter sums a counter's series in a /metrics text whose labels contain
// match (all series when match is empty).
func counter(text, name, match string) float64 {
	var sum float64
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		if match != "" && !strings.Contains(l, match) {
			continue
		}
		f := strings.Fields(l)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// ingestCycles reads ingest's log: for each batch published, when it was
// done (files moved) and how long it took from the start of its produce
// request to then. It returns the time between consecutive batches, the
// part of it before the produce request (reading the files), and the part
// after its start (produce, ledger sync, moves).
func ingestCycles(log string) (cycle, before, took []time.Duration, sizes []int) {
	var prev time.Time
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, `"published spool items"`) {
			continue
		}
		var e struct {
			TS    time.Time `json:"ts"`
			Took  float64   `json:"took"`
			Items int       `json:"items"`
		}
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		if !prev.IsZero() {
			c := e.TS.Sub(prev)
			t := time.Duration(e.Took * float64(time.Second))
			cycle, before, took = append(cycle, c), append(before, c-t), append(took, t)
			sizes = append(sizes, e.Items)
		}
		prev = e.TS
	}
	return cycle, before, took, sizes
}
