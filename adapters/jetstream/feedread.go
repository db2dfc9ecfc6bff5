package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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
func (v *Views) feedPosition(ctx context.Context, after uint64) (uint64, error) {
	info, err := v.feedJS.Info(ctx)
	if err != nil {
		return 0, err
	}
	lo, hi := info.State.FirstSeq, info.State.LastSeq+1
	if info.State.Msgs == 0 {
		return hi, nil
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

// sourceSeqAtOrAfter returns the event position of the feed entry at stream position
// seq, or of the next one present.
func (v *Views) sourceSeqAtOrAfter(ctx context.Context, seq uint64) (uint64, error) {
	msg, err := v.feedJS.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		m, err2 := v.feedJS.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(FeedSubjectRoot+".>"))
		if err2 != nil {
			return 0, err2
		}
		msg = m
	} else if err != nil {
		return 0, err
	}
	return strconv.ParseUint(msg.Header.Get(HeaderSourceSeq), 10, 64)
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

func (v *Views) scanFeed(ctx context.Context, q feed.Query, from, until uint64, fn func(feed.Entry) bool) error {
	cons, err := v.feedJS.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{feedSubject(q)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
	})
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil || info.NumPending == 0 {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		e, ok, err := v.feedEntry(msg.Subject(), msg.Headers(), msg.Data())
		if err != nil {
			return fmt.Errorf("feed entry %d: %w", md.Sequence.Stream, err)
		}
		if ok && e.Matches(q.Lane, q.Community, q.Dimension) && !fn(e) {
			return nil
		}
		if md.NumPending == 0 || md.Sequence.Stream >= until {
			return nil
		}
	}
}

// FollowFeed calls fn with each entry matching q from q.After (or from now, when zero)
// as it is published, until ctx ends or fn returns an error.
func (v *Views) FollowFeed(ctx context.Context, q feed.Query, fn func(feed.Entry) error) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{feedSubject(q)}, DeliverPolicy: jetstream.DeliverNewPolicy}
	if q.After > 0 {
		start, err := v.feedPosition(ctx, q.After)
		if err != nil {
			return err
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := v.feedJS.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		e, ok, err := v.feedEntry(msg.Subject(), msg.Headers(), msg.Data())
		if err != nil {
			return err
		}
		if ok && e.Matches(q.Lane, q.Community, q.Dimension) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
}

// feedEntry decodes a feed message; ok is false when the store checks signatures and
// this entry's does not hold under a trusted key (someone on the bus published it): it
// is never shown.
func (v *Views) feedEntry(subject string, h nats.Header, data []byte) (e feed.Entry, ok bool, err error) {
	if keys := v.store.keys; keys != nil {
		if h == nil {
			h = nats.Header{}
		}
		if cerr := keys.CheckEvent(h, subject, h.Get(jetstream.MsgIDHeader), data); cerr != nil {
			v.log.Warn("feed: an entry that is not Redlane's is not shown", "subject", subject, "reason", RejectReason(cerr))
			return e, false, nil
		}
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, false, err
	}
	return e, true, nil
}
