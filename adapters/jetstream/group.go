package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
)

// GroupStore is a Store that commits concurrent single-event appends together (group
// commit). While one commit is in flight, the appends that arrive wait; when it is done
// they go to the server together: as one JetStream atomic batch, which the server writes
// with one flush, or, when so few wait that their publishes cost less than a batch, as
// one publish each, all at once. A lone writer never waits for a timer: an append that
// finds nothing in flight is sent at once. After an atomic batch, whose callers come back
// with their next commands together, the next commit waits for them a moment (at most a
// quarter of a batch's cost, and 4 ms; see gather), so that they share one batch; when
// that many make a batch, the batch is sent while it gathers, chunk by chunk, and the
// server stages it meanwhile (see streamBatch).
//
// Which of the two is cheaper is learnt as it runs (adaptive): the store keeps a moving
// average of what a batch costs (nats-server stages an atomic batch of a one-replica
// file stream in files of its own, a cost that varies with the disk, then writes it with
// one flush) and of what one publish costs when several go at once, and sends n waiting
// appends as a batch when n publishes would take longer. GroupConfig.MinBatch fixes the
// threshold instead.
//
// It is for servers that fsync before every acknowledgement (nats-server's sync_interval
// always, redlane serve's default): a batch then costs about the same fsyncs whether it
// carries sixteen events or hundreds, and many concurrent writers win back throughput
// the fsyncs took. Without fsync an atomic batch costs the server more than the
// publishes it replaces, and Store is the faster (BENCHMARKS.md has the figures).
//
// Every event of a batch carries its own Nats-Expected-Last-Subject-Sequence, so each
// aggregate's concurrency check holds exactly as with Store.Append. A batch holds at most
// one event per aggregate: a second append to an aggregate that is already waiting or in
// flight goes to the server on its own, and the server decides between them. The server
// refuses an atomic batch as a whole when any one check fails (another process wrote to
// one of its aggregates, or one event is the retry of a stored one); then each of its
// appends is made again alone, with Store.Append, so one conflicting command never fails
// the others and each gets exactly the answer Store.Append gives.
//
// Appends of several events (one command's) are Store.Append's own atomic batches; loads
// and everything else are Store's. A GroupStore is safe for concurrent use and needs no
// closing.
type GroupStore struct {
	*Store
	maxBatch    int
	minBatch    int // 0: adaptive
	maxInFlight int
	costs       groupCosts

	mu       sync.Mutex
	pending  []*groupAppend
	busy     map[string]bool // subjects of appends waiting or in flight
	inFlight int
	arrived  chan struct{} // a token when an append joins pending (for gather)

	appends, batches, streamed, batched, alone, fallbacks atomic.Int64
}

var _ domain.EventStore = (*GroupStore)(nil)

// GroupConfig tunes a GroupStore. The zero value is the default.
type GroupConfig struct {
	// MaxBatch caps the events of one batch (default and most 999: the server takes
	// atomic batches of up to 1000 messages).
	MaxBatch int
	// MinBatch, when set, is the fewest waiting appends that go as one atomic batch (at
	// least 2, at most MaxBatch): fewer are published one by one, all at once. Zero (the
	// default) learns the threshold from what batches and publishes cost (see
	// GroupStore). An atomic batch costs the server a fixed few milliseconds to stage,
	// so a small batch can cost more than its events' own publishes.
	MinBatch int
	// MaxInFlight is how many commits may be in flight at once (default 1). The server
	// writes atomic batches of one stream one after another, so more rarely helps.
	MaxInFlight int
}

// startMinBatch is the threshold the adaptive store starts from, before it has measured
// anything: on the development machine, with fsync before every acknowledgement, a batch
// of 16 costs about what 16 publishes do.
const startMinBatch = 16

// NewGroupStore returns a store that group-commits s's single-event appends.
func NewGroupStore(s *Store, cfg GroupConfig) *GroupStore {
	if cfg.MaxBatch <= 0 || cfg.MaxBatch > MaxBatchMessages {
		cfg.MaxBatch = MaxBatchMessages
	}
	if cfg.MinBatch > 0 {
		cfg.MinBatch = min(max(cfg.MinBatch, 2), cfg.MaxBatch)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1
	}
	return &GroupStore{Store: s, maxBatch: cfg.MaxBatch, minBatch: cfg.MinBatch, maxInFlight: cfg.MaxInFlight, busy: map[string]bool{}, arrived: make(chan struct{}, 1)}
}

