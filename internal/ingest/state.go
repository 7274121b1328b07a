package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/seen"
)

// state is what Service.run holds while it runs: the sources, a runner
// (goroutine) per polled source and spool folder, the seen-set, the
// ownership group and the push endpoint. Only the run loop touches it,
// except the push handler, which reads pub and pushSources.
type state struct {
	s *Service
	w *kafka.Writer

	sources map[string]Source // enabled sources by id
	runners map[string]*runner
	polls   map[string]*pollState

	seen     *seen.Set
	seenComp *component
	pub      atomic.Pointer[publisher]

	owner   *component
	ownerCh chan ownership
	owned   map[int]bool // partitions of the ownership topic this replica holds

	push        *component
	pushSources atomic.Pointer[map[string]*Source]

	fatal chan error
}

// ownership is an assignment of the ownership topic's partitions; the run
// loop closes ack once the pollers match it.
type ownership struct {
	parts map[int]bool
	ack   chan struct{}
}

// component is a goroutine with a way to stop it and wait.
type component struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *component) stop() {
	c.cancel()
	<-c.done
}

// runner is a running source.
type runner struct {
	src Source
	c   *component
}

func newState(s *Service, w *kafka.Writer) *state {
	return &state{
		s: s, w: w,
		sources: map[string]Source{},
		runners: map[string]*runner{},
		polls:   map[string]*pollState{},
		ownerCh: make(chan ownership),
		fatal:   make(chan error, 1),
	}
}

