package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/internal/worker"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
)

func (v *Views) loadView(ctx context.Context, kv jetstream.KeyValue, view projections.View) (cp checkpoint, fence uint64, err error) {
	st, err := v.js.Stream(ctx, "KV_"+kv.Bucket())
	if err != nil {
		return cp, 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return cp, 0, err
	}
	if info.State.Msgs == 0 {
		return cp, 0, nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy})
	if err != nil {
		return cp, 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return cp, 0, err
	}
	defer it.Stop()
	prefix := "$KV." + kv.Bucket() + "."
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return cp, 0, err
		}
		md, err := msg.Metadata()
		if err != nil {
			return cp, 0, err
		}
		key := strings.TrimPrefix(msg.Subject(), prefix)
		op := msg.Headers().Get("KV-Operation")
		switch {
		case op == "DEL" || op == "PURGE":
		case key == checkpointKey:
			if err := json.Unmarshal(msg.Data(), &cp); err != nil {
				return cp, 0, fmt.Errorf("checkpoint: %w", err)
			}
			fence = md.Sequence.Stream
		default:
			if err := view.Restore(key, msg.Data()); err != nil {
				return cp, 0, fmt.Errorf("restore %s: %w", key, err)
			}
		}
		if md.NumPending == 0 {
			return cp, fence, nil
		}
	}
}

// errFenced means another writer wrote the view since this one loaded it.
var errFenced = errors.New("another writer has written the view")

// flush stores the documents under keys and the checkpoint in one atomic batch, on
// condition that the checkpoint is still the one this writer last wrote (fence).
func (v *Views) flush(ctx context.Context, kv jetstream.KeyValue, view projections.View, keys []string, cp checkpoint, fence uint64) (uint64, error) {
	prefix := "$KV." + kv.Bucket() + "."
	cpBody, _ := json.Marshal(cp)
	// The checkpoint goes last: a reader watching the bucket (query.Index) that sees it
	// has then seen every document it covers.
	last := nats.NewMsg(prefix + checkpointKey)
	last.Data = cpBody
	last.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(fence, 10))
	var msgs []*nats.Msg
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		m := nats.NewMsg(prefix + k)
		if doc := view.Doc(k); doc != nil {
			m.Data = doc
		} else {
			m.Header.Set("KV-Operation", "DEL")
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, last)
	if len(msgs) > jsstore.MaxBatchMessages {
		return 0, fmt.Errorf("view %s: %d documents changed in one flush, over the batch limit", view.Name(), len(keys))
	}
	var ack *jetstreamext.BatchAck
	var err error
	if len(msgs) == 1 {
		var pa *jetstream.PubAck
		pa, err = v.js.PublishMsg(ctx, last)
		if err == nil {
			return pa.Sequence, nil
		}
	} else {
		ack, err = jetstreamext.PublishMsgBatch(ctx, v.js, msgs, jetstreamext.BatchFlowControl{AckFirst: false})
		if err == nil {
			return ack.Sequence, nil // the checkpoint's, the batch's last
		}
	}
	if jsstore.WrongLastSequence(err) {
		return 0, errFenced
	}
	return 0, err
}

