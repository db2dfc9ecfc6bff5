// Package audit is the log's tamper evidence beyond each event's signature: the sealer
// (a signed, chained digest of the stream every so many events, on a stream of its
// own), Verify (which proves no stored event was altered, removed, inserted or
// reordered, with no secret), and the watchdog that tells when events go missing.
package audit

// Tamper evidence, part two: seals.
//
// # The chain
//
// The chain is a SHA-256 hash chain over the event stream in stream order. It starts
// at SHA-256("redlane-seal-chain-v1") and each stored message moves it on:
//
//	chain = SHA-256(chain ‖ seq ‖ len ‖ subject ‖ len ‖ id ‖ SHA-256(body) ‖ len ‖ signature)
//
// where seq is the stream sequence as 8 bytes big-endian, each len is the length of the
// field after it as 8 bytes big-endian, id is the Nats-Msg-Id and signature the
// Redlane-Signature header ("" when absent). A deleted position adds nothing, so the
// chain of a stream with a hole differs from the chain that was sealed before the hole
// was made.
//
// # Seals
//
// One process at a time, the sealer (lease "seal" in REDLANE_LEASES), reads the event
// stream in order behind the writers and every Every events, or Interval after the
// first unsealed one, publishes a seal to the stream REDLANE_SEALS on the subject
// redlane.seals.<event stream name>:
//
//	{"stream":"REDLANE","upto":1200,"count":1200,"chain":"9f…","prev":1000,
//	 "at":"2026-11-27T02:15:04Z","sealer":"host:1234"}
//
// upto is the last stream position the seal covers, count how many messages the chain
// has taken in up to there (upto − count positions were already missing), chain the
// chain after upto in hex, prev the upto of the seal before (0 for the first). The first
// seal of a period's stream (jetstream/period.go) also names the last seal of the period
// before: "prev_stream", "prev_upto" and "prev_chain", its stream, upto and chain. Its
// headers are Redlane-Signature (the sealer's Ed25519 signature of "redlane-seal-v2" ‖
// len ‖ body, the same framing as events'), Redlane-Key, and
// Nats-Msg-Id "seal:<stream>:<upto>". Each seal is published with the expected last
// sequence of its subject, so two sealers can never interleave.
//
// Writers never wait for the sealer: it follows the log, and what it has not reached is
// reported by Verify as signed but not yet sealed.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strconv"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/internal/worker"
)

// The seal stream. Permanent.
const (
	SealStream      = "REDLANE_SEALS"
	SealSubjectRoot = "redlane.seals"
	sealLeaseKey    = "seal"
)

// Seal is one seal as stored in REDLANE_SEALS.
type Seal struct {
	Stream string    `json:"stream"`
	Upto   uint64    `json:"upto"`
	Count  uint64    `json:"count"`
	Chain  string    `json:"chain"`
	Prev   uint64    `json:"prev"`
	At     time.Time `json:"at"`
	Sealer string    `json:"sealer"`
	// On the first seal of a period's stream: the final seal of the period before
	// (its stream, upto and chain), so that the chain goes on across periods.
	PrevStream string `json:"prev_stream,omitempty"`
	PrevUpto   uint64 `json:"prev_upto,omitempty"`
	PrevChain  string `json:"prev_chain,omitempty"`
}

// chain is the running hash chain over the stream.
type chain struct {
	sum   [32]byte
	count uint64 // messages taken in
	last  uint64 // position of the last one
	h     hash.Hash
	buf   []byte
}

func newChain() *chain {
	return &chain{sum: sha256.Sum256([]byte("redlane-seal-chain-v1")), h: sha256.New()}
}

// add takes in one stored message.
func (c *chain) add(seq uint64, subject, id string, body []byte, sig string) {
	c.addSum(seq, subject, id, sha256.Sum256(body), sig)
}