// goRun runs f in a goroutine; an error it returns while not stopped ends
// the service.
func (st *state) goRun(ctx context.Context, name string, f func(context.Context) error) *component {
	cctx, cancel := context.WithCancel(ctx)
	c := &component{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		if err := f(cctx); err != nil && cctx.Err() == nil {
			select {
			case st.fatal <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
	return c
}

// sameSource reports whether a source is unchanged by a reload.
func sameSource(a, b Source) bool {
	a.loc, b.loc = nil, nil
	return reflect.DeepEqual(a, b)
}

// apply makes the running sources those of srcs.
func (st *state) apply(ctx context.Context, srcs []Source) error {
	cfg := &st.s.cfg
	enabled := map[string]Source{}
	var needSeen, needOwner bool
	count := map[string]int{TypeHTTP: 0, TypeSpool: 0, TypePush: 0}
	for _, src := range srcs {
		if !src.Enabled {
			continue
		}
		enabled[src.ID] = src
		count[src.Type]++
		needSeen = needSeen || src.Type == TypeHTTP || src.Type == TypePush
		needOwner = needOwner || (src.Type == TypeHTTP && cfg.Ownership == "group")
	}
	// What the new sources need, before anything changes: a reload that
	// cannot get it fails and leaves the sources as they were.
	if needSeen && st.seen == nil {
		if err := st.startSeen(ctx); err != nil {
			return err
		}
	}
	if needOwner && st.owner == nil {
		if err := st.startOwner(ctx); err != nil {
			return err
		}
	}
	old := st.sources
	for id, src := range old {
		if n, ok := enabled[id]; !ok || !sameSource(n, src) {
			delete(st.polls, id)
		}
	}
	st.sources = enabled
	push := map[string]*Source{}
	for id, src := range enabled {
		if src.Type == TypePush {
			push[id] = &src
			if o, ok := old[id]; !ok || !sameSource(o, src) {
				st.s.log.Info("push source configured", zap.String("source", id), zap.String("format", src.Format))
			}
		}
	}
	st.pushSources.Store(&push)
	for typ, n := range count {
		st.s.m.sources.WithLabelValues(typ).Set(float64(n))
	}
	st.s.m.sourceInfo.Reset()
	for id, src := range enabled {
		st.s.m.sourceInfo.WithLabelValues(id, src.Type).Set(1)
		st.s.m.declare(&src)
	}
	err := st.sync(ctx)
	for id := range old {
		if _, ok := enabled[id]; !ok {
			st.s.m.forget(id)
			if old[id].Type == TypePush {
				st.s.log.Info("push source removed", zap.String("source", id))
			}
		}
	}
	return err
}

// owns reports whether this replica polls the http source id.
func (st *state) owns(id string) bool {
	if st.s.cfg.Ownership != "group" {
		return true
	}
	return st.owned[partitionOf(id, st.s.cfg.OwnershipPartitions)]
}

// partitionOf is the partition of the ownership topic source id belongs to.
func partitionOf(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

// setOwned applies a new assignment of the ownership topic.
func (st *state) setOwned(ctx context.Context, parts map[int]bool) {
	st.owned = parts
	if err := st.sync(ctx); err != nil {
		select {
		case st.fatal <- err:
		default:
		}
	}
}

// sync stops the runners of sources removed, changed or no longer owned,
// then starts those of sources added, changed or newly owned.
func (st *state) sync(ctx context.Context) error {
	var stop []string
	for id, r := range st.runners {
		src, ok := st.sources[id]
		if !ok || !sameSource(src, r.src) || (src.Type == TypeHTTP && !st.owns(id)) {
			stop = append(stop, id)
		}
	}
	st.stopRunners(stop)
	ids := make([]string, 0, len(st.sources))
	for id := range st.sources {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		src := st.sources[id]
		if _, running := st.runners[id]; running || src.Type == TypePush || (src.Type == TypeHTTP && !st.owns(id)) {
			continue
		}
		if err := st.startRunner(ctx, src); err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", id, err))
		}
	}
	n := 0
	for _, r := range st.runners {
		if r.src.Type == TypeHTTP {
			n++
		}
	}
	st.s.m.owned.Set(float64(n))
	return errors.Join(errs...)
}

func (st *state) startRunner(ctx context.Context, src Source) error {
	s := st.s
	log := s.log.With(zap.String("component", src.Type), zap.String("source", src.ID))
	var run func(context.Context) error
	switch src.Type {
	case TypeSpool:
		sp, err := newSpool(src, &s.cfg, st.w, s.m, log)
		if err != nil {
			return err
		}
		run = func(ctx context.Context) error {
			defer sp.close()
			return sp.run(ctx)
		}
	case TypeHTTP:
		ps := st.polls[src.ID]
		if ps == nil {
			ps = &pollState{}
			st.polls[src.ID] = ps
		}
		p := &poller{src: src, st: ps, svc: s, pub: st.pub.Load(), seen: st.seen, log: log}
		run = p.run
		log.Info("polling source", zap.String("url", src.URL), zap.String("format", src.Format), zap.Duration("interval", src.Interval))
	default:
		return fmt.Errorf("type %q has no runner", src.Type)
	}
	st.runners[src.ID] = &runner{src: src, c: st.goRun(ctx, "source "+src.ID, run)}
	return nil
}

// stopRunners stops the runners of ids together and waits for each to
// finish what it has in hand.
func (st *state) stopRunners(ids []string) {
	for _, id := range ids {
		st.runners[id].c.cancel()
	}
	for _, id := range ids {
		<-st.runners[id].c.done
		st.s.log.Info("source stopped", zap.String("source", id), zap.String("type", st.runners[id].src.Type))
		delete(st.runners, id)
	}
}

func (st *state) startSeen(ctx context.Context) error {
	cfg := &st.s.cfg
	if err := kafka.EnsureTopics(ctx, &cfg.Kafka, seen.TopicSpec(cfg.SeenTopic, cfg.SeenRetention)); err != nil {
		return err
	}
	set := seen.New(&cfg.Kafka, cfg.SeenTopic, st.s.seenM, st.s.log)
	comp := st.goRun(ctx, "seen topic", set.Run)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-comp.done: // Run failed: stop waiting for it
			cancel()
		case <-lctx.Done():
		}
	}()
	start := time.Now()
	if err := set.CatchUp(lctx); err != nil {
		comp.stop()
		select {
		case err = <-st.fatal:
		default:
		}
		return fmt.Errorf("load seen topic: %w", err)
	}
	st.s.log.Info("seen-set loaded", zap.String("topic", cfg.SeenTopic), zap.Int("keys", set.Len()), zap.Duration("took", time.Since(start)))
	st.seen, st.seenComp = set, comp
	st.pub.Store(&publisher{w: st.w, seen: set, m: st.s.m, log: st.s.log.With(zap.String("component", "publish"))})
	return nil
}

func (st *state) startOwner(ctx context.Context) error {
	cfg := &st.s.cfg
	kc := cfg.Kafka
	kc.Partitions = cfg.OwnershipPartitions
	if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: cfg.OwnershipTopic}); err != nil {
		if errors.Is(err, kafka.ErrTopicIncompatible) {
			return fmt.Errorf("ownership topic (its partitions are set by --ownership.partitions, not --kafka.partitions): %w", err)
		}
		return err
	}
	st.owner = st.goRun(ctx, "ownership group", st.runOwner)
	return nil
}

