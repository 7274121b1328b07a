package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sectionTitle is the heading of this benchmark's section in
// docs/benchmarks.md; the rest of the file belongs to other benchmarks.
const sectionTitle = "## Pipeline on the real stack"

func num(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func pct(part, whole float64) string { return fmt.Sprintf("%.1f%%", 100*part/whole) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// section renders the benchmark's section of docs/benchmarks.md.
func section(r *results) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	in := r.in
	sizes := append([]int(nil), in.sizes...)
	sort.Ints(sizes)
	ceilItems, ceilMB, ceilWhich := r.ceilingRate()
	ratio := r.pipeline.itemsPerSec() / ceilItems

	w("%s\n\n", sectionTitle)
	w("Measured %s by `make bench-pipeline` (`bash bench/pipeline/run.sh`) on %d CPUs (%s), %s, %s; ",
		r.date.UTC().Format("2006-01-02 15:04 MST"), r.m.cpus, r.m.cpuModel, r.m.memory, r.m.goVer)
	w("Apache Kafka %s (one broker, topics of 3 partitions) and the S3 server versitygw %s of `make up`, on the same machine", r.m.kafka, r.m.s3)
	if r.built != "" {
		w("; services built from %s", r.built)
	}
	w(". ")
	w("Load average (1, 5, 15 min) %s before the run, %s after it.\n\n", r.loadBefore, r.loadAfter)

	w("Input: %s text-dump items made from the bundled samples (`internal/demo`), each with its own ID, URL, publication time "+
		"and numbers, and paragraphs of its language added: %s to %s bytes (median %s), %.1f MB in all; %s with mojibake "+
		"(windows-1252 or windows-1251), %s with CRLF line ends and a byte order mark, %s broken (dead-lettered by normalize). "+
		"MB are 10^6 bytes: of raw items, for the sink of record JSON.\n\n",
		num(int64(r.n)), num(int64(sizes[0])), num(int64(sizes[len(sizes)-1])), num(int64(sizes[len(sizes)/2])), float64(in.bytes)/1e6,
		pct(float64(in.kinds[damaged]), float64(r.n)), pct(float64(in.crlf), float64(r.n)), pct(float64(in.kinds[broken]), float64(r.n)))

	w("| Throughput | items/s | MB/s | time | |\n|---|---:|---:|---:|---|\n")
	p, c := r.ceil.produce, r.ceil.consume
	w("| kcat produce to a fresh topic (zstd, acks=all) | %.0f | %.1f | %s | |\n", float64(r.n)/p.Seconds(), float64(in.bytes)/1e6/p.Seconds(), secs(p))
	w("| kcat consume it all back | %.0f | %.1f | %s | |\n", float64(r.n)/c.Seconds(), float64(r.ceil.consumedBytes)/1e6/c.Seconds(), secs(c))
	w("| **broker ceiling** (the slower of the two) | **%.0f** | **%.1f** | | %s |\n", ceilItems, ceilMB, ceilWhich)
	for _, s := range r.stages {
		note := ""
		if s.name != "ingest" {
			note = fmt.Sprintf("done %s after its input was complete", secs(s.tail))
		}
		w("| %s: %s | %.0f | %.1f | %s | %s |\n", s.name, s.what, s.itemsPerSec(), s.mbPerSec(), secs(s.to.Sub(s.from)), note)
	}
	w("| **pipeline**: %s | **%.0f** | **%.1f** | %s | files renamed in over %s |\n",
		r.pipeline.what, r.pipeline.itemsPerSec(), r.pipeline.mbPerSec(), secs(r.pipeline.to.Sub(r.pipeline.from)), secs(r.ob.moveTook))
	verdict := "met"
	if ratio < 0.5 {
		verdict = "**not met**"
	}
	w("| **pipeline / ceiling** | **%.2f** | | | target ≥ 0.5: %s |\n\n", ratio, verdict)

	w("| Latency | burst p50 | burst p99 | steady p50 | steady p99 |\n|---|---:|---:|---:|---:|\n")
	q := func(l latency, d time.Duration) string {
		if l.n == 0 {
			return "–"
		}
		return ms(d)
	}
	for _, l := range r.latencies {
		w("| %s | %s | %s | %s | %s |\n", l.what, q(l.burst, l.burst.p50), q(l.burst, l.burst.p99), q(l.trickle, l.trickle.p50), q(l.trickle, l.trickle.p99))
	}
	w("\nBurst: the %s items above, all in the spool at once, so that their latencies are mostly time spent queued. "+
		"Steady: %d more items dropped one at a time, %g a second, after the burst was archived.\n\n", num(int64(r.n)), len(in.trickles), r.trickleRate)

	w("| CPU during the burst (%.1f s, %d CPUs) | CPU seconds | cores busy on average | share of the machine | cores busy when idle, before |\n|---|---:|---:|---:|---:|\n", r.cpuWindow, r.m.cpus)
	var busy, idle float64
	for _, c := range r.cpu {
		busy += c.seconds
		idle += c.idle
		w("| %s | %.1f | %.2f | %s | %.2f |\n", cpuName(c.name), c.seconds, c.seconds/r.cpuWindow, pct(c.seconds, r.cpuWindow*float64(r.m.cpus)), c.idle)
	}
	w("| **all** | **%.1f** | **%.2f** | **%s** | **%.2f** |\n", busy, busy/r.cpuWindow, pct(busy, r.cpuWindow*float64(r.m.cpus)), idle)
	if r.steal > 0.05 {
		w("| stolen by the hypervisor | %.1f | %.2f | %s | |\n", r.steal, r.steal/r.cpuWindow, pct(r.steal, r.cpuWindow*float64(r.m.cpus)))
	}
	w("\n| CPU per item (µs) | client | broker |\n|---|---:|---:|\n")
	perItem := func(sec float64) float64 { return sec / float64(r.n) * 1e6 }
	w("| kcat produce | %.0f | %.0f |\n", perItem(r.ceil.kcatProduceCPU), perItem(r.ceil.brokerProduceCPU))
	w("| kcat consume | %.0f | %.0f |\n", perItem(r.ceil.kcatConsumeCPU), perItem(r.ceil.brokerConsumeCPU))
	cpu := map[string]float64{}
	for _, c := range r.cpu {
		cpu[c.name] = c.seconds
	}
	w("| pipeline burst: ingest %.0f + normalize %.0f + sink %.0f; S3 server %.0f | %.0f | %.0f |\n",
		perItem(cpu["ingest"]), perItem(cpu["normalize"]), perItem(cpu["sink"]), perItem(cpu["s3"]),
		perItem(cpu["ingest"]+cpu["normalize"]+cpu["sink"]), perItem(cpu["kafka"]))

	m := r.ob.burstMetrics
	w("\n| Inside the services during the burst (their own histograms) | count | p50 | p99 | total, share of the stage's window |\n|---|---:|---:|---:|---:|\n")
	window := map[string]float64{}
	for _, st := range r.stages {
		window[st.name] = st.seconds()
	}
	row := func(what, svc, metric, unit string, per float64, each string) {
		l := histogramQuantiles(m[svc], "", metric)
		count := num(int64(l.n))
		if unit != "" && l.n > 0 {
			count = fmt.Sprintf("%s %s, %.0f %s each", num(int64(l.n)), unit, per/float64(l.n), each)
		}
		sum := counter(m[svc], metric+"_sum", "")
		w("| %s (`%s`) | %s | %s | %s | %.1f s, %s |\n", what, metric, count, ms(l.p50), ms(l.p99), sum, pct(sum, window[svc]))
	}
	published := counter(m["ingest"], "wirefeed_ingest_items_total", `result="published"`)
	consumed := counter(m["normalize"], "wirefeed_normalize_items_total", "")
	archivedN := counter(m["sink"], "wirefeed_sink_records_total", `result="archived"`)
	row("ingest: publish a batch of spool files until acknowledged", "ingest", "wirefeed_ingest_publish_duration_seconds", "batches", published, "items")
	row("normalize: decode, repair and parse one item", "normalize", "wirefeed_normalize_processing_duration_seconds", "", 0, "")
	row("normalize: process a batch, produce it, until acknowledged", "normalize", "wirefeed_normalize_batch_duration_seconds", "batches", consumed, "items")
	row("sink: write one object", "sink", "wirefeed_sink_upload_duration_seconds", "objects", archivedN, "records")
	cycle, before, took, batchSizes := ingestCycles(r.ob.ingestLog)
	var batched int
	for _, n := range batchSizes {
		batched += n
	}
	if len(cycle) > 0 {
		total := func(ds []time.Duration) float64 {
			var t time.Duration
			for _, d := range ds {
				t += d
			}
			return t.Seconds()
		}
		lc, lb := percentiles(cycle), percentiles(before)
		w("| ingest: one batch, done to done, from its log | %s batches, %.0f items each | %s | %s | %.1f s, %s |\n",
			num(int64(len(cycle))), float64(batched)/float64(len(cycle)), ms(lc.p50), ms(lc.p99), total(cycle), pct(total(cycle), window["ingest"]))
		w("| ingest: of which reading the files, before the produce request | | %s | %s | %.1f s, %s |\n",
			ms(lb.p50), ms(lb.p99), total(before), pct(total(before), window["ingest"]))
		after := total(took) - counter(m["ingest"], "wirefeed_ingest_publish_duration_seconds_sum", "")
		w("| ingest: of which syncing the ledger and moving the files, after it (log's `took` less the publish histogram) | | | | %.1f s, %s |\n",
			after, pct(after, window["ingest"]))
	}
	w("| append a line and fsync it in the spool's file system (probed before the run, %d times) | | %s | %s | |\n", r.fsync.n, ms(r.fsync.p50), ms(r.fsync.p99))
	w("\nThe sink flushed %.0f batches by age, %.0f by record count, %.0f by size.\n",
		counter(m["sink"], "wirefeed_sink_flushes_total", `reason="age"`), counter(m["sink"], "wirefeed_sink_flushes_total", `reason="records"`),
		counter(m["sink"], "wirefeed_sink_flushes_total", `reason="bytes"`))

	w("\nArchive: %s objects, %.1f MB gzip from %.1f MB of NDJSON; %s distinct records (the sum of the objects' `x-amz-meta-records` is %s), %d duplicates, %d missing.\n\n",
		num(int64(r.objects)), float64(r.objectBytes)/1e6, float64(r.jsonBytes)/1e6, num(int64(r.distinct)), num(int64(r.objectRecords)), r.duplicates, r.missing)

	if r.ob.profile != "" {
		w("%s\n", perfTables(r.ob.profile, r.ob.profileByProcess))
	}

	w("### How it is measured\n\n")
	w("- One run does everything: generates the items (fixed seed) into a temporary folder, and the same payloads into one file " +
		"separated by the byte 0x1E, which no item holds; then the broker ceiling, then the pipeline, then reads the archive back.\n")
	w("- Broker ceiling: `kcat -P -z zstd -X acks=all -D '\\x1e'` produces the payload file to a fresh topic of 3 partitions; " +
		"`kcat -C -o beginning -e -q` reads it all back. The producer is timed from process start to exit (kcat -P exits once every message is acknowledged), " +
		"the consumer from the first message it prints to its exit (its connection and partition assignment are left out, as the services' are: they are running before time zero); " +
		"both message counts are checked.\n")
	w("- Pipeline: the service binaries built by `go build`, each a process with its own fresh topics, groups and archive prefix, flags as in " +
		"`e2e/` (`--spool.settle 300ms --spool.poll 200ms`, `--lag.interval 1s`), every other setting at its default, except the sink's `--batch.max-age 2s` " +
		"(batches still cut at 5,000 records or 16 MiB). The items are renamed into the spool from a sibling folder in one go; time zero is the first rename.\n")
	w("- Progress is sampled every %s: the high watermarks of the raw, records and dead-letter topics, and the committed offsets of the normalize and sink groups "+
		"(one ListOffsets and two OffsetFetch requests); the spool's `done/` folder is counted every second.\n", r.interval)
	w("- Stage windows: ingest from time zero to the raw topic holding every item; normalize from the first raw message to the records and " +
		"dead-letter topics holding every record and dead letter; sink from the first record to the sink group having committed every record. " +
		"A stage cannot outrun the one before it, so only the last stage to finish shows a capacity; \"done after its input\" shows whether a stage kept up.\n")
	w("- Latencies come from the archived records themselves: `ingested_at` (ingest read the file), `normalized_at` (normalize made the record), and the "+
		"moment the sink group's committed offset on the record's partition passed the last offset of the record's batch (the sink writes all objects of "+
		"a batch, then commits), as seen by the sampling, so up to one sampling interval late. The object's Last-Modified only has whole seconds on this "+
		"S3 server; it agrees (largest gap %s). The sink's own histogram measures from `ingested_at` to just after the commit; its quantiles are interpolated within exponential buckets (10 ms × 2^k).\n",
		ms(r.maxModSkew))

	w("- CPU: user and system time of each process (all its threads) from `/proc/PID/stat`, the machine's from `/proc/stat`; \"other processes\" is the machine's busy time less the processes listed. "+
		"The last column is each one's rate in the %d s before the burst, with the services up and idle and the sampling running. CPU per item divides by the burst's item count. "+
		"The broker and the S3 server serve every client of the stack, other people's tests included: when their idle rate is high, part of their CPU is not this run's.\n", idleSeconds)
	w("- Inside the services: their own Prometheus histograms, scraped at the end of the burst (quantiles interpolated within buckets), and ingest's log line per batch.\n\n")

	w("### Notes\n\n")
	for _, n := range notes(r, ratio) {
		w("- %s\n", n)
	}
	return b.String()
}

func cpuName(n string) string {
	switch n {
	case "kafka":
		return "Kafka broker (JVM)"
	case "s3":
		return "S3 server (versitygw)"
	case "prometheus":
		return "Prometheus of the stack"
	case "self":
		return "this benchmark (sampling)"
	case "other":
		return "other processes"
	}
	return n
}

// notes says what limits the run, from its own numbers.
func notes(r *results, ratio float64) []string {
	var out []string
	cpu := map[string]float64{}
	var busy float64
	for _, c := range r.cpu {
		cpu[c.name] = c.seconds
		busy += c.seconds
	}
	capacity := r.cpuWindow * float64(r.m.cpus)
	services := cpu["ingest"] + cpu["normalize"] + cpu["sink"]
	out = append(out, fmt.Sprintf("The pipeline moved %.0f items/s, %.2f of the broker ceiling (%s).",
		r.pipeline.itemsPerSec(), ratio, map[bool]string{true: "target met", false: "target of 0.5 not met"}[ratio >= 0.5]))
	out = append(out, fmt.Sprintf("The machine was %s busy during the burst: the three services %s, the broker %s, the S3 server %s, other processes %s. "+
		"Everything shares %d cores, so a stage's rate here is bounded by what the others leave it.",
		pct(busy, capacity), pct(services, capacity), pct(cpu["kafka"], capacity), pct(cpu["s3"], capacity), pct(cpu["other"], capacity), r.m.cpus))
	if other := cpu["other"] / capacity; other > 0.1 {
		out = append(out, fmt.Sprintf("Other processes (other work on the machine) took %s of its CPU during the burst, against %.2f cores just before it: "+
			"every rate above is lower than on an idle machine, the kcat ceiling (a few seconds long) least so.", pct(cpu["other"], capacity), r.cpu[len(r.cpu)-1].idle))
	}
	perItem := (services + cpu["kafka"] + cpu["s3"]) / float64(r.n)
	if perItem > 0 && cpu["normalize"] > 0 {
		out = append(out, fmt.Sprintf("Upper bounds from the CPU spent per item: %.0f µs in the services, the broker and the S3 server together allow at most %.0f items/s on %d idle cores "+
			"with perfect overlap; normalize's %.0f µs per item allow at most %.0f items/s for each core it keeps busy.",
			perItem*1e6, float64(r.m.cpus)/perItem, r.m.cpus, cpu["normalize"]/float64(r.n)*1e6, float64(r.n)/cpu["normalize"]))
	}
	if n := len(r.stages); n == 3 {
		norm, sink := r.stages[1], r.stages[2]
		out = append(out, fmt.Sprintf("Per item the services spent %.0f µs of CPU (ingest %.0f, normalize %.0f, sink %.0f), the broker %.0f µs and the S3 server %.0f µs.",
			services/float64(r.n)*1e6, cpu["ingest"]/float64(r.n)*1e6, cpu["normalize"]/float64(r.n)*1e6, cpu["sink"]/float64(r.n)*1e6,
			cpu["kafka"]/float64(r.n)*1e6, cpu["s3"]/float64(r.n)*1e6))
		out = append(out, fmt.Sprintf("normalize was done %s after ingest's last item and the sink %s after normalize's "+
			"(its batches wait up to 2 s): a stage done within about its batching delay kept up with its input, one done later was behind it.",
			secs(norm.tail), secs(sink.tail)))
	}
	out = append(out, fmt.Sprintf("Burst latencies measure queueing behind %s items, not a stage's cost; the steady rows show the latency of an item arriving alone, "+
		"where the sink's 2 s batch age and ingest's 200 ms poll dominate.", num(int64(r.n))))
	return out
}

// perfEntry is one line of perf report --children --sort comm,symbol.
type perfEntry struct {
	children, self float64
	comm, symbol   string
}

// perfTables renders perf report's output as two tables: the functions
// with the most samples of their own, and, per service, the functions
// (with what they call) that account for the most; the runtime's and the
// kernel's entries, and call chains of one path, are left out of the
// second.
func perfTables(report, byProcess string) string {
	var es []perfEntry
	for _, l := range strings.Split(report, "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || strings.HasPrefix(f[0], "#") || !strings.HasSuffix(f[0], "%") {
			continue
		}
		c, err1 := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		sf, err2 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		sym := strings.TrimSpace(strings.TrimRight(strings.Join(f[4:], " "), " -"))
		if f[3] == "[k]" {
			sym = "kernel: " + sym
		}
		sym = strings.TrimPrefix(sym, "github.com/wirefeed/wirefeed/")
		sym = strings.TrimPrefix(sym, "github.com/")
		es = append(es, perfEntry{c, sf, f[2], sym})
	}
	var b strings.Builder
	b.WriteString("Where the services' CPU went during the burst (`perf record -F 499 -g` on the three processes; shares of all their samples")
	total := map[string]float64{}
	for _, l := range strings.Split(byProcess, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && strings.HasSuffix(f[0], "%") {
			total[f[1]], _ = strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		}
	}
	comms := make([]string, 0, len(total))
	for c := range total {
		comms = append(comms, c)
	}
	sort.Slice(comms, func(i, j int) bool { return total[comms[i]] > total[comms[j]] })
	for i, c := range comms {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s %.0f%%", sep, c, total[c])
	}
	b.WriteString("):\n\n")
	b.WriteString("| own samples | process | function |\n|---:|---|---|\n")
	bySelf := append([]perfEntry(nil), es...)
	sort.Slice(bySelf, func(i, j int) bool { return bySelf[i].self > bySelf[j].self })
	for i, e := range bySelf {
		if i == 15 || e.self < 0.5 {
			break
		}
		fmt.Fprintf(&b, "| %.1f%% | %s | `%s` |\n", e.self, e.comm, e.symbol)
	}
	b.WriteString("\n| with callees | process | function |\n|---:|---|---|\n")
	skip := []string{"runtime.", "internal/runtime", "kernel: ", "syscall.", "golang.org/x/sync/", "sync.", "net.", "internal/poll."}
	last := map[string]float64{}
	shown := map[string]int{}
	byChildren := append([]perfEntry(nil), es...)
	sort.SliceStable(byChildren, func(i, j int) bool {
		if byChildren[i].comm != byChildren[j].comm {
			return byChildren[i].comm < byChildren[j].comm
		}
		return byChildren[i].children > byChildren[j].children
	})
outer:
	for _, e := range byChildren {
		for _, p := range skip {
			if strings.HasPrefix(e.symbol, p) {
				continue outer
			}
		}
		if e.children < 3 || shown[e.comm] == 8 || e.children > last[e.comm]-0.15 && last[e.comm] != 0 {
			continue
		}
		last[e.comm] = e.children
		shown[e.comm]++
		fmt.Fprintf(&b, "| %.1f%% | %s | `%s` |\n", e.children, e.comm, e.symbol)
	}
	return b.String()
}

