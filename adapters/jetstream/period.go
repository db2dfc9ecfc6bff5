package jetstream

// Periods: the log of a deployment as a chain of streams, one per period.
//
// nats-server keeps some state for every subject a stream has ever held, for as long as
// the stream exists, and Redlane writes one subject per aggregate: a stream that takes
// every order for good grows without bound (docs/scale.md). A period roll ends one
// stream and starts the next: the old stream gives up its subjects and is sealed (no
// message can be added, changed or removed), and the new one takes the same subjects,
// with the events of every aggregate still live copied into it verbatim (Carry). The
// new stream's metadata names the period before it:
//
//	redlane.period.prev          the previous period's stream
//	redlane.period.carried_upto  the last position of the new stream holding a copy
//
// so that a fold of the whole history reads the previous period first and then this
// one from carried_upto+1 on, and no event counts twice.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The metadata of a period's stream.
const (
	MetaPeriodPrev        = "redlane.period.prev"
	MetaPeriodCarriedUpto = "redlane.period.carried_upto"
)

// SealedSubjectRoot is where a sealed period's stream moves its subjects: nothing is
// ever published there.
const SealedSubjectRoot = "redlane.sealed"

// Period is where a stream stands in the chain of periods.
type Period struct {
	Stream      string // the stream
	Prev        string // the previous period's stream; "" for the first period
	CarriedUpto uint64 // positions up to here are copies carried from Prev
	Sealed      bool   // the period is over: the stream takes nothing more
}

// Period reads where the store's stream stands in the chain of periods.
func (s *Store) Period(ctx context.Context) (Period, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return Period{}, fmt.Errorf("stream %s info: %w", s.name, err)
	}
	return periodOf(info.Config), nil
}

// periodMeta is the period's part of a stream's metadata.
func periodMeta(m map[string]string) map[string]string {
	var out map[string]string
	for _, k := range []string{MetaPeriodPrev, MetaPeriodCarriedUpto} {
		if v, ok := m[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func periodOf(cfg jetstream.StreamConfig) Period {
	p := Period{Stream: cfg.Name, Prev: cfg.Metadata[MetaPeriodPrev], Sealed: cfg.Sealed}
	p.CarriedUpto, _ = strconv.ParseUint(cfg.Metadata[MetaPeriodCarriedUpto], 10, 64)
	return p
}

// Periods returns the chain of periods that ends with the store's stream, the earliest
// first, as far back as the streams are on the server. archived names the period before
// the earliest returned when its stream is not there (moved off the server), else "".
func (s *Store) Periods(ctx context.Context) (chain []Period, archived string, err error) {
	p, err := s.Period(ctx)
	if err != nil {
		return nil, "", err
	}
	chain = []Period{p}
	for p.Prev != "" && len(chain) < 10_000 {
		st, err := s.js.Stream(ctx, p.Prev)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			archived = p.Prev
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("period stream %s: %w", p.Prev, err)
		}
		p = periodOf(st.CachedInfo().Config)
		chain = append([]Period{p}, chain...)
	}
	return chain, archived, nil
}

// ErrPeriodArchived is EachPeriod's error when a period of the chain is not on the
// server (archived): restore it to read the whole history.
var ErrPeriodArchived = errors.New("an earlier period is not on this server: restore it (nats stream restore) to read the whole history")

// EachPeriod calls fn for every period of the chain that ends with the store's stream,
// the earliest first: with the period's store (s itself for the last), the first
// position that is the period's own (after the copies carried into it), and whether it
// is the last. Read so, every event of the history comes once, from the period it was
// first stored in. fn returning errStop-like sentinels is the caller's business: the
// first error ends the walk and is returned. A period missing from the server fails
// with ErrPeriodArchived before fn is called.
func (s *Store) EachPeriod(ctx context.Context, fn func(period *Store, from uint64, last bool) error) error {
	chain, archived, err := s.Periods(ctx)
	if err != nil {
		return err
	}
	if archived != "" {
		return fmt.Errorf("the period %s before %s: %w", archived, chain[0].Stream, ErrPeriodArchived)
	}
	for i, p := range chain {
		store, from, last := s, uint64(1), i == len(chain)-1
		if !last {
			if store, err = s.OpenPeriod(ctx, p.Stream); err != nil {
				return err
			}
		}
		if i > 0 {
			from = p.CarriedUpto + 1
		}
		if err := fn(store, from, last); err != nil {
			return err
		}
	}
	return nil
}

// OpenPeriod opens another period's stream (an earlier one, say) read-only, checking
// events with the same keys and reporting to the same recorder as s.
func (s *Store) OpenPeriod(ctx context.Context, name string) (*Store, error) {
	st, err := s.js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("period stream %s: %w", name, err)
	}
	return &Store{
		js: s.js, stream: st, name: name, prefix: s.prefix, directGet: s.DirectGetSubject(name),
		apiTimeout: s.apiTimeout, batches: make(chan struct{}, maxBatchesInFlight),
		keys: s.keys, rejected: s.rejected,
	}, nil
}

// EndPeriod seals the store's stream: it gives up its subjects (to a subject of its own
// under SealedSubjectRoot, where nothing is published) and takes no message any more.
// Sealing cannot be undone. A sealed stream is left as it is.
func (s *Store) EndPeriod(ctx context.Context) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s info: %w", s.name, err)
	}
	cfg := info.Config
	if cfg.Sealed {
		return nil
	}
	cfg.Subjects = []string{SealedSubjectRoot + "." + s.name}
	cfg.Sealed = true
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("seal stream %s: %w", s.name, err)
	}
	return nil
}