// addSum takes in one stored message whose body's SHA-256 is bodySum.
func (c *chain) addSum(seq uint64, subject, id string, bodySum [32]byte, sig string) {
	b := c.buf[:0]
	b = append(b, c.sum[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	for _, f := range []string{subject, id} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = append(b, bodySum[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(sig)))
	b = append(b, sig...)
	c.buf = b
	c.h.Reset()
	c.h.Write(b)
	c.h.Sum(c.sum[:0])
	c.count++
	c.last = seq
}

func (c *chain) addRaw(ev jsstore.RawEvent) {
	c.add(ev.Seq, ev.Subject, ev.MsgID(), ev.Data, ev.Header.Get(jsstore.HeaderSignature))
}

func (c *chain) hex() string { return hex.EncodeToString(c.sum[:]) }

// SealerConfig configures a Sealer.
type SealerConfig struct {
	// Signer signs the seals; required.
	Signer *jsstore.Signer
	// Owner names this process in the lease and the seals.
	Owner string
	// Every is how many events a seal covers at most (default 1000).
	Every int
	// Interval is how long an event may wait for its seal (default 10 s).
	Interval time.Duration
	// LeaseTTL is how long the sealer's lease lasts without renewal (default 5 s).
	LeaseTTL time.Duration
	// Deletable makes the seal stream without deny_delete and deny_purge: only for a
	// test that stages a lost seal. Redlane never sets it.
	Deletable bool
	// Replicas of the seal stream and the lease bucket.
	Replicas int
	Log      *slog.Logger
}

// Sealer seals the event stream; see the top of this file.
type Sealer struct {
	js      jetstream.JetStream
	store   *jsstore.Store
	seals   jetstream.Stream
	subject string
	cfg     SealerConfig
	link    *Seal // the previous period's last seal, for this stream's first seal
}

// NewSealer prepares the seal stream and the lease bucket.
func NewSealer(ctx context.Context, js jetstream.JetStream, store *jsstore.Store, cfg SealerConfig) (*Sealer, error) {
	if cfg.Signer == nil {
		return nil, errors.New("sealer: a signer is required")
	}
	if cfg.Every <= 0 {
		cfg.Every = 1000
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	replicas := max(cfg.Replicas, 1)
	seals, err := openSealStream(ctx, js, replicas, cfg.Deletable)
	if err != nil {
		return nil, err
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: jsstore.LeaseBucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
		return nil, fmt.Errorf("bucket %s: %w", jsstore.LeaseBucket, err)
	}
	s := &Sealer{js: js, store: store, seals: seals, subject: SealSubjectRoot + "." + store.StreamName(), cfg: cfg}
	period, err := store.Period(ctx)
	if err != nil {
		return nil, err
	}
	if period.Prev != "" {
		prev := &Sealer{js: js, seals: seals, subject: SealSubjectRoot + "." + period.Prev}
		last, err := prev.lastSeal(ctx)
		if err != nil {
			return nil, fmt.Errorf("sealer: the final seal of the previous period %s: %w", period.Prev, err)
		}
		if last == nil {
			cfg.Log.Error("sealer: the previous period has no seal: this period's first seal names none", "previous", period.Prev)
		} else {
			s.link = &last.Seal
		}
	}
	return s, nil
}

func openSealStream(ctx context.Context, js jetstream.JetStream, replicas int, allowDelete bool) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        SealStream,
		Description: "Redlane's seals: hash-chain checkpoints over the event stream, signed by the sealer's key",
		Subjects:    []string{SealSubjectRoot + ".>"},
		Storage:     jetstream.FileStorage, Retention: jetstream.LimitsPolicy,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1,
		Duplicates: jsstore.DuplicateWindow, Replicas: replicas, AllowDirect: true,
		DenyDelete: !allowDelete, DenyPurge: !allowDelete,
	})
	if err != nil {
		return nil, fmt.Errorf("seal stream %s: %w", SealStream, err)
	}
	return s, nil
}

// storedSeal is a seal with its place in the seal stream.
type storedSeal struct {
	Seal
	msgSeq uint64 // position in REDLANE_SEALS
	header nats.Header
	body   []byte
}

// lastSeal returns the newest seal of the event stream, or nil.
func (s *Sealer) lastSeal(ctx context.Context) (*storedSeal, error) {
	m, err := s.seals.GetLastMsgForSubject(ctx, s.subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last seal: %w", err)
	}
	ss := &storedSeal{msgSeq: m.Sequence, header: m.Header, body: m.Data}
	if err := json.Unmarshal(m.Data, &ss.Seal); err != nil {
		return nil, fmt.Errorf("last seal at %d: %w", m.Sequence, err)
	}
	return ss, nil
}

// resume returns the chain as of the last seal, when this sealer can trust it, and the
// last seal's position in the seal stream (the fence for the next). A seal it cannot
// check (another key, or a forgery) is not built on: the chain is made again from the
// start of the stream.
func (s *Sealer) resume(ctx context.Context) (*chain, *storedSeal, error) {
	last, err := s.lastSeal(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := newChain()
	if last == nil {
		return c, nil, nil
	}
	sum, herr := hex.DecodeString(last.Chain)
	if err := s.keys().CheckSeal(last.header, last.body); err != nil || herr != nil || len(sum) != 32 {
		s.cfg.Log.Warn("sealer cannot check the last seal; chaining again from the start", "upto", last.Upto, "err", err)
		return c, last, nil
	}
	copy(c.sum[:], sum)
	c.count, c.last = last.Count, last.Upto
	return c, last, nil
}

// keys returns the keys the sealer checks with: the store's, or else its own key alone.
func (s *Sealer) keys() *jsstore.Keyring {
	if s.store.Keys() != nil {
		return s.store.Keys()
	}
	return jsstore.NewKeyring(s.cfg.Signer.PublicKey())
}

// errFencedSeal means another sealer published a seal since this one read the last.
var errFencedSeal = errors.New("another sealer has sealed meanwhile")

// publish stores a seal of the chain as it stands.
func (s *Sealer) publish(ctx context.Context, c *chain, prev *storedSeal) (*storedSeal, error) {
	seal := Seal{Stream: s.store.StreamName(), Upto: c.last, Count: c.count, Chain: c.hex(), At: time.Now().UTC(), Sealer: s.cfg.Owner}
	var fence uint64
	if prev != nil {
		seal.Prev, fence = prev.Upto, prev.msgSeq
	} else if s.link != nil {
		seal.PrevStream, seal.PrevUpto, seal.PrevChain = s.link.Stream, s.link.Upto, s.link.Chain
	}
	body, err := json.Marshal(seal)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(s.subject)
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, "seal:"+s.store.StreamName()+":"+strconv.FormatUint(seal.Upto, 10))
	m.Header.Set(jsstore.HeaderSignature, s.cfg.Signer.SignSeal(body))
	m.Header.Set(jsstore.HeaderKey, s.cfg.Signer.KeyID())
	ack, err := s.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(fence))
	if jsstore.WrongLastSequence(err) {
		return nil, errFencedSeal
	}
	if err != nil {
		return nil, fmt.Errorf("publish seal up to %d: %w", seal.Upto, err)
	}
	if ack.Duplicate {
		return nil, errFencedSeal
	}
	return &storedSeal{Seal: seal, msgSeq: ack.Sequence, header: m.Header, body: body}, nil
}

