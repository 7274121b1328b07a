package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/wirefeed/wirefeed/internal/kafka"
)

// sample is the pipeline's progress at one moment, as the broker and the
// spool folder show it.
type sample struct {
	at       time.Time
	raw      int64         // raw topic: sum of the partitions' high watermarks
	records  int64         // records topic, the same
	dlq      int64         // dead-letter topic, the same
	normDone int64         // normalize group: sum of committed offsets on raw
	sinkDone int64         // sink group: sum of committed offsets on records
	sinkPart map[int]int64 // sink group: committed offset per records partition
	done     int           // files in spool/done, -1 when not counted
}

// sampler polls the broker every interval (one ListOffsets and two
// OffsetFetch requests) and counts the spool's done/ folder every second.
type sampler struct {
	client    *kafka.Client
	topics    topics
	parts     map[string][]int
	doneDir   string
	interval  time.Duration
	mu        sync.Mutex
	samples   []sample
	lastCount time.Time
	lastDone  int
}

func newSampler(ctx context.Context, client *kafka.Client, t topics, doneDir string, interval time.Duration) (*sampler, error) {
	s := &sampler{client: client, topics: t, parts: map[string][]int{}, doneDir: doneDir, interval: interval, lastDone: -1}
	for _, name := range []string{t.raw, t.records, t.dlq} {
		ps, err := kafka.Partitions(ctx, client, name)
		if err != nil {
			return nil, err
		}
		s.parts[name] = ps
	}
	return s, nil
}

// run samples until ctx is done.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if smp, err := s.take(ctx); err == nil {
			s.mu.Lock()
			s.samples = append(s.samples, smp)
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *sampler) take(ctx context.Context) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	smp := sample{sinkPart: map[int]int64{}, done: -1}
	req := &kgo.ListOffsetsRequest{Topics: map[string][]kgo.OffsetRequest{}}
	for name, ps := range s.parts {
		for _, p := range ps {
			req.Topics[name] = append(req.Topics[name], kgo.LastOffsetOf(p))
		}
	}
	offs, err := s.client.ListOffsets(ctx, req)
	if err != nil {
		return smp, err
	}
	hwm := func(topic string) (int64, error) {
		var sum int64
		for _, po := range offs.Topics[topic] {
			if po.Error != nil {
				return 0, fmt.Errorf("offsets of %s/%d: %w", topic, po.Partition, po.Error)
			}
			sum += po.LastOffset
		}
		return sum, nil
	}
	if smp.raw, err = hwm(s.topics.raw); err != nil {
		return smp, err
	}
	if smp.records, err = hwm(s.topics.records); err != nil {
		return smp, err
	}
	if smp.dlq, err = hwm(s.topics.dlq); err != nil {
		return smp, err
	}
	norm, err := s.committed(ctx, s.topics.normalizeGroup, s.topics.raw)
	if err != nil {
		return smp, err
	}
	sink, err := s.committed(ctx, s.topics.sinkGroup, s.topics.records)
	if err != nil {
		return smp, err
	}
	for _, o := range norm {
		smp.normDone += o
	}
	for p, o := range sink {
		smp.sinkDone += o
		smp.sinkPart[p] = o
	}
	smp.at = time.Now()
	if smp.at.Sub(s.lastCount) >= time.Second {
		s.lastDone, s.lastCount = countFiles(s.doneDir), smp.at
		smp.done = s.lastDone
	}
	return smp, nil
}

// committed returns a group's committed offsets on a topic, by partition;
// partitions without a commit are left out.
func (s *sampler) committed(ctx context.Context, group, topic string) (map[int]int64, error) {
	res, err := s.client.OffsetFetch(ctx, &kgo.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: s.parts[topic]}})
	if err != nil {
		return nil, err
	}
	if res.Error != nil {
		return nil, res.Error
	}
	out := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error == nil && p.CommittedOffset >= 0 {
			out[p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

// countFiles counts the names in dir without a stat per file; -1 on error.
func countFiles(dir string) int {
	f, err := os.Open(dir)
	if err != nil {
		return -1
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names)
}

// all returns the samples taken so far.
func (s *sampler) all() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sample(nil), s.samples...)
}

// doneCount returns the latest count of spool/done, -1 before the first.
func (s *sampler) doneCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.samples) - 1; i >= 0; i-- {
		if s.samples[i].done >= 0 {
			return s.samples[i].done
		}
	}
	return -1
}

// last returns the latest sample, or false when there is none yet.
func (s *sampler) last() (sample, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return sample{}, false
	}
	return s.samples[len(s.samples)-1], true
}

// firstWhen returns the time of the first sample for which ok holds.
func firstWhen(samples []sample, ok func(sample) bool) (time.Time, bool) {
	for _, s := range samples {
		if ok(s) {
			return s.at, true
		}
	}
	return time.Time{}, false
}