// StartPeriod creates the next period's stream, name, with cfg's settings (Stream is
// set to name) and metadata naming prev, and returns a store on it. When the stream
// exists already as prev's successor (a roll that stopped half way), it is opened.
func StartPeriod(ctx context.Context, js jetstream.JetStream, cfg Config, name, prev string) (*Store, error) {
	cfg.Stream = name
	if st, err := js.Stream(ctx, name); err == nil {
		if got := st.CachedInfo().Config.Metadata[MetaPeriodPrev]; got != prev {
			return nil, fmt.Errorf("stream %s exists already and does not follow %s (its previous period: %q)", name, prev, got)
		}
		cfg.ReadOnly = true
		return Open(ctx, js, cfg)
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	st, err := Open(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	if err := st.setMeta(ctx, map[string]string{MetaPeriodPrev: prev}); err != nil {
		return nil, err
	}
	return st, nil
}

// FinishCarry records on the store's stream that positions up to upto are copies.
func (s *Store) FinishCarry(ctx context.Context, upto uint64) error {
	return s.setMeta(ctx, map[string]string{MetaPeriodCarriedUpto: strconv.FormatUint(upto, 10)})
}

func (s *Store) setMeta(ctx context.Context, kv map[string]string) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s info: %w", s.name, err)
	}
	cfg := info.Config
	if cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	for k, v := range kv {
		cfg.Metadata[k] = v
	}
	st, err := s.js.UpdateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("stream %s: set metadata: %w", s.name, err)
	}
	s.stream = st
	return nil
}

// carryHeaders are the headers a copy keeps: everything that makes the event what it
// is (its id, type, version and signature); the batch and expectation headers of the
// original publish are not the copy's.
var carryHeaders = []string{jetstream.MsgIDHeader, HeaderType, HeaderVersion, HeaderSignature, HeaderKey, HeaderProof}