// Run keeps the views up to date until ctx ends: for each, it waits for the writer's
// lease, restores the view from its bucket, and applies new events from its durable
// consumer. Several processes may Run the same views; one writes each at a time.
func (v *Views) Run(ctx context.Context, newViews ...func() projections.View) error {
	var wg sync.WaitGroup
	for _, nv := range newViews {
		view := nv()
		name := view.Name()
		w := worker.New(worker.Config{
			Name: "view writer", JS: v.js, LeaseBucket: jsstore.LeaseBucket, LeaseKey: "view." + name,
			Owner: v.owner, LeaseTTL: v.ttl, Stream: v.store.Stream(),
			Consumer: jetstream.ConsumerConfig{
				Durable: "view-" + name, Description: "Redlane view writer: " + name,
				FilterSubjects: v.filters(view),
				MaxAckPending:  10 * flushEvents, AckWait: 30 * time.Second, InactiveThreshold: time.Hour,
			},
			Batch:    flushEvents,
			MaxPause: v.ttl, // readers wait on the view: retry soon
			Log:      v.log.With("view", name),
			Failed:   func(err error) { v.fail(name, err) },
			// Writing again, or not this process's to write any more.
			Recovered: func() { v.recovered(name) },
		}, &viewJob{v: v, nv: nv, name: name})
		wg.Go(func() { _ = w.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// viewJob is one view's writing, run by a worker.Worker. Each term restores the view
// from its bucket; each batch's documents and checkpoint go in one fenced atomic write.
type viewJob struct {
	v    *Views
	nv   func() projections.View
	name string

	view         projections.View
	kv           jetstream.KeyValue
	ptr          pointer
	cp           checkpoint
	fence        uint64 // the checkpoint's position in the bucket's stream
	feedSeq      uint64 // the event position of the last feed entry published
	pointerCheck time.Time
}

// Resume restores the view, as a new value, from the bucket that holds it now.
func (j *viewJob) Resume(ctx context.Context) (uint64, error) {
	v := j.v
	j.view = j.nv()
	kv, ptr, err := v.bucket(ctx, j.name)
	if err != nil {
		return 0, err
	}
	j.kv, j.ptr = kv, ptr
	if j.cp, j.fence, err = v.loadView(ctx, kv, j.view); err != nil {
		return 0, fmt.Errorf("load view %s: %w", j.name, err)
	}
	if err := v.sameStream(ctx, j.cp); err != nil {
		return 0, fmt.Errorf("view %s: %w", j.name, err)
	}
	j.cp.Stream = v.store.StreamName()
	// The documents name the positions they were written at, which after a period roll
	// are the earlier period's: the checkpoint says where the view stands in this one.
	projections.SetApplied(j.view, j.cp.Seq)
	if j.feedSeq, err = v.lastFeedSeq(ctx); err != nil {
		return 0, err
	}
	j.pointerCheck = time.Now().Add(v.ttl / 3)
	return j.cp.Seq, nil
}

// moved asks for a new term when a rebuild has switched the view to another bucket.
func (j *viewJob) moved(ctx context.Context) error {
	if time.Now().Before(j.pointerCheck) {
		return nil
	}
	j.pointerCheck = time.Now().Add(j.v.ttl / 3)
	if cur, err := j.v.currentPointer(ctx, j.name); err == nil && cur.Bucket != j.ptr.Bucket {
		j.v.log.Info("view switched to a rebuilt generation", "view", j.name, "bucket", cur.Bucket)
		return worker.ErrRestart
	}
	return nil
}

// Idle records that the view is caught up.
func (j *viewJob) Idle(ctx context.Context) error {
	if err := j.moved(ctx); err != nil {
		return err
	}
	j.v.lag.WithLabelValues(j.name).Set(0)
	j.v.lagSeconds.WithLabelValues(j.name).Set(0)
	return nil
}

// Handle applies a batch of events and stores the changed documents with the
// checkpoint, after publishing the feed entries the batch made.
func (j *viewJob) Handle(ctx context.Context, b worker.Batch) error {
	if err := j.moved(ctx); err != nil {
		return err
	}
	v, name, view := j.v, j.name, j.view
	var keys []string
	for i, msg := range b.Msgs {
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		if i == 0 { // the oldest event not yet applied
			v.lagSeconds.WithLabelValues(name).Set(max(0, time.Since(md.Timestamp).Seconds()))
		}
		j.cp.Seq = md.Sequence.Stream
		if !v.store.Obeys(md.Sequence.Stream, msg.Subject(), msg.Headers(), msg.Data()) {
			continue // not Redlane's: never shown as fact (reported by the store)
		}
		env, err := domain.DecodeEnvelope(msg.Data())
		if err != nil {
			// Not an event Redlane wrote: pass it over (audit verify names it).
			v.log.Warn("view skips a message that is no event", "view", name, "seq", md.Sequence.Stream, "err", err)
			continue
		}
		rec := domain.Recorded{Envelope: env, Seq: md.Sequence.Stream}
		changed, known := applyStored(view, rec)
		if !known {
			v.log.Warn("view passes over an event it cannot decode", "view", name, "seq", rec.Seq, "type", rec.Type)
		}
		keys = append(keys, changed...)
	}
	if fv, ok := view.(interface{ Take() []feed.Entry }); ok {
		var err error
		if j.feedSeq, err = v.publishFeed(ctx, fv.Take(), j.feedSeq); err != nil {
			return err
		}
	}
	j.cp.Writer, j.cp.At = v.owner, time.Now().UTC()
	fence, err := v.flush(ctx, j.kv, view, keys, j.cp, j.fence)
	if err != nil {
		return fmt.Errorf("view %s: flush: %w", name, err)
	}
	j.fence = fence
	v.lag.WithLabelValues(name).Set(float64(b.Pending))
	if b.Pending == 0 {
		v.lagSeconds.WithLabelValues(name).Set(0)
	}
	return nil
}

func (v *Views) currentPointer(ctx context.Context, view string) (pointer, error) {
	ptrs, err := v.js.KeyValue(ctx, PointerBucket)
	if err != nil {
		return pointer{}, err
	}
	e, err := ptrs.Get(ctx, view)
	if err != nil {
		return pointer{}, err
	}
	var p pointer
	err = json.Unmarshal(e.Value(), &p)
	return p, err
}

// sameStream refuses a checkpoint of another stream than the store's: its position
// means nothing here. A checkpoint without a stream is of the first period's stream.
func (v *Views) sameStream(ctx context.Context, cp checkpoint) error {
	stream := cp.Stream
	if stream == "" && cp.Seq > 0 {
		p, err := v.store.Period(ctx)
		if err != nil {
			return err
		}
		if p.Prev == "" {
			return nil
		}
		stream = "the first period's stream"
	}
	if stream != "" && stream != v.store.StreamName() {
		return fmt.Errorf("its checkpoint (%d) is a position in %s, not in %s: run redlane period roll to move it, or pass --stream %s", cp.Seq, stream, v.store.StreamName(), stream)
	}
	return nil
}

// lastFeedSeq returns the event position of the last feed entry published, in the
// store's stream: 0 when that entry came from another period's stream.
func (v *Views) lastFeedSeq(ctx context.Context) (uint64, error) {
	info, err := v.feedJS.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	msg, err := v.feedJS.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		return 0, err
	}
	if from := msg.Header.Get(HeaderSourceStream); from != "" && from != v.store.StreamName() {
		return 0, nil
	} else if from == "" {
		if p, err := v.store.Period(ctx); err != nil || p.Prev != "" {
			return 0, err // written before periods, in the first period's stream
		}
	}
	return strconv.ParseUint(msg.Header.Get(HeaderSourceSeq), 10, 64)
}

// FeedSubject is the subject of feed entries of a lane in a community.
func FeedSubject(community, lane string) string {
	tok := func(s string) string {
		if s == "" || !domain.ValidID(s) {
			return "-"
		}
		return s
	}
	return FeedSubjectRoot + "." + tok(community) + "." + tok(lane)
}

// publishFeed appends entries made after position after, each once.
func (v *Views) publishFeed(ctx context.Context, entries []feed.Entry, after uint64) (uint64, error) {
	for _, e := range entries {
		if e.Seq <= after {
			continue // published before a crash: the feed holds it already
		}
		body, err := json.Marshal(e)
		if err != nil {
			return after, err
		}
		m := nats.NewMsg(FeedSubject(e.Community, e.Lane))
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, e.EventID)
		m.Header.Set(HeaderSourceSeq, strconv.FormatUint(e.Seq, 10))
		m.Header.Set(HeaderSourceStream, v.store.StreamName())
		if v.store.Signer() != nil {
			m.Header.Set(jsstore.HeaderSignature, v.store.Signer().SignEvent(m.Subject, e.EventID, body))
			m.Header.Set(jsstore.HeaderKey, v.store.Signer().KeyID())
		}
		if _, err := v.js.PublishMsg(ctx, m); err != nil {
			return after, fmt.Errorf("feed: %w", err)
		}
		after = e.Seq
	}
	return after, nil
}