// runOwner is a member of the ownership group: each generation's
// assignment of the ownership topic's partitions is sent to the run loop,
// and when the generation ends (a replica joins or leaves) every poller is
// stopped, the fetch or publication in hand finished, before the group
// moves on; the next owner of a source catches up with the seen topic
// before its first fetch.
func (st *state) runOwner(ctx context.Context) error {
	cfg := &st.s.cfg
	log := st.s.log.With(zap.String("component", "ownership"), zap.String("group", cfg.OwnershipGroup))
	cg, err := kgo.NewConsumerGroup(kgo.ConsumerGroupConfig{
		ID:                     cfg.OwnershipGroup,
		Brokers:                cfg.Kafka.Brokers,
		Topics:                 []string{cfg.OwnershipTopic},
		Dialer:                 &kgo.Dialer{ClientID: cfg.Kafka.ClientID, Timeout: cfg.Kafka.DialTimeout, DualStack: true},
		SessionTimeout:         cfg.Kafka.SessionTimeout,
		RebalanceTimeout:       cfg.Kafka.SessionTimeout,
		HeartbeatInterval:      cfg.Kafka.SessionTimeout / 4,
		JoinGroupBackoff:       time.Second,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 10 * time.Second,
		ErrorLogger:            kgo.LoggerFunc(func(f string, args ...any) { log.Warn(fmt.Sprintf(f, args...)) }),
	})
	if err != nil {
		return err
	}
	defer cg.Close()
	send := func(parts map[int]bool) bool {
		o := ownership{parts: parts, ack: make(chan struct{})}
		select {
		case st.ownerCh <- o:
		case <-ctx.Done():
			return false
		}
		select {
		case <-o.ack:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kgo.ErrGroupClosed) {
				return nil
			}
			log.Warn("ownership group: no generation yet; retrying", zap.Error(err))
			continue
		}
		parts := map[int]bool{}
		var ids []int
		for _, pa := range gen.Assignments[cfg.OwnershipTopic] {
			parts[pa.ID] = true
			ids = append(ids, pa.ID)
		}
		slices.Sort(ids)
		log.Info("ownership assigned", zap.Int32("generation", gen.ID), zap.Ints("partitions", ids))
		if !send(parts) {
			return nil
		}
		gen.Start(func(gctx context.Context) {
			<-gctx.Done()
			send(nil)
		})
	}
}

func (st *state) startPush(ctx context.Context) error {
	ln := st.s.pushLn
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", st.s.cfg.PushAddr); err != nil {
			return fmt.Errorf("push endpoint: %w", err)
		}
	}
	log := st.s.log.With(zap.String("component", "push"))
	h := &pushHandler{st: st}
	st.push = st.goRun(ctx, "push endpoint", func(ctx context.Context) error { return servePush(ctx, ln, h, log) })
	return nil
}

// shutdown stops everything, in order: the push endpoint (requests in hand
// are answered), the sources (fetches and batches in hand are published),
// the ownership group, the seen-set.
func (st *state) shutdown() {
	if st.push != nil {
		st.push.stop()
	}
	ids := make([]string, 0, len(st.runners))
	for id := range st.runners {
		ids = append(ids, id)
	}
	st.stopRunners(ids)
	if st.owner != nil {
		st.owner.stop()
	}
	if st.seenComp != nil {
		st.seenComp.stop()
	}
}