// Carry copies into the store's stream, verbatim and in the order of from, every
// message of from whose subject keep accepts and which from obeys. Each copy keeps its
// subject, id, body and signature, so it verifies as the original does. Copies go in
// atomic batches of up to MaxBatchMessages, each expecting the stream's last position
// (no other writer may interleave) and each subject's last position in the new stream.
// A carry that stopped half way is resumed: the copies stored already are passed over,
// after checking the last of them is the one expected. It returns the position of the
// last copy (0: none) and how many events were copied.
func (s *Store) Carry(ctx context.Context, from *Store, keep func(subject string) bool, progress Progress) (last, copied uint64, err error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("stream %s info: %w", s.name, err)
	}
	stored := info.State.Msgs // copies stored by an earlier attempt
	last = info.State.LastSeq
	var lastID string
	if stored > 0 {
		m, err := s.stream.GetMsg(ctx, last)
		if err != nil {
			return 0, 0, fmt.Errorf("stream %s: last copy: %w", s.name, err)
		}
		lastID = msgID(m.Header, m.Data)
	}
	total, err := from.LastSeq(ctx)
	if err != nil {
		return 0, 0, err
	}
	subjSeq := map[string]uint64{}
	var batch []*nats.Msg
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		batch[0].Header.Set(jetstream.ExpectedLastSeqHeader, strconv.FormatUint(last, 10))
		seen := map[string]bool{}
		for _, m := range batch {
			if !seen[m.Subject] {
				seen[m.Subject] = true
				m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(subjSeq[m.Subject], 10))
			}
		}
		ack, err := s.publishBatch(ctx, batch)
		if err != nil {
			return fmt.Errorf("carry into %s after %d: %w", s.name, last, err)
		}
		if n := uint64(len(batch)); ack.BatchSize != n || ack.Sequence != last+n {
			return fmt.Errorf("carry into %s: batch acknowledged %d messages ending at %d, sent %d after %d", s.name, ack.BatchSize, ack.Sequence, n, last)
		}
		for i, m := range batch {
			subjSeq[m.Subject] = last + 1 + uint64(i)
		}
		last += uint64(len(batch))
		copied += uint64(len(batch))
		batch = batch[:0]
		return nil
	}
	var skipped uint64
	err = from.Scan(ctx, 1, func(ev RawEvent) error {
		if progress != nil && ev.Seq%4096 == 0 {
			progress(ev.Seq, total)
		}
		if !keep(ev.Subject) || from.check(ev.Seq, ev.Subject, ev.Header, ev.Data) != nil {
			return nil
		}
		if skipped < stored {
			skipped++
			subjSeq[ev.Subject] = skipped
			if skipped == stored && ev.MsgID() != lastID {
				return fmt.Errorf("carry into %s: its last message (%s) is not the copy expected there (%s): the stream holds something else", s.name, lastID, ev.MsgID())
			}
			return nil
		}
		m := nats.NewMsg(ev.Subject)
		m.Data = ev.Data
		for _, h := range carryHeaders {
			if v := ev.Header.Get(h); v != "" {
				m.Header.Set(h, v)
			}
		}
		batch = append(batch, m)
		if len(batch) == MaxBatchMessages {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && skipped < stored {
		err = fmt.Errorf("carry into %s: it holds %d messages, more than %s has to carry", s.name, stored, from.name)
	}
	if progress != nil && err == nil {
		progress(total, total)
	}
	return last, copied, err
}

// PeriodBucket holds which stream is the current period's: key "current" →
// {"stream":"REDLANE_2027_01","prev":"REDLANE","carried_upto":412,"at":"…"}. A command
// not told --stream uses that stream, and DefaultStream while the key is missing (no
// roll yet). Permanent.
const PeriodBucket = "REDLANE_PERIOD"

const currentKey = "current"

// CurrentPeriod is the current-period pointer a roll writes.
type CurrentPeriod struct {
	Stream      string    `json:"stream"`
	Prev        string    `json:"prev"`
	CarriedUpto uint64    `json:"carried_upto"`
	At          time.Time `json:"at"`
}

// CurrentStream returns the stream of the current period: the one the last roll made
// current, or "" when no roll was ever made (the stream is then whichever the
// deployment names, DefaultStream unless told otherwise).
func CurrentStream(ctx context.Context, js jetstream.JetStream) (string, error) {
	kv, err := js.KeyValue(ctx, PeriodBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bucket %s: %w", PeriodBucket, err)
	}
	e, err := kv.Get(ctx, currentKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bucket %s: %w", PeriodBucket, err)
	}
	var cur CurrentPeriod
	if err := json.Unmarshal(e.Value(), &cur); err != nil || cur.Stream == "" {
		return "", fmt.Errorf("bucket %s: the current period is unreadable: %q", PeriodBucket, e.Value())
	}
	return cur.Stream, nil
}

// SetCurrentPeriod makes cur the current period, on condition that the current one is
// still cur.Prev.
func SetCurrentPeriod(ctx context.Context, js jetstream.JetStream, cur CurrentPeriod, replicas int) error {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: PeriodBucket, History: 16, Storage: jetstream.FileStorage, Replicas: max(replicas, 1)})
	if err != nil {
		return fmt.Errorf("bucket %s: %w", PeriodBucket, err)
	}
	body, _ := json.Marshal(cur)
	e, err := kv.Get(ctx, currentKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		_, err = kv.Create(ctx, currentKey, body)
	case err != nil:
	default:
		var was CurrentPeriod
		_ = json.Unmarshal(e.Value(), &was)
		if was.Stream == cur.Stream {
			return nil
		}
		if was.Stream != cur.Prev {
			return fmt.Errorf("the current period is %s, not %s: another roll went first", was.Stream, cur.Prev)
		}
		_, err = kv.Update(ctx, currentKey, body, e.Revision())
	}
	if err != nil {
		return fmt.Errorf("bucket %s: set the current period to %s: %w", PeriodBucket, cur.Stream, err)
	}
	return nil
}
