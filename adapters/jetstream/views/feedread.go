package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/projections/feed"
)

// feedSubject is the subject filter of a feed query.
func feedSubject(q feed.Query) string {
	c, l := "*", "*"
	if q.Community != "" {
		c = q.Community
	}
	if q.Lane != "" {
		l = q.Lane
	}
	return FeedSubjectRoot + "." + c + "." + l
}

// feedPosition returns the feed stream position of the first entry whose event comes
// after the event position after: entries are in event order, so a binary search over
// the stream finds it in a few direct gets.
//
// After a period roll (jetstream/period.go) event positions start again below the
// earlier period's, so the feed holds runs of increasing positions, one a period. after
// is taken as a position of the current period when that period's entries reach it
// (from just before their first to their last), else as one of the period before: a
// terminal that last saw an entry before the roll gets the first entries after it. (Once
// the current period's positions pass the last of the period before, a position of
// both is taken as the current period's.)
func (v *Views) feedPosition(ctx context.Context, after uint64) (uint64, error) {
	info, err := v.feedJS.Info(ctx)
	if err != nil {
		return 0, err
	}
	lo, hi := info.State.FirstSeq, info.State.LastSeq+1
	if info.State.Msgs == 0 {
		return hi, nil
	}
	if b, err := v.periodStart(ctx, lo, hi); err != nil {
		return 0, err
	} else if b > lo && b < hi {
		first, err := v.sourceSeqAtOrAfter(ctx, b)
		if err != nil {
			return 0, err
		}
		last, err := v.sourceSeqAtOrAfter(ctx, hi-1)
		if err != nil {
			return 0, err
		}
		if after+1 >= first && after <= last {
			lo = b // within the current period's entries
		} else {
			hi = b // an earlier period's position
		}
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		src, err := v.sourceSeqAtOrAfter(ctx, mid)
		if err != nil {
			return 0, err
		}
		if src > after {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// periodStart returns the feed position of the first entry from the current period's
// stream among positions [lo, hi) (hi when none is; lo when all are, or when the log
// never rolled). Entries of a period follow those of the periods before it.
//
// Both are read once: a period's stream and its place in the feed do not change while
// it is current (a roll stops every serve).
func (v *Views) periodStart(ctx context.Context, lo, hi uint64) (uint64, error) {
	v.mu.Lock()
	rolled, known := v.rolled, v.periodEntry
	v.mu.Unlock()
	if rolled == 0 {
		p, err := v.store.Period(ctx)
		if err != nil {
			return lo, err
		}
		rolled = 1
		if p.Prev != "" {
			rolled = 2
		}
		v.mu.Lock()
		v.rolled = rolled
		v.mu.Unlock()
	}
	if rolled == 1 {
		return lo, nil
	}
	if known > 0 {
		return max(known, lo), nil
	}
	b, err := v.searchPeriodStart(ctx, lo, hi)
	if err == nil && b < hi {
		v.mu.Lock()
		v.periodEntry = b
		v.mu.Unlock()
	}
	return b, err
}

// searchPeriodStart is periodStart's binary search.
func (v *Views) searchPeriodStart(ctx context.Context, lo, hi uint64) (uint64, error) {
	current := v.store.StreamName()
	for lo < hi {
		mid := lo + (hi-lo)/2
		stream, err := v.sourceStreamAtOrAfter(ctx, mid)
		if err != nil {
			return 0, err
		}
		if stream == current {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// sourceSeqAtOrAfter returns the event position of the feed entry at stream position
// seq, or of the next one present.
func (v *Views) sourceSeqAtOrAfter(ctx context.Context, seq uint64) (uint64, error) {
	msg, err := v.feedEntryAtOrAfter(ctx, seq)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(msg.Header.Get(HeaderSourceSeq), 10, 64)
}

// sourceStreamAtOrAfter returns the event stream (the period) of the feed entry at
// stream position seq, or of the next one present ("" for an entry written before
// entries named it).
func (v *Views) sourceStreamAtOrAfter(ctx context.Context, seq uint64) (string, error) {
	msg, err := v.feedEntryAtOrAfter(ctx, seq)
	if err != nil {
		return "", err
	}
	return msg.Header.Get(HeaderSourceStream), nil
}

func (v *Views) feedEntryAtOrAfter(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	msg, err := v.feedJS.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return v.feedJS.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(FeedSubjectRoot+".>"))
	}
	return msg, err
}

// Feed returns entries matching q, oldest first: those after q.After, or without it the
// newest q.Limit.
func (v *Views) Feed(ctx context.Context, q feed.Query) ([]feed.Entry, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	info, err := v.feedJS.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.State.Msgs == 0 {
		return []feed.Entry{}, nil
	}
	var start uint64
	if q.After > 0 {
		if start, err = v.feedPosition(ctx, q.After); err != nil {
			return nil, err
		}
	} else {
		// The newest entries: look back a bounded window, keep the last Limit.
		window := uint64(q.Limit) * 100
		start = max(info.State.FirstSeq, info.State.LastSeq-min(info.State.LastSeq, window)+1)
	}
	if start > info.State.LastSeq {
		return []feed.Entry{}, nil
	}
	out := []feed.Entry{}
	err = v.scanFeed(ctx, q, start, info.State.LastSeq, func(e feed.Entry) bool {
		out = append(out, e)
		if q.After > 0 {
			return len(out) < q.Limit
		}
		if len(out) > q.Limit {
			out = out[1:]
		}
		return true
	})
	return out, err
}

// scanFeed calls fn with each entry matching q at feed positions from through until, in
// order, until fn says stop. It reads with batched direct gets: no consumer is made, so
// a read costs the server nothing to keep.
func (v *Views) scanFeed(ctx context.Context, q feed.Query, from, until uint64, fn func(feed.Entry) bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	nc := v.js.Conn()
	subject := feedSubject(q)
	stop := errors.New("stop")
	for from <= until {
		req, err := json.Marshal(jsstore.DirectGetRequest{Seq: from, NextFor: subject, Batch: min(jsstore.ScanBatch, int(until-from+1))})
		if err != nil {
			return err
		}
		pending, next, err := jsstore.DirectBatch(ctx, nc, v.feedDirect, req, until, func(m *nats.Msg, seq uint64) error {
			// A direct get's answer comes on an inbox; the entry's subject is a header.
			e, ok, err := v.feedEntry(m.Header.Get(jetstream.SubjectHeader), m.Header, m.Data)
			if err != nil {
				return fmt.Errorf("feed entry %d: %w", seq, err)
			}
			if ok && e.Matches(q.Lane, q.Community, q.Dimension) && !fn(e) {
				return stop
			}
			return nil
		})
		if errors.Is(err, stop) {
			return nil
		}
		if err != nil || pending == 0 || next == 0 {
			return err
		}
		from = next
	}
	return nil
}

// FollowFeed calls fn with each entry matching q from q.After (or from now, when zero)
// as it is published, until ctx ends or fn returns an error. Every follower in the
// process shares one subscription to the feed's subjects (feedHub); what came before it
// subscribed is read with direct gets. A follower too slow to keep up is let go with
// ErrFeedBehind, to come back from its last entry (an SSE client's Last-Event-ID).
func (v *Views) FollowFeed(ctx context.Context, q feed.Query, fn func(feed.Entry) error) error {
	c, leave, err := v.hub.join(v, q)
	if err != nil {
		return err
	}
	defer leave()
	last := q.After
	if q.After > 0 {
		info, err := v.feedJS.Info(ctx)
		if err != nil {
			return err
		}
		start, err := v.feedPosition(ctx, q.After)
		if err != nil {
			return err
		}
		var ferr error
		err = v.scanFeed(ctx, q, start, info.State.LastSeq, func(e feed.Entry) bool {
			if e.Seq <= last {
				return true
			}
			if ferr = fn(e); ferr != nil {
				return false
			}
			last = e.Seq
			return true
		})
		if ferr != nil {
			return ferr
		}
		if err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-c.ch:
			if !ok {
				return ErrFeedBehind
			}
			if e.Seq <= last && last > 0 {
				continue // read already from the stream, before it came live
			}
			if err := fn(e); err != nil {
				return err
			}
			last = e.Seq
		}
	}
}

// ErrFeedBehind is FollowFeed's answer to a follower that fell too far behind.
var ErrFeedBehind = errors.New("feed: the follower fell behind; follow again from the last entry")

// feedHub fans the feed's live entries out to every follower in the process from one
// subscription, made on the first follower and ended after the last.
type feedHub struct {
	mu      sync.Mutex
	sub     *nats.Subscription
	clients map[*feedFollower]struct{}
}

type feedFollower struct {
	q  feed.Query
	ch chan feed.Entry
}

// followerBuffer is how many entries a follower may have waiting before it is let go.
const followerBuffer = 512

func (h *feedHub) join(v *Views, q feed.Query) (*feedFollower, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sub == nil {
		sub, err := v.js.Conn().Subscribe(FeedSubjectRoot+".>", func(m *nats.Msg) {
			e, ok, err := v.feedEntry(m.Subject, m.Header, m.Data)
			if err != nil || !ok {
				return
			}
			h.deliver(e)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("feed: subscribe: %w", err)
		}
		h.sub, h.clients = sub, map[*feedFollower]struct{}{}
	}
	c := &feedFollower{q: q, ch: make(chan feed.Entry, followerBuffer)}
	h.clients[c] = struct{}{}
	return c, func() { h.leave(c) }, nil
}

func (h *feedHub) deliver(e feed.Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if !e.Matches(c.q.Lane, c.q.Community, c.q.Dimension) {
			continue
		}
		select {
		case c.ch <- e:
		default: // too slow: let it go, to come back from where it was
			delete(h.clients, c)
			close(c.ch)
		}
	}
}

func (h *feedHub) leave(c *feedFollower) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.ch)
	}
	if len(h.clients) == 0 && h.sub != nil {
		_ = h.sub.Unsubscribe()
		h.sub = nil
	}
}

// Followers returns how many live feed followers the process has.
func (v *Views) Followers() int {
	v.hub.mu.Lock()
	defer v.hub.mu.Unlock()
	return len(v.hub.clients)
}

// feedEntry decodes a feed message; ok is false when the store checks signatures and
// this entry's does not hold under a trusted key (someone on the bus published it): it
// is never shown.
func (v *Views) feedEntry(subject string, h nats.Header, data []byte) (e feed.Entry, ok bool, err error) {
	if keys := v.store.Keys(); keys != nil {
		if h == nil {
			h = nats.Header{}
		}
		if cerr := keys.CheckEvent(h, subject, h.Get(jetstream.MsgIDHeader), data); cerr != nil {
			v.log.Warn("feed: an entry that is not Redlane's is not shown", "subject", subject, "reason", jsstore.RejectReason(cerr))
			return e, false, nil
		}
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, false, err
	}
	return e, true, nil
}
