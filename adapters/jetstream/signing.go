package jetstream

// Tamper evidence, part one: signatures, and reading the log as stored.
//
// # Signatures
//
// When Config.Signer is set, every event the store appends carries two more headers:
//
//	Redlane-Signature  base64 (standard, padded) Ed25519 signature of the event's
//	                   subject, Nats-Msg-Id and body
//	Redlane-Key        the id of the key that signed: 16 hex digits, the start of
//	                   SHA-256 of the Ed25519 public key
//
// The signed message is the ASCII string "redlane-event-v2" followed, for each of
// subject, id and body in that order, by its length as 8 bytes big-endian and its bytes.
// Events that group commit stores in one atomic batch share one signature, of the
// batch's Merkle root, and each carries its path to it (batchsig.go).
// Each writer process has its own key pair; the private key stays in its data directory
// and never goes on NATS, so whoever can publish to the stream, or delete from it, still
// cannot sign. Checking needs only public keys: an auditor with read-only access to NATS
// verifies the whole log.
//
// # Which keys are trusted
//
// A key is trusted when it is pinned (the first writer's key, in DATA/trusted.keys, or a
// file an auditor passes with --trusted-keys), or when it is introduced by a trusted key:
// a key event, type redlane.signer.introduced.v1 on subject <prefix>.signer.<key id>,
// whose data carries the new public key and which the introducing key signed. The first
// writer introduces itself that way (a self-signed key event, the log's first event), so
// that a reader who pins nothing can still take the root from the log's beginning. The
// bus alone cannot add a signer: an introduction counts only when a trusted key signed it.
//
// A signature proves that an event is one a Redlane process wrote. That no event has
// been removed, inserted or reordered since is proved by the seals (package audit) and by
// Verify.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
)

// The audit headers.
const (
	// HeaderSignature carries the Ed25519 signature of the event (or seal), base64.
	HeaderSignature = "Redlane-Signature"
	// HeaderKey names the key that made HeaderSignature.
	HeaderKey = "Redlane-Key"
)

// Key events: how a writer's public key is introduced on the log.
const (
	// SignerAggregate is the aggregate type of key events.
	SignerAggregate = "signer"
	// SignerIntroduced is the event type that introduces a key.
	SignerIntroduced = "redlane.signer.introduced.v1"
)

// KeyIntroduction is the data of a SignerIntroduced event.
type KeyIntroduction struct {
	PublicKey string `json:"public_key"` // base64 of the 32-byte Ed25519 public key
	Name      string `json:"name"`       // who holds it: a host and data directory, say
}

// KeyID returns the id of a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Signer signs events and seals with one writer's private key. It is safe for
// concurrent use.
type Signer struct {
	key ed25519.PrivateKey
	pub ed25519.PublicKey
	id  string
}

// NewSigner returns a signer with an Ed25519 private key.
func NewSigner(key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signing key: %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Signer{key: key, pub: pub, id: KeyID(pub)}, nil
}

// GenerateSigner makes a signer with a fresh key pair.
func GenerateSigner() *Signer {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	s, _ := NewSigner(priv)
	return s
}

// LoadSigner reads a signing key file (the Ed25519 seed, 64 hex digits), making one with
// a fresh key (mode 0600) when it is missing and create is set.
func LoadSigner(path string, create bool) (*Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		s := GenerateSigner()
		if err := os.WriteFile(path, []byte(hex.EncodeToString(s.key.Seed())+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key %s: want %d hex digits", path, 2*ed25519.SeedSize)
	}
	return NewSigner(ed25519.NewKeyFromSeed(seed))
}

// KeyID returns the key's public id, the value of the Redlane-Key header.
func (s *Signer) KeyID() string { return s.id }

// PublicKey returns the signer's public key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.pub }

// PublicKeyText returns the public key as key files hold it: base64.
func (s *Signer) PublicKeyText() string { return base64.StdEncoding.EncodeToString(s.pub) }

// SignEvent returns the Redlane-Signature of an event over its subject, id
// (Nats-Msg-Id) and body.
func (s *Signer) SignEvent(subject, id string, body []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, signedBytes("redlane-event-v2", []byte(subject), []byte(id), body)))
}

// signSeal returns the signature of a seal's body.
// SignSeal signs a seal's body with this key.
func (s *Signer) SignSeal(body []byte) string { return s.signSeal(body) }

func (s *Signer) signSeal(body []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, signedBytes("redlane-seal-v2", body)))
}

