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

// SecretsBucket holds the secrets every Redlane process shares (the receipt key, the
// residents' pepper). Only the service's NATS user may read it.
const SecretsBucket = "REDLANE_SECRETS"

// SharedSecret returns the named secret from the REDLANE_SECRETS key-value bucket,
// creating it from fresh when it is absent. Every process on one NATS system gets the
// same bytes: the first to create it wins.
func SharedSecret(ctx context.Context, js jetstream.JetStream, name string, fresh func() []byte, replicas int) ([]byte, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: SecretsBucket, Description: "Redlane's shared secrets (receipt key)",
		History: 1, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("secrets bucket: %w", err)
	}
	if e, err := kv.Get(ctx, name); err == nil {
		return e.Value(), nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if _, err := kv.Create(ctx, name, fresh()); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	e, err := kv.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return e.Value(), nil
}