// SealNow seals everything stored now and returns the seal, or nil when nothing new was
// stored since the last seal. It needs no lease: a sealer running meanwhile makes it
// fail with a conflict rather than interleave.
func (s *Sealer) SealNow(ctx context.Context, progress jsstore.Progress) (*Seal, error) {
	c, prev, err := s.resume(ctx)
	if err != nil {
		return nil, err
	}
	total, err := s.store.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Scan(ctx, c.last+1, func(ev jsstore.RawEvent) error {
		c.addRaw(ev)
		if progress != nil && ev.Seq%4096 == 0 {
			progress(ev.Seq, total)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(total, total)
	}
	if prev != nil && c.last <= prev.Upto {
		return nil, nil
	}
	if c.count == 0 {
		return nil, nil
	}
	ss, err := s.publish(ctx, c, prev)
	if err != nil {
		return nil, err
	}
	return &ss.Seal, nil
}

// Run seals the stream until ctx ends. Several processes may Run; one seals at a time.
func (s *Sealer) Run(ctx context.Context) error {
	return worker.New(worker.Config{
		Name: "sealer", JS: s.js, LeaseBucket: jsstore.LeaseBucket, LeaseKey: sealLeaseKey,
		Owner: s.cfg.Owner, LeaseTTL: s.cfg.LeaseTTL, Stream: s.store.Stream(),
		Batch: 1024, Wait: min(s.cfg.Interval, s.cfg.LeaseTTL/5),
		MaxPause: s.cfg.LeaseTTL, // the chain waits on it: retry soon
		Log:      s.cfg.Log,
	}, &sealJob{s: s}).Run(ctx)
}

// sealJob is one process's sealing, run by a worker.Worker on an ordered consumer: its
// checkpoint is the last seal's, and the chain beyond it lives in memory until sealed.
type sealJob struct {
	s           *Sealer
	c           *chain
	prev        *storedSeal
	sealedCount uint64
	waiting     time.Time // when the oldest unsealed event was taken in
}

// Resume picks the chain up from the last seal.
func (j *sealJob) Resume(ctx context.Context) (uint64, error) {
	c, prev, err := j.s.resume(ctx)
	if err != nil {
		return 0, err
	}
	j.c, j.prev, j.sealedCount = c, prev, c.count
	return c.last, nil
}

// due seals the chain when Every events wait for a seal, or one has waited Interval.
func (j *sealJob) due(ctx context.Context) error {
	c := j.c
	if c.count > j.sealedCount && (c.count-j.sealedCount >= uint64(j.s.cfg.Every) || time.Since(j.waiting) >= j.s.cfg.Interval) {
		next, err := j.s.publish(ctx, c, j.prev)
		if err != nil {
			return err
		}
		j.prev, j.sealedCount = next, c.count
	}
	return nil
}

// Idle seals on time while no event comes.
func (j *sealJob) Idle(ctx context.Context) error { return j.due(ctx) }

// Handle takes events into the chain, sealing whenever one is due.
func (j *sealJob) Handle(ctx context.Context, b worker.Batch) error {
	s, c := j.s, j.c
	for _, msg := range b.Msgs {
		if err := j.due(ctx); err != nil {
			return err
		}
		ev := jsstore.RawEvent{Seq: worker.Seq(msg), Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data()}
		if ev.Header == nil {
			ev.Header = nats.Header{}
		}
		if ev.Seq <= c.last {
			continue
		}
		if ev.Seq != c.last+1 {
			s.cfg.Log.Error("audit: events are missing from the stream", "from", c.last+1, "to", ev.Seq-1)
		}
		if s.store.Keys() != nil {
			s.store.Check(ev.Seq, ev.Subject, ev.Header, ev.Data) // reported there
		} else if err := s.keys().CheckEvent(ev.Header, ev.Subject, ev.MsgID(), ev.Data); err != nil {
			s.cfg.Log.Error("audit: an event's signature does not hold", "seq", ev.Seq, "subject", ev.Subject, "err", err)
		}
		if c.count == j.sealedCount {
			j.waiting = time.Now()
		}
		c.addRaw(ev)
	}
	return nil
}