func signedBytes(domain string, fields ...[]byte) []byte {
	n := len(domain)
	for _, f := range fields {
		n += 8 + len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, domain...)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// sign sets the audit headers on a message about to be appended.
func (s *Signer) sign(m *nats.Msg, id string) {
	m.Header.Set(HeaderSignature, s.SignEvent(m.Subject, id, m.Data))
	m.Header.Set(HeaderKey, s.id)
}

// Introduction returns the key event by which this signer introduces key, a new
// writer's public key, on the log. Append it with the store's Append; it is signed by
// the store's signer like any event, and by that the introduction holds.
func Introduction(pub ed25519.PublicKey, name, eventID string, at time.Time) (domain.Envelope, error) {
	data, err := json.Marshal(KeyIntroduction{PublicKey: base64.StdEncoding.EncodeToString(pub), Name: name})
	if err != nil {
		return domain.Envelope{}, err
	}
	kid := KeyID(pub)
	return domain.Envelope{
		SpecVersion: domain.SpecVersion, ID: eventID, Type: SignerIntroduced, Source: domain.Source,
		Subject: SignerAggregate + "/" + kid, Time: at.UTC(), DataContentType: "application/json",
		Actor: "system", Role: domain.RoleSystem, AggregateType: SignerAggregate, AggregateID: kid,
		Version: 1, CorrelationID: eventID, Data: data,
	}, nil
}

// Why an event's or a seal's signature does not hold. The metric's reason label is
// RejectReason of each.
var (
	ErrUnsigned     = errors.New("not signed")
	ErrUnknownKey   = errors.New("signed with a key that is not trusted")
	ErrBadSignature = errors.New("signature does not match")
)

// RejectReason names why an event was set aside, for metrics and logs: "unsigned",
// "untrusted_key" or "bad_signature".
func RejectReason(err error) string {
	switch {
	case errors.Is(err, ErrUnsigned):
		return "unsigned"
	case errors.Is(err, ErrUnknownKey):
		return "untrusted_key"
	}
	return "bad_signature"
}

// Keyring holds the public keys whose signatures are obeyed: those pinned, and those
// introduced on the log by a trusted key, which it looks up (Resolve) when it first meets
// their id. It is safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex
	keys    map[string]ed25519.PublicKey
	pinned  map[string]bool
	unknown map[string]time.Time // ids looked up and not found, and when
	resolve func(ctx context.Context, kid string) (*RawEvent, error)

	legacy       *LegacyKey // legacy.go
	legacyBefore uint64

	roots verifiedRoots // batch roots whose signature held (batchsig.go)
}

// NewKeyring returns a keyring that trusts the pinned public keys.
func NewKeyring(pinned ...ed25519.PublicKey) *Keyring {
	k := &Keyring{keys: map[string]ed25519.PublicKey{}, pinned: map[string]bool{}, unknown: map[string]time.Time{}}
	for _, p := range pinned {
		k.Pin(p)
	}
	return k
}

// Pin trusts a public key outright.
func (k *Keyring) Pin(pub ed25519.PublicKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id := KeyID(pub)
	k.keys[id] = slices.Clone(pub)
	k.pinned[id] = true
	delete(k.unknown, id)
}

// Trusts reports whether the key is trusted, looking for its introduction on the log.
func (k *Keyring) Trusts(pub ed25519.PublicKey) bool {
	got, ok := k.key(KeyID(pub), 0)
	return ok && bytes.Equal(got, pub)
}

