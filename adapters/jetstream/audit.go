package jetstream

// Tamper evidence, part one: signatures, and reading the log as stored.
//
// # Signatures
//
// When Config.Signer is set, every event the store appends carries two more headers:
//
//	Redlane-Signature  hex HMAC-SHA256, under the audit key, of the event's subject,
//	                   Nats-Msg-Id and body
//	Redlane-Key        the id of the key that signed: 8 hex digits, the start of
//	                   SHA-256("redlane-audit-key-id\x00" + key)
//
// The MAC's input is the ASCII string "redlane-event-v1" followed, for each of subject,
// id and body in that order, by its length as 8 bytes big-endian and its bytes. The key
// is never stored in NATS: whoever can write to the stream, or delete from it, still
// cannot sign. Each writer signs its own events as it appends them, so signing makes no
// writer wait for another; the cost is one HMAC over the body (a few microseconds).
//
// A signature proves that an event is one a Redlane process wrote. That no event has
// been removed, inserted or reordered since is proved by the seals (seal.go) and by
// Verify.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The audit headers.
const (
	// HeaderSignature carries the hex HMAC-SHA256 of the event (or seal) under the audit key.
	HeaderSignature = "Redlane-Signature"
	// HeaderKey names the key that made HeaderSignature.
	HeaderKey = "Redlane-Key"
)

// MinAuditKey is the shortest audit key accepted, in bytes.
const MinAuditKey = 16

// Signer signs events and seals with one audit key. It is safe for concurrent use.
type Signer struct {
	key  []byte
	id   string
	pool sync.Pool // of hash.Hash: HMACs under key
}

// NewSigner returns a signer with key, which must be at least MinAuditKey bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinAuditKey {
		return nil, fmt.Errorf("audit key: %d bytes, want at least %d", len(key), MinAuditKey)
	}
	k := append([]byte(nil), key...)
	sum := sha256.Sum256(append([]byte("redlane-audit-key-id\x00"), k...))
	s := &Signer{key: k, id: hex.EncodeToString(sum[:4])}
	s.pool.New = func() any { return hmac.New(sha256.New, s.key) }
	return s, nil
}

// KeyID returns the key's public id, the value of the Redlane-Key header.
func (s *Signer) KeyID() string { return s.id }

// SignEvent returns the Redlane-Signature of an event: hex HMAC-SHA256 over its subject,
// id (Nats-Msg-Id) and body.
func (s *Signer) SignEvent(subject, id string, body []byte) string {
	return hex.EncodeToString(s.mac("redlane-event-v1", []byte(subject), []byte(id), body))
}

// signSeal returns the signature of a seal's body.
func (s *Signer) signSeal(body []byte) string {
	return hex.EncodeToString(s.mac("redlane-seal-v1", body))
}

func (s *Signer) mac(domain string, fields ...[]byte) []byte {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(domain))
	var n [8]byte
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	out := h.Sum(nil)
	s.pool.Put(h)
	return out
}

// sign sets the audit headers on a message about to be appended.
func (s *Signer) sign(m *nats.Msg, id string) {
	m.Header.Set(HeaderSignature, s.SignEvent(m.Subject, id, m.Data))
	m.Header.Set(HeaderKey, s.id)
}

// Why an event's or a seal's signature does not hold.
var (
	ErrUnsigned     = errors.New("not signed")
	ErrUnknownKey   = errors.New("signed with a key that is not in the keyring")
	ErrBadSignature = errors.New("signature does not match")
)

// Keyring holds the audit keys a verification accepts: the current key and any that
// signed before a rotation.
type Keyring struct {
	byID map[string]*Signer
}

// NewKeyring returns a keyring of signers.
func NewKeyring(signers ...*Signer) *Keyring {
	k := &Keyring{byID: map[string]*Signer{}}
	for _, s := range signers {
		k.byID[s.id] = s
	}
	return k
}

// IDs lists the keyring's key ids.
func (k *Keyring) IDs() []string {
	out := make([]string, 0, len(k.byID))
	for id := range k.byID {
		out = append(out, id)
	}
	return out
}

// CheckEvent checks the audit headers of a stored event: nil when the signature holds,
// else ErrUnsigned, ErrUnknownKey or ErrBadSignature.
func (k *Keyring) CheckEvent(h nats.Header, subject, id string, body []byte) error {
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return ErrUnsigned
	}
	s, ok := k.byID[h.Get(HeaderKey)]
	if !ok {
		return ErrUnknownKey
	}
	want, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(want, s.mac("redlane-event-v1", []byte(subject), []byte(id), body)) {
		return ErrBadSignature
	}
	return nil
}

