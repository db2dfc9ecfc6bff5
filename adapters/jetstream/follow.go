package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
)

// FollowSubjects reads every stored message on the stream's subjects matching filters,
// from the first, and then follows new ones until ctx ends. It calls fn with each event
// in stream order, and caughtUp once, when it has delivered everything that was stored
// when it started (at once when there was nothing). An ordered consumer is used, so
// nothing is stored on the server for the follower and a reconnect resumes in order.
// Events the store does not obey are passed over.
func (s *Store) FollowSubjects(ctx context.Context, filters []string, fn func(domain.Recorded) error, caughtUp func()) error {
	cons, err := s.js.OrderedConsumer(ctx, s.name, jetstream.OrderedConsumerConfig{
		FilterSubjects: filters,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("follow %v: %w", filters, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("follow %v: %w", filters, err)
	}
	signalled := false
	signal := func() {
		if !signalled && caughtUp != nil {
			signalled = true
			caughtUp()
		}
	}
	if info.NumPending == 0 {
		signal()
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("follow %v: %w", filters, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			// Transient trouble (a reconnect): the ordered consumer resets itself.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("follow %v: %w", filters, err)
		}
		// A message that is no event (put there by hand) is passed over: audit verify
		// names it.
		if env, err := domain.DecodeEnvelope(msg.Data()); err == nil && s.check(md.Sequence.Stream, msg.Subject(), msg.Headers(), msg.Data()) == nil {
			if err := fn(domain.Recorded{Envelope: env, Seq: md.Sequence.Stream}); err != nil {
				return err
			}
		}
		if md.NumPending == 0 {
			signal()
		}
	}
}
