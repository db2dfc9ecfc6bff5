package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
)

// Load returns the aggregate's events after position after, oldest first.
//
// It first asks for the aggregate's last event, which answers most loads alone. Reading
// the events before it makes the server walk the stream from one of the aggregate's
// events to the next, so Load avoids that walk when versions show there is nothing to
// find: the last event's aggregate version, against the version of the event at after,
// tells how many events lie between (versions grow by one per event on a subject).
func (s *Store) Load(ctx context.Context, aggType, aggID string, after uint64) ([]domain.Recorded, error) {
	subj, err := s.subject(aggType, aggID)
	if err != nil {
		return nil, err
	}
	lastMsg, err := s.stream.GetLastMsgForSubject(ctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: last event: %w", subj, err)
	}
	if lastMsg.Sequence <= after {
		return nil, nil
	}
	if s.check(lastMsg.Sequence, subj, lastMsg.Header, lastMsg.Data) != nil {
		// The last message is not Redlane's: read all after after, keep what is.
		return s.loadTrusted(ctx, subj, after, lastMsg.Sequence)
	}
	lastEnv, err := domain.DecodeEnvelope(lastMsg.Data)
	if err != nil {
		return nil, fmt.Errorf("load %s: event at %d: %w", subj, lastMsg.Sequence, err)
	}
	last := domain.Recorded{Envelope: lastEnv, Seq: lastMsg.Sequence}
	if last.Seq == after+1 {
		return []domain.Recorded{last}, nil
	}

	// between is how many events lie between after and last; -1 when unknown.
	between := -1
	if after == 0 {
		between = int(min(last.Version-1, 1<<20))
	} else if prev, err := s.stream.GetMsg(ctx, after); err == nil && prev.Subject == subj {
		if v, err := strconv.ParseUint(prev.Header.Get(HeaderVersion), 10, 64); err == nil && v < last.Version {
			between = int(min(last.Version-v-1, 1<<20))
		}
	} else if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("load %s: event at %d: %w", subj, after, err)
	}
	if between == 0 {
		return []domain.Recorded{last}, nil
	}

	out, err := s.loadRange(ctx, subj, after, last.Seq-1, between, 1)
	if err != nil {
		return nil, err
	}
	return append(out, last), nil
}

// loadTrusted returns the events on subj after position after, up to until, that the
// store obeys.
func (s *Store) loadTrusted(ctx context.Context, subj string, after, until uint64) ([]domain.Recorded, error) {
	return s.loadRange(ctx, subj, after, until, 0, 0)
}

// loadRange reads the events on subj after position after, up to until, passing over
// those the store does not obey (never part of an aggregate's history); want and beyond
// are scan's.
func (s *Store) loadRange(ctx context.Context, subj string, after, until uint64, want int, beyond uint64) ([]domain.Recorded, error) {
	out := make([]domain.Recorded, 0, max(want, 0)+1)
	err := s.scan(ctx, subj, after+1, until, want, beyond, func(m *nats.Msg, seq uint64) error {
		if s.check(seq, subj, m.Header, m.Data) != nil {
			return nil
		}
		env, err := domain.DecodeEnvelope(m.Data)
		if err != nil {
			return fmt.Errorf("event at %d: %w", seq, err)
		}
		out = append(out, domain.Recorded{Envelope: env, Seq: seq})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load %s after %d: %w", subj, after, err)
	}
	return out, nil
}

// directGetRequest is a batched direct get: up to Batch messages on NextFor from Seq.
// DirectGetRequest asks a stream's batched direct get for up to Batch messages from Seq
// on, of subject NextFor.
type DirectGetRequest = directGetRequest

type directGetRequest struct {
	Seq     uint64 `json:"seq"`
	NextFor string `json:"next_by_subj"`
	Batch   int    `json:"batch"`
}

// scan calls fn with each message on subj at positions from through until (0: the end),
// in order, reading with batched direct gets. want, when positive, is how many messages
// the caller expects; it sizes the first batch, so that the server stops looking when it
// has found them. beyond is how many messages on subj the caller knows of after until:
// when the server reports no more than those pending, the scan is complete.
func (s *Store) scan(ctx context.Context, subj string, from, until uint64, want int, beyond uint64, fn func(m *nats.Msg, seq uint64) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.apiTimeout)
		defer cancel()
	}
	nc := s.js.Conn()
	for until == 0 || from <= until {
		batch := scanBatch
		if want > 0 {
			batch, want = min(want, scanBatch), 0
		}
		if until > 0 && until-from+1 < uint64(batch) {
			batch = int(until - from + 1)
		}
		req, err := json.Marshal(directGetRequest{Seq: from, NextFor: subj, Batch: batch})
		if err != nil {
			return err
		}
		pending, next, err := directBatch(ctx, nc, s.directGet, req, until, fn)
		if err != nil || pending <= beyond || next == 0 {
			return err
		}
		from = next
	}
	return nil
}