// checkSeal checks a seal's signature.
func (k *Keyring) checkSeal(h nats.Header, body []byte) error {
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return ErrUnsigned
	}
	s, ok := k.byID[h.Get(HeaderKey)]
	if !ok {
		return ErrUnknownKey
	}
	want, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(want, s.mac("redlane-seal-v1", body)) {
		return ErrBadSignature
	}
	return nil
}

// RawEvent is one message of the event stream exactly as stored: what audits read.
type RawEvent struct {
	Seq     uint64
	Subject string
	Header  nats.Header
	Data    []byte
	Stored  time.Time // when the server stored it
}

// MsgID returns the event's id: its Nats-Msg-Id, or the id in its body.
func (r RawEvent) MsgID() string { return msgID(r.Header, r.Data) }

// Scan calls fn with every message of the event stream from position from (at least 1)
// up to the last position when it is called, in order, as stored: deleted positions are
// simply absent, so a caller that needs every position checks that they follow one
// another. It stops at fn's first error and returns it.
func (s *Store) Scan(ctx context.Context, from uint64, fn func(RawEvent) error) error {
	return scanStream(ctx, s.stream, from, nil, fn)
}

// scanStream reads the stored messages of stream (on filters, or all) from position
// from up to its last position when called.
func scanStream(ctx context.Context, stream jetstream.Stream, from uint64, filters []string, fn func(RawEvent) error) error {
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("scan: stream info: %w", err)
	}
	last := info.State.LastSeq
	from = max(from, 1)
	if info.State.Msgs == 0 || last < from {
		return nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from, FilterSubjects: filters,
	})
	if err != nil {
		return fmt.Errorf("scan from %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return fmt.Errorf("scan from %d: %w", from, err)
	}
	defer func() {
		it.Stop()
		name := cons.CachedInfo().Name
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = stream.DeleteConsumer(dctx, name) // best effort; it expires when inactive
	}()
	for {
		msg, err := nextMsg(ctx, it, 2*time.Second)
		if errors.Is(err, nats.ErrTimeout) {
			// Nothing came: everything between here and the end may have been deleted.
			ci, ierr := cons.Info(ctx)
			if ierr == nil && ci.NumPending == 0 {
				return nil
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		ev := RawEvent{Seq: md.Sequence.Stream, Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data(), Stored: md.Timestamp}
		if ev.Header == nil {
			ev.Header = nats.Header{}
		}
		if err := fn(ev); err != nil {
			return err
		}
		if ev.Seq >= last || md.NumPending == 0 {
			return nil
		}
	}
}

// nextMsg waits up to wait for the iterator's next message; nats.ErrTimeout when none
// came, ctx's error when it ended.
func nextMsg(ctx context.Context, it jetstream.MessagesContext, wait time.Duration) (jetstream.Msg, error) {
	nctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msg, err := it.Next(jetstream.NextContext(nctx))
	if err != nil && ctx.Err() == nil && nctx.Err() != nil {
		return nil, nats.ErrTimeout
	}
	return msg, err
}

// SeqAt returns the position of the last event stamped at or before t (0: none), by a
// binary search on the envelopes' times. Events are stamped just before they are
// appended, so their times follow the log's order up to the skew between writers'
// clocks; callers that must honour every stamp read on past the answer.
func (s *Store) SeqAt(ctx context.Context, t time.Time) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", s.name, err)
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	// timeAt returns the time and position of the first stored event at or after seq.
	timeAt := func(seq uint64) (time.Time, uint64, error) {
		m, err := s.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(s.prefix+">"))
		if err != nil {
			return time.Time{}, 0, err
		}
		var head struct {
			Time time.Time `json:"time"`
		}
		_ = json.Unmarshal(m.Data, &head) // an unreadable stamp counts as the distant past
		return head.Time, m.Sequence, nil
	}
	lo, hi := info.State.FirstSeq, info.State.LastSeq // the answer lies in [lo-1, hi]
	var best uint64
	for lo <= hi {
		mid := lo + (hi-lo)/2
		at, seq, err := timeAt(mid)
		if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && seq > hi) {
			hi = mid - 1 // nothing stored in [mid, hi]
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("stream %s: time at %d: %w", s.name, mid, err)
		}
		if at.After(t) {
			hi = mid - 1
		} else {
			best, lo = seq, seq+1
		}
	}
	return best, nil
}
