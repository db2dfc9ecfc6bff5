package jetstream

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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/internal/lease"
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
	if len(msgs) > maxBatchMessages {
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
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeWrongLastSeq || apiErr.ErrorCode == errCodeWrongLastSeqConst) {
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := nv().Name()
			for ctx.Err() == nil {
				err := v.write(ctx, nv)
				if ctx.Err() != nil {
					return
				}
				switch {
				case errors.Is(err, lease.ErrLost):
					v.log.Info("view writer lost its lease; another process writes the view", "view", name)
					v.recovered(name) // not this process's to write any more
				case err != nil:
					v.fail(name, err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(v.ttl / 5):
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// write is one tenure as a view's writer: it returns when the lease is lost, the
// pointer moves (a rebuild), or something fails.
func (v *Views) write(ctx context.Context, nv func() projections.View) error {
	view := nv()
	name := view.Name()
	leases, err := v.js.KeyValue(ctx, LeaseBucket)
	if err != nil {
		return err
	}
	leaseKey := "view." + name
	held, err := lease.Acquire(ctx, leases, leaseKey, v.owner, v.ttl)
	if err != nil || held == nil {
		return err
	}
	v.log.Debug("view writer acquired lease", "view", name, "owner", v.owner)
	defer held.Release() // hand the view over at once on a graceful stop
	kv, ptr, err := v.bucket(ctx, name)
	if err != nil {
		return err
	}
	cp, fence, err := v.loadView(ctx, kv, view)
	if err != nil {
		return fmt.Errorf("load view %s: %w", name, err)
	}
	feedSeq, err := v.lastFeedSeq(ctx)
	if err != nil {
		return err
	}
	// The durable consumer starts where the checkpoint says, whatever it acked before:
	// the checkpoint, stored with the documents, is the truth.
	durable := "view-" + name
	_ = v.store.stream.DeleteConsumer(ctx, durable)
	cons, err := v.store.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: durable, Description: "Redlane view writer: " + name,
		FilterSubjects: v.filters(view), AckPolicy: jetstream.AckAllPolicy,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: cp.Seq + 1,
		MaxAckPending: 10 * flushEvents, AckWait: 30 * time.Second, InactiveThreshold: time.Hour,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", durable, err)
	}
	pointerCheck := time.Now().Add(v.ttl / 3)
	for ctx.Err() == nil {
		if err := held.Renew(ctx); err != nil {
			return fmt.Errorf("view %s: %w", name, err)
		}
		if time.Now().After(pointerCheck) {
			pointerCheck = time.Now().Add(v.ttl / 3)
			if cur, err := v.currentPointer(ctx, name); err == nil && cur.Bucket != ptr.Bucket {
				v.log.Info("view switched to a rebuilt generation", "view", name, "bucket", cur.Bucket)
				return nil
			}
		}
		batch, err := cons.Fetch(flushEvents, jetstream.FetchMaxWait(v.ttl/5))
		if err != nil {
			return err
		}
		var last jetstream.Msg
		var keys []string
		var pending uint64
		applied := false
		for msg := range batch.Messages() {
			last = msg
			md, err := msg.Metadata()
			if err != nil {
				return err
			}
			pending = md.NumPending
			if md.Sequence.Stream <= cp.Seq {
				continue // applied before a crash or a takeover: skip, ack below
			}
			if !applied { // the oldest event not yet applied
				v.lagSeconds.WithLabelValues(name).Set(max(0, time.Since(md.Timestamp).Seconds()))
			}
			if !v.store.Obeys(md.Sequence.Stream, msg.Subject(), msg.Headers(), msg.Data()) {
				cp.Seq = md.Sequence.Stream // not Redlane's: never shown as fact (reported by the store)
				applied = true
				continue
			}
			env, err := domain.DecodeEnvelope(msg.Data())
			if err != nil {
				// Not an event Redlane wrote: pass it over (audit verify names it).
				v.log.Warn("view skips a message that is no event", "view", name, "seq", md.Sequence.Stream, "err", err)
				cp.Seq = md.Sequence.Stream
				applied = true
				continue
			}
			rec := domain.Recorded{Envelope: env, Seq: md.Sequence.Stream}
			changed, known := applyStored(view, rec)
			if !known {
				v.log.Warn("view passes over an event it cannot decode", "view", name, "seq", rec.Seq, "type", rec.Type)
			}
			keys = append(keys, changed...)
			cp.Seq = rec.Seq
			applied = true
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		if last == nil {
			v.lag.WithLabelValues(name).Set(0)
			v.lagSeconds.WithLabelValues(name).Set(0)
			v.recovered(name) // caught up, and nothing to write
			continue
		}
		if applied {
			if fv, ok := view.(interface{ Take() []feed.Entry }); ok {
				if feedSeq, err = v.publishFeed(ctx, fv.Take(), feedSeq); err != nil {
					return err
				}
			}
			cp.Writer, cp.At = v.owner, time.Now().UTC()
			if fence, err = v.flush(ctx, kv, view, keys, cp, fence); err != nil {
				return fmt.Errorf("view %s: flush: %w", name, err)
			}
			v.recovered(name)
		}
		if err := last.Ack(); err != nil {
			return err
		}
		v.lag.WithLabelValues(name).Set(float64(pending))
		if pending == 0 {
			v.lagSeconds.WithLabelValues(name).Set(0)
		}
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

// lastFeedSeq returns the event position of the last feed entry published.
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
		if v.store.signer != nil {
			m.Header.Set(HeaderSignature, v.store.signer.SignEvent(m.Subject, e.EventID, body))
			m.Header.Set(HeaderKey, v.store.signer.KeyID())
		}
		if _, err := v.js.PublishMsg(ctx, m); err != nil {
			return after, fmt.Errorf("feed: %w", err)
		}
		after = e.Seq
	}
	return after, nil
}