// directBatch runs one batched direct get on the stream whose direct get API subject is
// api. It returns how many messages on the subject the server has after those it sent,
// and the position to go on from (0: stop).
// DirectBatch sends one batched direct get request to the API subject api and calls fn
// for each message, up to until; it returns how many the server says are pending and the
// next position to ask for.
func DirectBatch(ctx context.Context, nc *nats.Conn, api string, req []byte, until uint64, fn func(*nats.Msg, uint64) error) (pending, next uint64, err error) {
	return directBatch(ctx, nc, api, req, until, fn)
}

func directBatch(ctx context.Context, nc *nats.Conn, api string, req []byte, until uint64, fn func(*nats.Msg, uint64) error) (pending, next uint64, err error) {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, 0, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(api, inbox, req); err != nil {
		return 0, 0, err
	}
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("direct get: %w", err)
		}
		if len(msg.Data) == 0 {
			switch status := msg.Header.Get("Status"); status {
			case "":
			case "204": // end of batch
				pending, err := strconv.ParseUint(msg.Header.Get("Nats-Num-Pending"), 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("direct get: end of batch without pending count")
				}
				return pending, next, nil
			case "404": // nothing (more) on the subject
				return 0, 0, nil
			default:
				return 0, 0, fmt.Errorf("direct get: %s %s", status, msg.Header.Get("Description"))
			}
		}
		seq, err := strconv.ParseUint(msg.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("direct get: bad sequence header %q", msg.Header.Get(jetstream.SequenceHeader))
		}
		if until > 0 && seq > until {
			return 0, 0, nil
		}
		if err := fn(msg, seq); err != nil {
			return 0, 0, err
		}
		next = seq + 1
	}
}

// LastSeq returns the stream's last position, 0 when it is empty.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", s.name, err)
	}
	return info.State.LastSeq, nil
}

// SubjectCount returns how many distinct subjects (aggregates) the stream holds: what
// the server keeps per-subject state for (docs/scale.md).
func (s *Store) SubjectCount(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", s.name, err)
	}
	return info.State.NumSubjects, nil
}

// MessageCount returns how many events the stream holds.
func (s *Store) MessageCount(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", s.name, err)
	}
	return info.State.Msgs, nil
}

// ReadAll calls fn with every event of every aggregate from position from up to the last
// position when it is called, in log order, reading with an ordered consumer. Messages
// that are not events, or not events the store obeys, are passed over. It stops at fn's first error and returns it.
func (s *Store) ReadAll(ctx context.Context, from uint64, fn func(domain.Recorded) error) error {
	last, err := s.LastSeq(ctx)
	if err != nil {
		return err
	}
	from = max(from, 1)
	if last < from {
		return nil
	}
	cons, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return fmt.Errorf("read %s from %d: %w", s.name, from, err)
	}
	if info, err := cons.Info(ctx); err != nil {
		return fmt.Errorf("read %s from %d: %w", s.name, from, err)
	} else if info.NumPending == 0 {
		return nil // everything from there on was deleted
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return fmt.Errorf("read %s from %d: %w", s.name, from, err)
	}
	defer func() {
		it.Stop()
		name := cons.CachedInfo().Name
		dctx, cancel := context.WithTimeout(context.Background(), s.apiTimeout)
		defer cancel()
		_ = s.stream.DeleteConsumer(dctx, name) // best effort; it expires when inactive
	}()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("read %s: %w", s.name, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read %s: %w", s.name, err)
		}
		seq := md.Sequence.Stream
		// A message that is no event (put there by hand, not by Redlane) is passed
		// over: audit verify names it.
		if env, err := domain.DecodeEnvelope(msg.Data()); err == nil && s.check(seq, msg.Subject(), msg.Headers(), msg.Data()) == nil {
			if err := fn(domain.Recorded{Envelope: env, Seq: seq}); err != nil {
				return err
			}
		}
		if seq >= last || md.NumPending == 0 {
			return nil
		}
	}
}