// GroupStats counts what a GroupStore did with the single-event appends it was given.
type GroupStats struct {
	Appends   int64 // single-event appends
	Batches   int64 // atomic batches committed
	Streamed  int64 // of those, batches sent while they gathered (see streamBatch)
	Batched   int64 // appends stored by those batches
	Alone     int64 // appends published alone: too few were waiting, or their aggregate was busy
	Fallbacks int64 // appends made again alone after their batch was refused
}

// Stats returns the counts so far.
func (g *GroupStore) Stats() GroupStats {
	return GroupStats{
		Appends: g.appends.Load(), Batches: g.batches.Load(), Streamed: g.streamed.Load(), Batched: g.batched.Load(),
		Alone: g.alone.Load(), Fallbacks: g.fallbacks.Load(),
	}
}

// groupAppend is one single-event append waiting for its commit.
type groupAppend struct {
	ctx            context.Context
	aggType, aggID string
	subj           string
	expected       uint64
	events         []domain.Envelope
	msg            *nats.Msg
	done           chan struct{}
	seq            uint64 // set before done is closed
	err            error  // set before done is closed
	fallback       bool   // the batch was refused: the caller appends alone
}

// Append stores events for one aggregate if its last event is still at position
// expected; see domain.EventStore. A single event waits for the next group commit.
func (g *GroupStore) Append(ctx context.Context, aggType, aggID string, expected uint64, events []domain.Envelope) ([]uint64, error) {
	if len(events) != 1 {
		return g.Store.Append(ctx, aggType, aggID, expected, events)
	}
	req, err := g.newAppend(ctx, aggType, aggID, expected, events)
	if err != nil {
		return nil, err
	}
	g.appends.Add(1)
	g.mu.Lock()
	if g.busy[req.subj] {
		// Another append to this aggregate is waiting or in flight: at most one of the
		// two can hold, and a batch must not carry both, so the server decides.
		g.mu.Unlock()
		g.alone.Add(1)
		return g.Store.Append(ctx, aggType, aggID, expected, events)
	}
	g.busy[req.subj] = true
	g.pending = append(g.pending, req)
	lead := g.inFlight < g.maxInFlight
	if lead {
		g.inFlight++
	}
	g.mu.Unlock()
	select {
	case g.arrived <- struct{}{}:
	default:
	}
	if lead {
		g.lead()
	}
	return g.await(ctx, req)
}

// newAppend checks and encodes one event, as Store.Append would.
func (g *GroupStore) newAppend(ctx context.Context, aggType, aggID string, expected uint64, events []domain.Envelope) (*groupAppend, error) {
	subj, err := g.subject(aggType, aggID)
	if err != nil {
		return nil, err
	}
	if err := domain.CheckAppend(aggType, aggID, events); err != nil {
		return nil, err
	}
	e := &events[0]
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("append %s/%s: encode event %s: %w", aggType, aggID, e.ID, err)
	}
	msg := &nats.Msg{Subject: subj, Data: data, Header: nats.Header{
		jetstream.MsgIDHeader:               {e.ID},
		HeaderType:                          {e.Type},
		HeaderVersion:                       {strconv.FormatUint(e.Version, 10)},
		jetstream.ExpectedLastSubjSeqHeader: {strconv.FormatUint(expected, 10)},
	}}
	// Signed when it is committed: alone, or with its batch (batchsig.go).
	return &groupAppend{
		ctx: ctx, aggType: aggType, aggID: aggID, subj: subj, expected: expected, events: events,
		msg: msg, done: make(chan struct{}),
	}, nil
}

// await waits for req's commit and returns its answer.
func (g *GroupStore) await(ctx context.Context, req *groupAppend) ([]uint64, error) {
	select {
	case <-req.done:
	case <-ctx.Done():
		// The commit may still store the event; a retry with the same id finds it.
		return nil, ctx.Err()
	}
	if req.fallback {
		g.fallbacks.Add(1)
		return g.Store.Append(ctx, req.aggType, req.aggID, req.expected, req.events)
	}
	if errors.Is(req.err, domain.ErrConflict) && g.keys != nil {
		// Events nobody trusted may sit after the aggregate's last genuine one:
		// Store.Append goes past them (and answers a real conflict the same).
		g.fallbacks.Add(1)
		return g.Store.Append(ctx, req.aggType, req.aggID, req.expected, req.events)
	}
	if req.err != nil {
		return nil, req.err
	}
	g.appended([]uint64{req.seq}, []*nats.Msg{req.msg})
	return []uint64{req.seq}, nil
}

