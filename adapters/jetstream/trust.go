package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redlane/redlane/domain"
)

// Rejections records the events a process set aside because Redlane did not sign them:
// each is counted once in redlane_events_rejected_total{reason} and logged once with its
// stream sequence, however many readers meet it. It is safe for concurrent use.
type Rejections struct {
	log     *slog.Logger
	counter *prometheus.CounterVec

	mu    sync.Mutex
	seen  map[uint64]string // stream sequence → reason
	count uint64
}

// maxRemembered bounds the positions Rejections remembers; past it every report counts.
const maxRemembered = 100_000

// NewRejections returns a recorder that logs to log and, when reg is set, registers its
// counter there.
func NewRejections(log *slog.Logger, reg prometheus.Registerer) (*Rejections, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Rejections{log: log, seen: map[uint64]string{}, counter: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "redlane_events_rejected_total",
		Help: "Events in the log that Redlane did not sign (unsigned, bad_signature, untrusted_key), each counted once: set aside, never obeyed.",
	}, []string{"reason"})}
	for _, reason := range []string{"unsigned", "bad_signature", "untrusted_key"} {
		r.counter.WithLabelValues(reason)
	}
	if reg != nil {
		if err := reg.Register(r.counter); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Report records that the event at seq on subject was set aside for err.
func (r *Rejections) Report(seq uint64, subject string, err error) {
	if r == nil {
		return
	}
	reason := RejectReason(err)
	r.mu.Lock()
	if _, dup := r.seen[seq]; dup {
		r.mu.Unlock()
		return
	}
	if len(r.seen) < maxRemembered {
		r.seen[seq] = reason
	}
	r.count++
	r.mu.Unlock()
	r.counter.WithLabelValues(reason).Inc()
	r.log.Error("an event in the log is not Redlane's: set aside, not obeyed", "seq", seq, "subject", subject, "reason", reason, "err", err)
}

// Count returns how many events were set aside.
func (r *Rejections) Count() uint64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Seqs returns up to n of the positions set aside, lowest first.
func (r *Rejections) Seqs(n int) []uint64 {
	r.mu.Lock()
	out := make([]uint64, 0, len(r.seen))
	for s := range r.seen {
		out = append(out, s)
	}
	r.mu.Unlock()
	slices.Sort(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Keys returns the keyring the store checks events with; nil when it checks none.
func (s *Store) Keys() *Keyring { return s.keys }

// Rejections returns where the store reports what it sets aside.
func (s *Store) Rejections() *Rejections { return s.rejected }

// Signer returns the store's signer, nil when it signs nothing.
func (s *Store) Signer() *Signer { return s.signer }

// check says whether a stored message is an event Redlane signed under a trusted key:
// nil, or why not. A store without a keyring obeys every message.
// Check reports why the stored message at seq is not an event Redlane obeys (unsigned,
// signed by an untrusted key, altered), or nil when it is one.
func (s *Store) Check(seq uint64, subject string, h nats.Header, data []byte) error {
	return s.check(seq, subject, h, data)
}

func (s *Store) check(seq uint64, subject string, h nats.Header, data []byte) error {
	if s.keys == nil {
		return nil
	}
	if h == nil {
		h = nats.Header{}
	}
	sig := h.Get(HeaderSignature)
	if s.checked.has(seq, sig) {
		return nil
	}
	err := s.keys.CheckEventAt(seq, h, subject, msgID(h, data), data)
	if err != nil {
		s.rejected.Report(seq, subject, err)
		return err
	}
	s.checked.add(seq, sig)
	return nil
}

// checkedSigs remembers which positions' signatures held, so that the readers of one
// process (the runner, the directory, each view writer) check an event once between
// them, and the events it appended itself not at all. A position's message never
// changes, and the signature is part of the key. Bounded: when full it starts again.
type checkedSigs struct {
	mu sync.Mutex
	m  map[uint64]string
}

const maxCheckedSigs = 1 << 17

func (c *checkedSigs) has(seq uint64, sig string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.m[seq]
	return ok && got == sig && sig != ""
}

func (c *checkedSigs) add(seq uint64, sig string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCheckedSigs {
		c.m = make(map[uint64]string, 1024)
	}
	c.m[seq] = sig
}

// Obeys reports whether the message at seq is one the store obeys, reporting it when
// not. Readers that take messages from the stream themselves (view writers, the
// mirror) ask before they use one.
func (s *Store) Obeys(seq uint64, subject string, h nats.Header, data []byte) bool {
	return s.check(seq, subject, h, data) == nil
}

// keyEvent returns the stored key event of key id kid, for the keyring.
func (s *Store) keyEvent(ctx context.Context, kid string) (*RawEvent, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, s.Subject(SignerAggregate, kid))
	if err != nil {
		return nil, err
	}
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	return &RawEvent{Seq: m.Sequence, Subject: m.Subject, Header: m.Header, Data: m.Data, Stored: m.Time}, nil
}

// RootKey returns the key of the log's first key event, when it introduces itself (a
// root), and where it is; nil when the log has none. A reader that pins no key may
// take the root from there: nobody can place an event before the log's first.
func (s *Store) RootKey(ctx context.Context) (*RawEvent, []byte, error) {
	m, err := s.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(s.Subject(SignerAggregate, "*")))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the log's first key event: %w", err)
	}
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	ev := &RawEvent{Seq: m.Sequence, Subject: m.Subject, Header: m.Header, Data: m.Data, Stored: m.Time}
	pub, err := selfIntroduced(ev)
	if err != nil {
		return ev, nil, err
	}
	return ev, pub, nil
}

// History returns every event stored for an aggregate, oldest first, those the store
// does not obey included, marked with why (domain.Recorded.Rejected): what an audit of
// the aggregate's story shows. Messages that are no envelope are passed over.
func (s *Store) History(ctx context.Context, aggType, aggID string) ([]domain.Recorded, error) {
	subj, err := s.subject(aggType, aggID)
	if err != nil {
		return nil, err
	}
	var out []domain.Recorded
	err = s.scan(ctx, subj, 1, 0, 0, 0, func(m *nats.Msg, seq uint64) error {
		env, err := domain.DecodeEnvelope(m.Data)
		if err != nil {
			return nil
		}
		rec := domain.Recorded{Envelope: env, Seq: seq}
		if err := s.check(seq, subj, m.Header, m.Data); err != nil {
			rec.Rejected = RejectReason(err)
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", subj, err)
	}
	return out, nil
}