// findingsTitle heads a hand-written part of the section (what profiling
// found, with its date), which a rewrite keeps.
const findingsTitle = "### Findings"

// findings returns the findings subsection among a section's lines, up to
// the next heading, or "".
func findings(lines []string) string {
	var b strings.Builder
	in := false
	for _, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		switch {
		case t == findingsTitle:
			in = true
		case in && strings.HasPrefix(t, "#"):
			in = false
		}
		if in {
			b.WriteString(l)
		}
	}
	return strings.TrimRight(b.String(), "\n") + map[bool]string{true: "\n", false: ""}[b.Len() > 0]
}

// writeSection replaces this benchmark's section of the file at path (from
// its heading to the next "## " heading), keeping its findings subsection,
// appends it if absent, or creates the file.
func writeSection(path, sec string) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return os.WriteFile(path, []byte("# Benchmarks\n\n"+sec), 0o644)
	}
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(b), "\n")
	start, end := -1, len(lines)
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if start < 0 && t == sectionTitle {
			start = i
			continue
		}
		if start >= 0 && strings.HasPrefix(t, "## ") {
			end = i
			break
		}
	}
	var out string
	if start < 0 {
		out = strings.TrimRight(string(b), "\n") + "\n\n" + sec
	} else {
		if kept := findings(lines[start:end]); kept != "" {
			sec = strings.TrimRight(sec, "\n") + "\n\n" + kept
		}
		rest := strings.Join(lines[end:], "")
		if rest != "" {
			sec += "\n"
		}
		out = strings.Join(lines[:start], "") + sec + rest
	}
	return os.WriteFile(path, []byte(out), 0o644)
}