// lead commits what is waiting, holding one of the in-flight slots. When more waits
// after its commit, or its commit was an atomic batch (whose callers are about to come
// back with their next commands), a new goroutine carries on with the slot, so that the
// caller who led gets its answer without waiting for others' commits.
func (g *GroupStore) lead() { g.leadAfter(0) }

// leadAfter is lead after an atomic batch: before it takes what waits, it gathers until
// expected appends wait (see gather): those the batch released and those that came while
// it was in flight.
func (g *GroupStore) leadAfter(expected int) {
	var n int
	var batched bool
	if expected > 0 && g.asBatch(expected) {
		n, batched = g.streamBatch(expected)
	} else {
		if expected > 0 {
			g.gather(expected)
		}
		g.mu.Lock()
		batch := g.take(g.maxBatch)
		g.mu.Unlock()
		if n = len(batch); n > 0 {
			batched = g.commit(batch)
		}
	}

	g.mu.Lock()
	waiting := len(g.pending)
	more := waiting > 0 || batched
	if !more {
		g.inFlight--
	}
	g.mu.Unlock()
	switch {
	case batched:
		go g.leadAfter(n + waiting)
	case more:
		go g.lead()
	}
}

// gather waits, after an atomic batch, until expected appends wait or a quarter of what
// a batch costs has passed (at most maxGather), whichever is first.
// The callers of a batch come back with their next commands together; without the wait
// the first few back would go in one batch and the rest in the next, and every batch
// costs the server a fixed few milliseconds however few it carries. Appends made while
// nothing was in flight never wait: only a slot that has just committed a batch gathers.
func (g *GroupStore) gather(expected int) {
	wait := g.gatherWait()
	if wait <= 0 {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		g.mu.Lock()
		n := len(g.pending)
		g.mu.Unlock()
		if n >= expected || n >= g.maxBatch {
			return
		}
		select {
		case <-g.arrived:
		case <-timer.C:
			return
		}
	}
}

// maxGather bounds gather's wait.
const maxGather = 4 * time.Millisecond

// gatherWait is how long a slot that has just committed a batch waits for the next:
// a quarter of a batch's measured cost, at most maxGather (0 before one is measured).
func (g *GroupStore) gatherWait() time.Duration {
	return max(min(time.Duration(g.costs.batchCost()/4), maxGather), 0)
}

// take removes up to limit waiting appends, dropping those whose callers gave up.
// g.mu is held.
func (g *GroupStore) take(limit int) []*groupAppend {
	n := 0
	var batch []*groupAppend
	for _, req := range g.pending {
		n++
		if req.ctx.Err() != nil {
			delete(g.busy, req.subj)
			continue
		}
		batch = append(batch, req)
		if len(batch) == limit {
			break
		}
	}
	g.pending = append(g.pending[:0], g.pending[n:]...)
	return batch
}

// commit stores batch: as one atomic batch, or when asBatch says it is too small, as
// publishes of one event each, all at once. It answers every append of the batch, and
// reports whether the batch was committed as one atomic batch.
func (g *GroupStore) commit(batch []*groupAppend) (batched bool) {
	defer g.finish(batch)
	if !g.asBatch(len(batch)) {
		start := time.Now()
		one := func(req *groupAppend) {
			if g.signer != nil {
				g.signer.sign(req.msg, req.events[0].ID)
			}
			seqs, err := g.publishOne(req.ctx, req.subj, req.msg, req.expected, req.events)
			if err == nil {
				req.seq = seqs[0]
			}
			req.err = err
		}
		if len(batch) == 1 {
			one(batch[0]) // a lone writer: no goroutine between it and its publish
		} else {
			var wg sync.WaitGroup
			for _, req := range batch {
				wg.Go(func() { one(req) })
			}
			wg.Wait()
		}
		g.costs.publishes(len(batch), time.Since(start))
		g.alone.Add(int64(len(batch)))
		return false
	}

	msgs := make([]*nats.Msg, len(batch))
	for i, req := range batch {
		msgs[i] = req.msg
	}
	if g.signer != nil {
		g.signer.signBatch(msgs) // one signature for the batch, a proof for each event
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.apiTimeout)
	defer cancel()
	start := time.Now()
	ack, err := g.publishBatch(ctx, msgs)
	n := uint64(len(msgs))
	if err == nil {
		g.costs.batch(time.Since(start))
	}
	if err == nil && (ack.BatchSize != n || ack.Sequence < n) {
		err = fmt.Errorf("group commit: batch acknowledged %d messages ending at %d, sent %d", ack.BatchSize, ack.Sequence, n)
	}
	if err != nil {
		// Nothing of the batch is stored, or (a lost answer) all of it is: either way
		// each append made again alone gets the right answer, Store.Append's.
		for _, req := range batch {
			req.fallback = true
		}
		return false
	}
	g.batches.Add(1)
	g.batched.Add(int64(n))
	for i, req := range batch {
		req.seq = ack.Sequence - n + 1 + uint64(i)
	}
	return true
}