// IDs lists the ids of the keys trusted so far, sorted.
func (k *Keyring) IDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]string, 0, len(k.keys))
	for id := range k.keys {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// maxChain bounds how many introductions deep a key may sit below a pinned one.
const maxChain = 16

// recheckUnknown is how long an id that was looked up and not found is not looked up
// again: a flood of events under one made-up key costs one read per interval.
const recheckUnknown = 5 * time.Second

// key returns the trusted public key with id kid, looking for its introduction on the
// log when it is not known yet.
func (k *Keyring) key(kid string, depth int) (ed25519.PublicKey, bool) {
	k.mu.RLock()
	pub, ok := k.keys[kid]
	missAt, missed := k.unknown[kid]
	resolve := k.resolve
	k.mu.RUnlock()
	if ok {
		return pub, true
	}
	if resolve == nil || depth >= maxChain || (missed && time.Since(missAt) < recheckUnknown) || !validID(kid) {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pub = k.introduced(ctx, kid, depth, resolve)
	k.mu.Lock()
	defer k.mu.Unlock()
	if pub == nil {
		k.unknown[kid] = time.Now()
		if len(k.unknown) > 10_000 {
			clear(k.unknown)
		}
		return nil, false
	}
	k.keys[kid] = pub
	return pub, true
}

// introduced reads kid's key event and returns its key when a trusted key signed it.
func (k *Keyring) introduced(ctx context.Context, kid string, depth int, resolve func(context.Context, string) (*RawEvent, error)) ed25519.PublicKey {
	ev, err := resolve(ctx, kid)
	if err != nil || ev == nil {
		return nil
	}
	env, err := domain.DecodeEnvelope(ev.Data)
	if err != nil || env.Type != SignerIntroduced || env.AggregateType != SignerAggregate || env.AggregateID != kid {
		return nil
	}
	var intro KeyIntroduction
	if json.Unmarshal(env.Data, &intro) != nil {
		return nil
	}
	pub, err := base64.StdEncoding.DecodeString(intro.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize || KeyID(pub) != kid {
		return nil
	}
	signer := ev.Header.Get(HeaderKey)
	if signer == kid {
		return nil // self-signed: a root, trusted only when pinned
	}
	introducer, ok := k.key(signer, depth+1)
	if !ok || checkEventSig(introducer, ev.Header, signedBytes("redlane-event-v2", []byte(ev.Subject), []byte(ev.MsgID()), ev.Data), &k.roots) != nil {
		return nil
	}
	return pub
}

// selfIntroduced returns the key of a key event that introduces itself, when its
// signature holds under that key.
func selfIntroduced(ev *RawEvent) (ed25519.PublicKey, error) {
	env, err := domain.DecodeEnvelope(ev.Data)
	if err != nil || env.Type != SignerIntroduced {
		return nil, fmt.Errorf("the key event at %d is not one", ev.Seq)
	}
	var intro KeyIntroduction
	if err := json.Unmarshal(env.Data, &intro); err != nil {
		return nil, fmt.Errorf("the key event at %d: %w", ev.Seq, err)
	}
	pub, err := base64.StdEncoding.DecodeString(intro.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize || KeyID(pub) != env.AggregateID || ev.Header.Get(HeaderKey) != env.AggregateID {
		return nil, fmt.Errorf("the key event at %d does not introduce the key that signed it", ev.Seq)
	}
	if err := checkEventSig(pub, ev.Header, signedBytes("redlane-event-v2", []byte(ev.Subject), []byte(ev.MsgID()), ev.Data), nil); err != nil {
		return nil, fmt.Errorf("the key event at %d: %w", ev.Seq, err)
	}
	return pub, nil
}

func checkSig(pub ed25519.PublicKey, h nats.Header, msg []byte) error {
	sig, err := base64.StdEncoding.DecodeString(h.Get(HeaderSignature))
	if err != nil || !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}

// check checks a signature under the key the headers name; event says msg is an
// event's, which may be signed with its batch (batchsig.go).
func (k *Keyring) check(h nats.Header, msg []byte, event bool) error {
	if h.Get(HeaderSignature) == "" {
		return ErrUnsigned
	}
	pub, ok := k.key(h.Get(HeaderKey), 0)
	if !ok {
		return ErrUnknownKey
	}
	if event {
		return checkEventSig(pub, h, msg, &k.roots)
	}
	return checkSig(pub, h, msg)
}

// CheckEvent checks the audit headers of a stored event: nil when the signature (its
// own, or its batch's with its proof) holds under a trusted key, else ErrUnsigned,
// ErrUnknownKey or ErrBadSignature.
func (k *Keyring) CheckEvent(h nats.Header, subject, id string, body []byte) error {
	return k.check(h, signedBytes("redlane-event-v2", []byte(subject), []byte(id), body), true)
}

// CheckSeal checks a seal's signature against the trusted keys.
func (k *Keyring) CheckSeal(h nats.Header, body []byte) error { return k.checkSeal(h, body) }

// checkSeal checks a seal's signature.
func (k *Keyring) checkSeal(h nats.Header, body []byte) error {
	return k.check(h, signedBytes("redlane-seal-v2", body), false)
}

// ReadPublicKeys reads a file of trusted public keys: one base64 Ed25519 public key a
// line; blank lines and lines starting with # are passed over, as is anything after the
// key on its line (a name).
func ReadPublicKeys(path string) ([]ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted keys: %w", err)
	}
	var out []ed25519.PublicKey
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		field := strings.Fields(line)[0]
		pub, err := base64.StdEncoding.DecodeString(field)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("trusted keys %s line %d: not a base64 Ed25519 public key", path, i+1)
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("trusted keys %s: no key in it", path)
	}
	return out, nil
}

// WritePublicKeys writes a trusted keys file (mode 0644: public keys are no secret).
func WritePublicKeys(path string, keys ...*Signer) error {
	var b strings.Builder
	b.WriteString("# Redlane: the writers' public keys this data directory trusts (Ed25519, base64)\n")
	for _, s := range keys {
		fmt.Fprintf(&b, "%s key %s\n", s.PublicKeyText(), s.KeyID())
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
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

// ScanStream reads the stored messages of stream (on filters, or all) from position
// from up to its last position when called.
func ScanStream(ctx context.Context, stream jetstream.Stream, from uint64, filters []string, fn func(RawEvent) error) error {
	return scanStream(ctx, stream, from, filters, fn)
}

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