// finish frees the aggregates of batch, whose appends are answered, and wakes their
// callers.
func (g *GroupStore) finish(batch []*groupAppend) {
	g.mu.Lock()
	for _, req := range batch {
		delete(g.busy, req.subj)
	}
	g.mu.Unlock()
	for _, req := range batch {
		close(req.done)
	}
}

// publishOne is Store.Append for one encoded event.
func (g *GroupStore) publishOne(ctx context.Context, subj string, msg *nats.Msg, expected uint64, events []domain.Envelope) ([]uint64, error) {
	ack, err := g.js.PublishMsg(ctx, msg)
	if err != nil {
		return g.failed(ctx, subj, expected, events, err)
	}
	if ack.Duplicate {
		m, err := g.stream.GetMsg(ctx, ack.Sequence)
		if err != nil {
			return nil, fmt.Errorf("append to %s: look up duplicate at %d: %w", subj, ack.Sequence, err)
		}
		if m.Subject != subj {
			return nil, fmt.Errorf("append to %s: event id %s is stored for %s: %w", subj, events[0].ID, m.Subject, domain.ErrConflict)
		}
	}
	return []uint64{ack.Sequence}, nil
}

// asBatch reports whether n waiting appends go as one atomic batch.
func (g *GroupStore) asBatch(n int) bool {
	switch {
	case n < 2:
		return false
	case g.minBatch > 0:
		return n >= g.minBatch
	}
	return g.costs.favoursBatch(n)
}

// groupCosts are moving averages of what an atomic batch and one publish cost, in wall
// time, from which the adaptive GroupStore picks the cheaper way to commit.
type groupCosts struct {
	mu        sync.Mutex
	batchNs   float64 // one atomic batch, whatever its size (0: not measured yet)
	publishNs float64 // one publish, when several go at once (0: not measured yet)
	decisions int
}

// costWeight is the weight of the newest measurement in the moving averages.
const costWeight = 0.1

// exploreEvery is how often (in decisions that chose publishes) a batch is sent anyway,
// so that a cost measured on a busy disk does not keep batches away for good.
const exploreEvery = 64

func ewma(avg float64, sample time.Duration) float64 {
	if avg == 0 {
		return float64(sample)
	}
	return avg + costWeight*(float64(sample)-avg)
}

func (c *groupCosts) batch(d time.Duration) {
	c.mu.Lock()
	c.batchNs = ewma(c.batchNs, d)
	c.mu.Unlock()
}

// batchCost returns the moving average of an atomic batch's cost in nanoseconds (0 before
// one is measured).
func (c *groupCosts) batchCost() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batchNs
}

func (c *groupCosts) publishes(n int, d time.Duration) {
	c.mu.Lock()
	c.publishNs = ewma(c.publishNs, d/time.Duration(n))
	c.mu.Unlock()
}

// favoursBatch reports whether n publishes are expected to take longer than one batch.
func (c *groupCosts) favoursBatch(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batchNs == 0 || c.publishNs == 0 {
		return n >= startMinBatch
	}
	if float64(n)*c.publishNs >= c.batchNs {
		return true
	}
	c.decisions++
	return c.decisions%exploreEvery == 0
}

// MinBatchNow returns the fewest waiting appends the store would now send as one atomic
// batch.
func (g *GroupStore) MinBatchNow() int {
	if g.minBatch > 0 {
		return g.minBatch
	}
	c := &g.costs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batchNs == 0 || c.publishNs == 0 {
		return startMinBatch
	}
	return min(max(2, int(c.batchNs/c.publishNs+0.999)), g.maxBatch)
}
