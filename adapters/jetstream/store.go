// Package jetstream is the domain.EventStore on a NATS JetStream stream.
//
// # Wire format
//
// All events live in one stream (Config.Stream, default "REDLANE"): file storage, limits
// retention without limits, no max age, a two-minute duplicate window, direct get and
// atomic batch publish allowed. Nothing here ever purges or deletes from it.
//
// Each aggregate has its own subject, <Config.Prefix>.<aggregate type>.<aggregate id>,
// e.g. "redlane.events.order.0193f0c4-…"; the stream listens on <Prefix>.>. Types and
// ids are 1 to 128 characters of A-Z, a-z, 0-9, '-' and '_'. The stream sequence is the
// event's log position (domain.Recorded.Seq), a total order over all aggregates.
//
// A message's body is exactly the JSON of its domain.Envelope (a CloudEvents 1.0 event
// in structured mode); nothing else is ever stored in the stream. Its headers are
//
//	Nats-Msg-Id                          the envelope id, for JetStream's deduplication
//	Nats-Expected-Last-Subject-Sequence  on the first event of an append: the position the
//	                                     aggregate's last event must be at (0: none yet)
//	Redlane-Type                         the event type, e.g. redlane.order.dispatched.v1
//	Redlane-Version                      the aggregate version the event brings it to
//	Redlane-Signature, Redlane-Key       with Config.Signer: the event's signature (signing.go)
//
// An append of several events is one JetStream atomic batch, so an aggregate's events of
// one command sit at consecutive positions or not at all. Its messages also keep the
// batch headers the server stores with them: Nats-Batch-Id, Nats-Batch-Sequence (1, 2,
// …) and, on the last, Nats-Batch-Commit. Readers ignore headers they do not know.
//
// # Retries
//
// JetStream checks a single message's expected position before its id, so the retry of
// an append that went through fails as a wrong last sequence; an atomic batch whose
// first id is stored fails as a duplicate. On either refusal Append looks at the
// aggregate's first event after the expected position: if it is the retried event, the
// append went through and its positions are reported; otherwise it is a conflict. This
// holds after the server's two-minute duplicate window too. An id stored for another
// aggregate is refused as a conflict while the window remembers it.
//
// # Reading
//
// Load asks for the aggregate's last event (a direct get by subject) and, when events
// lie between it and the position asked for, reads them with batched direct gets
// filtered on the subject. Each such read makes the server walk the stream between the
// aggregate's events, so Load skips it when the aggregate versions show nothing lies
// between. ReadAll replays the whole stream with an ordered consumer.
//
// # The packages beside it
//
// The store signs every event and obeys only events signed by a trusted key (signing.go,
// trust.go); group commit (group.go) batches concurrent appends. Beside it, by job:
// views (the read models and the feed on NATS), audit (the sealer, Verify and the
// watchdog), vault (the residents' keys, shared secrets, sessions and password hashes).
package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/redlane/redlane/domain"
)

// The headers Redlane sets on every event besides JetStream's own.
const (
	// HeaderType carries the envelope's event type.
	HeaderType = "Redlane-Type"
	// HeaderVersion carries the aggregate version the event brings its aggregate to.
	HeaderVersion = "Redlane-Version"
)

// The defaults of Config.
const (
	// DefaultStream is the stream name used when Config.Stream is empty.
	DefaultStream = "REDLANE"
	// DefaultPrefix is the subject prefix used when Config.Prefix is empty.
	DefaultPrefix = "redlane.events"
)

// duplicateWindow is how long JetStream remembers message ids for deduplication.
const duplicateWindow = 2 * time.Minute

// DuplicateWindow is how long the streams Redlane makes remember message ids.
const DuplicateWindow = duplicateWindow

// ScanBatch is how many messages one batched direct get asks for.
const ScanBatch = scanBatch

// LeaseBucket holds the leases of Redlane's background writers (view writers, sealer,
// mirror). Permanent.
const LeaseBucket = "REDLANE_LEASES"

// MaxBatchMessages is the most messages one atomic batch may hold (the server's limit
// is 1,000).
const MaxBatchMessages = 999

// Progress is told how far a long read has come: done of total stream positions.
type Progress func(done, total uint64)

// scanBatch is how many messages one batched direct get asks for.
const scanBatch = 512

// JetStream API error codes the store interprets.
const (
	errCodeWrongLastSeq      = 10071 // expected last (subject) sequence does not hold
	errCodeWrongLastSeqConst = 10164 // the same, on replicated streams under contention
	errCodeBatchDuplicate    = 10201 // an atomic batch carries an already stored msg id
	errCodeBatchIncomplete   = 10176 // the batch was dropped before its commit
	errCodeBatchInflight     = 10210 // too many atomic batches open on the stream
)

// maxBatchesInFlight bounds this store's concurrent atomic batches, below the server's
// default limit of 50 open batches per stream.
const maxBatchesInFlight = 32

// validID reports whether s may be a subject token: 1 to 128 of A-Z, a-z, 0-9, '-'
// and '_'. A loop, not a regular expression: it runs on every append and load.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Config says which stream holds the events and how it is replicated.
type Config struct {
	// Stream is the stream's name; DefaultStream when empty.
	Stream string
	// Prefix starts every event subject; DefaultPrefix when empty.
	Prefix string
	// Replicas is the stream's replication factor; 1 when zero.
	Replicas int
	// Signer, when set, signs every appended event (the Redlane-Signature and
	// Redlane-Key headers; see signing.go). Each writer signs on its own: nothing waits.
	Signer *Signer
	// Keys, when set, are the keys whose signatures the store obeys: Load, ReadAll and
	// every reader built on the store pass over an event no trusted key signed, and
	// report it to Rejected. Nil obeys every event (tests of other things).
	Keys *Keyring
	// Rejected records what the store sets aside; nil: a recorder that only logs.
	Rejected *Rejections
	// ReadOnly opens the stream as it is, without creating or updating it: what a
	// reader's NATS user (auditor, reporting) may do.
	ReadOnly bool
	// DenyDelete and DenyPurge are not options: the stream is always created with
	// deny_delete and deny_purge, so that no client, Redlane's own included, can remove
	// an event. Only tests that stage a lost event make one without (export_test.go).
	allowDelete bool
}

// Store is the JetStream event store. It is safe for concurrent use.
type Store struct {
	js         jetstream.JetStream
	stream     jetstream.Stream
	name       string
	prefix     string // with the trailing dot
	directGet  string // the batched direct get API subject of the stream
	apiTimeout time.Duration
	batches    chan struct{} // a semaphore of maxBatchesInFlight
	signer     *Signer       // nil: events are not signed
	keys       *Keyring      // nil: every event is obeyed
	rejected   *Rejections
	highWater  atomic.Uint64 // the highest position seen stored (audit.Intact)
	checked    checkedSigs   // positions whose signatures held (trust.go)
}

var _ domain.EventStore = (*Store)(nil)

// Open creates the event stream, or updates an existing one to the configuration above,
// and returns a store on it.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if strings.ContainsAny(cfg.Stream, ".*> \t\r\n") {
		return nil, fmt.Errorf("jetstream store: invalid stream name %q", cfg.Stream)
	}
	for _, tok := range strings.Split(cfg.Prefix, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n*>") {
			return nil, fmt.Errorf("jetstream store: invalid subject prefix %q", cfg.Prefix)
		}
	}
	var stream jetstream.Stream
	var err error
	if cfg.ReadOnly {
		if stream, err = js.Stream(ctx, cfg.Stream); err != nil {
			return nil, fmt.Errorf("jetstream store: stream %s: %w", cfg.Stream, err)
		}
	} else {
		stream, err = createStream(ctx, js, cfg)
	}
	if err != nil {
		return nil, err
	}
	opts := js.Options()
	api := "$JS.API."
	switch {
	case opts.APIPrefix != "":
		api = strings.TrimSuffix(opts.APIPrefix, ".") + "."
	case opts.Domain != "":
		api = "$JS." + opts.Domain + ".API."
	}
	timeout := opts.DefaultTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	rejected := cfg.Rejected
	if cfg.Keys != nil && rejected == nil {
		if rejected, err = NewRejections(nil, nil); err != nil {
			return nil, err
		}
	}
	st := &Store{
		js:         js,
		stream:     stream,
		name:       cfg.Stream,
		prefix:     cfg.Prefix + ".",
		directGet:  api + "DIRECT.GET." + cfg.Stream,
		apiTimeout: timeout,
		batches:    make(chan struct{}, maxBatchesInFlight),
		signer:     cfg.Signer,
		keys:       cfg.Keys,
		rejected:   rejected,
	}
	if cfg.Keys != nil {
		cfg.Keys.mu.Lock()
		cfg.Keys.resolve = st.keyEvent
		cfg.Keys.mu.Unlock()
	}
	return st, nil
}

// createStream creates the event stream, or updates it to the configuration above.
func createStream(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Stream, error) {
	var meta map[string]string // a period's metadata (period.go) outlives the update
	if st, err := js.Stream(ctx, cfg.Stream); err == nil {
		if st.CachedInfo().Config.Sealed {
			return st, nil // a period that ended: it stays as it is
		}
		meta = periodMeta(st.CachedInfo().Config.Metadata)
	}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Metadata:           meta,
		Name:               cfg.Stream,
		Description:        "Redlane events: one subject per aggregate, body is the CloudEvents envelope JSON",
		Subjects:           []string{cfg.Prefix + ".>"},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		MaxAge:             0,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxMsgsPerSubject:  -1,
		Duplicates:         duplicateWindow,
		Replicas:           cfg.Replicas,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		DenyDelete:         !cfg.allowDelete,
		DenyPurge:          !cfg.allowDelete,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream store: create or update stream %s: %w", cfg.Stream, err)
	}
	return stream, nil
}

// DirectGetSubject is the batched direct get API subject of another stream on the same
// JetStream (the feed's, say).
func (s *Store) DirectGetSubject(stream string) string {
	return strings.TrimSuffix(s.directGet, s.name) + stream
}

// HighWater is the highest stream position this store has seen stored.
func (s *Store) HighWater() uint64 { return s.highWater.Load() }

// Saw raises HighWater to seq when it is higher.
func (s *Store) Saw(seq uint64) {
	for {
		seen := s.highWater.Load()
		if seen >= seq || s.highWater.CompareAndSwap(seen, seq) {
			return
		}
	}
}

// JetStream is the JetStream context the store works through.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// ResolveKeysFromLog has keys look up the keys introduced on this store's log as it
// meets them, unless it looks them up elsewhere already.
func (s *Store) ResolveKeysFromLog(keys *Keyring) {
	keys.mu.Lock()
	defer keys.mu.Unlock()
	if keys.resolve == nil {
		keys.resolve = s.keyEvent
	}
}

// Stream is the stream holding the events.
func (s *Store) Stream() jetstream.Stream { return s.stream }

// WrongLastSequence reports whether err is the server's refusal of a publish whose
// expected last (subject) sequence does not hold: an optimistic concurrency conflict.
func WrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeWrongLastSeq || apiErr.ErrorCode == errCodeWrongLastSeqConst)
}

// StreamName returns the name of the stream holding the events.
func (s *Store) StreamName() string { return s.name }

// Subject returns the subject of an aggregate's events. It does not check the names;
// Append and Load refuse invalid ones.
func (s *Store) Subject(aggType, aggID string) string { return s.prefix + aggType + "." + aggID }

func (s *Store) subject(aggType, aggID string) (string, error) {
	if !validID(aggType) {
		return "", domain.Invalid("id", fmt.Sprintf("aggregate type %q must be 1 to 128 letters, digits, '-' or '_'", aggType))
	}
	if !validID(aggID) {
		return "", domain.Invalid("id", fmt.Sprintf("aggregate id %q must be 1 to 128 letters, digits, '-' or '_'", aggID))
	}
	return s.Subject(aggType, aggID), nil
}

// Append stores events for one aggregate if its last event is still at position expected;
// see domain.EventStore. One event is one publish; several are one atomic batch.
func (s *Store) Append(ctx context.Context, aggType, aggID string, expected uint64, events []domain.Envelope) ([]uint64, error) {
	subj, err := s.subject(aggType, aggID)
	if err != nil {
		return nil, err
	}
	if err := domain.CheckAppend(aggType, aggID, events); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	msgs := make([]*nats.Msg, len(events))
	for i := range events {
		data, err := json.Marshal(&events[i])
		if err != nil {
			return nil, fmt.Errorf("append %s/%s: encode event %s: %w", aggType, aggID, events[i].ID, err)
		}
		msgs[i] = &nats.Msg{Subject: subj, Data: data, Header: nats.Header{
			jetstream.MsgIDHeader: {events[i].ID},
			HeaderType:            {events[i].Type},
			HeaderVersion:         {strconv.FormatUint(events[i].Version, 10)},
		}}
		if s.signer != nil {
			s.signer.sign(msgs[i], events[i].ID)
		}
	}

	seqs, err := s.publish(ctx, subj, expected, msgs, events)
	for attempt := 0; errors.Is(err, domain.ErrConflict) && s.keys != nil && attempt < 4; attempt++ {
		// Events nobody trusted may sit after the aggregate's last genuine one: they are
		// not its history, so the append goes after them.
		tail, ok, terr := s.untrustedTail(ctx, subj, expected)
		if terr != nil || !ok {
			break
		}
		expected = tail
		seqs, err = s.publish(ctx, subj, expected, msgs, events)
	}
	if err == nil {
		s.appended(seqs, msgs)
	}
	return seqs, err
}

// appended notes events this process has just stored at seqs: their signatures need no
// checking (signed here), and the log reaches at least the last of them.
func (s *Store) appended(seqs []uint64, msgs []*nats.Msg) {
	if s.keys != nil && s.signer != nil && len(seqs) == len(msgs) && s.keys.Trusts(s.signer.pub) {
		for i, seq := range seqs {
			s.checked.add(seq, msgs[i].Header.Get(HeaderSignature)) // signed here, just now
		}
	}
	if len(seqs) > 0 {
		for last := seqs[len(seqs)-1]; ; {
			seen := s.highWater.Load()
			if seen >= last || s.highWater.CompareAndSwap(seen, last) {
				break
			}
		}
	}
}

// publish stores msgs, the encoded events, at expected.
func (s *Store) publish(ctx context.Context, subj string, expected uint64, msgs []*nats.Msg, events []domain.Envelope) ([]uint64, error) {
	if len(msgs) == 1 {
		ack, err := s.js.PublishMsg(ctx, msgs[0], jetstream.WithExpectLastSequencePerSubject(expected))
		if err != nil {
			return s.failed(ctx, subj, expected, events, err)
		}
		if ack.Duplicate {
			// The id is stored already, at ack.Sequence: as this aggregate's event, a
			// retry at its current position; otherwise the id is taken.
			m, err := s.stream.GetMsg(ctx, ack.Sequence)
			if err != nil {
				return nil, fmt.Errorf("append to %s: look up duplicate at %d: %w", subj, ack.Sequence, err)
			}
			if m.Subject != subj {
				return nil, fmt.Errorf("append to %s: event id %s is stored for %s: %w", subj, events[0].ID, m.Subject, domain.ErrConflict)
			}
		}
		return []uint64{ack.Sequence}, nil
	}

	msgs[0].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expected, 10))
	ack, err := s.publishBatch(ctx, msgs)
	if err != nil {
		return s.failed(ctx, subj, expected, events, err)
	}
	// An atomic batch is stored at consecutive positions, ending at the commit's.
	n := uint64(len(msgs))
	if ack.BatchSize != n || ack.Sequence < n {
		return nil, fmt.Errorf("append to %s: batch acknowledged %d messages ending at %d, sent %d", subj, ack.BatchSize, ack.Sequence, n)
	}
	seqs := make([]uint64, n)
	for i := range seqs {
		seqs[i] = ack.Sequence - n + 1 + uint64(i)
	}
	return seqs, nil
}

// untrustedTail reports whether every message on subj after position expected is one
// the store does not obey, and the position of the last.
func (s *Store) untrustedTail(ctx context.Context, subj string, expected uint64) (uint64, bool, error) {
	var last uint64
	genuine := false
	err := s.scan(ctx, subj, expected+1, 0, 0, 0, func(m *nats.Msg, seq uint64) error {
		if s.check(seq, subj, m.Header, m.Data) == nil {
			genuine = true
			return errStopScan
		}
		last = seq
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return 0, false, err
	}
	return last, !genuine && last > expected, nil
}

var errStopScan = errors.New("stop scanning")

// publishBatch publishes msgs as one atomic batch. The messages before the commit go
// out without waiting for an ack, so a batch costs one round trip. A batch the server
// dropped before its commit (it had too many open, say) stored nothing and is sent
// again after a short pause.
func (s *Store) publishBatch(ctx context.Context, msgs []*nats.Msg) (*jetstreamext.BatchAck, error) {
	select {
	case s.batches <- struct{}{}:
		defer func() { <-s.batches }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	pause := 500 * time.Microsecond
	for attempt := 0; ; attempt++ {
		ack, err := jetstreamext.PublishMsgBatch(ctx, s.js, msgs, jetstreamext.BatchFlowControl{AckFirst: false})
		var apiErr *jetstream.APIError
		if err == nil || attempt == 8 || !errors.As(err, &apiErr) ||
			(apiErr.ErrorCode != errCodeBatchIncomplete && apiErr.ErrorCode != errCodeBatchInflight) {
			return ack, err
		}
		select {
		case <-time.After(pause + time.Duration(rand.Int64N(int64(pause)))):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		pause *= 2
	}
}

// failed turns a refused publish into the contract's answer. The server refuses an
// already stored id in two ways that are no conflict at all: a single publish with a
// stale expected position fails its position check before it reaches deduplication,
// and an atomic batch whose first id is stored fails as a whole. Both are retries of
// an append that went through, so the events are looked up and their positions
// reported.
func (s *Store) failed(ctx context.Context, subj string, expected uint64, events []domain.Envelope, cause error) ([]uint64, error) {
	var apiErr *jetstream.APIError
	if !errors.As(cause, &apiErr) {
		return nil, fmt.Errorf("append to %s: %w", subj, cause)
	}
	switch apiErr.ErrorCode {
	case errCodeWrongLastSeq, errCodeWrongLastSeqConst, errCodeBatchDuplicate:
	default:
		return nil, fmt.Errorf("append to %s: %w", subj, cause)
	}
	seqs, err := s.stored(ctx, subj, expected, events, apiErr.ErrorCode == errCodeBatchDuplicate)
	switch {
	case err != nil:
		return nil, fmt.Errorf("append to %s: look for a stored retry: %w", subj, err)
	case seqs != nil:
		return seqs, nil
	case apiErr.ErrorCode == errCodeBatchDuplicate:
		return nil, fmt.Errorf("append to %s: an event id is stored already, but not as this append: %w (%s)", subj, domain.ErrConflict, apiErr.Description)
	}
	return nil, fmt.Errorf("append to %s at %d: %w (%s)", subj, expected, domain.ErrConflict, apiErr.Description)
}

// stored returns where events are stored if an earlier append of them went through,
// or nil. Such an append was made at the same expected position, so its first event
// is the aggregate's first after expected and the others follow it (an atomic batch
// takes consecutive positions). When the server said an id is stored (anywhere), and
// it is not there, the aggregate's whole history is searched.
func (s *Store) stored(ctx context.Context, subj string, expected uint64, events []domain.Envelope, known bool) ([]uint64, error) {
	first, err := s.stream.GetMsg(ctx, expected+1, jetstream.WithGetMsgSubject(subj))
	if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, err
	}
	if first != nil && msgID(first.Header, first.Data) == events[0].ID {
		seqs := []uint64{first.Sequence}
		if len(events) > 1 {
			err := s.scan(ctx, subj, first.Sequence+1, first.Sequence+uint64(len(events))-1, len(events)-1, 0, func(m *nats.Msg, seq uint64) error {
				if i := len(seqs); i < len(events) && seq == first.Sequence+uint64(i) && msgID(m.Header, m.Data) == events[i].ID {
					seqs = append(seqs, seq)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		if len(seqs) == len(events) {
			return seqs, nil
		}
		return nil, nil
	}
	if !known {
		return nil, nil
	}
	index := make(map[string]int, len(events))
	for i, e := range events {
		index[e.ID] = i
	}
	seqs := make([]uint64, len(events))
	found := 0
	err = s.scan(ctx, subj, 1, 0, 0, 0, func(m *nats.Msg, seq uint64) error {
		if i, ok := index[msgID(m.Header, m.Data)]; ok && seqs[i] == 0 {
			seqs[i] = seq
			found++
		}
		return nil
	})
	if err != nil || found < len(events) {
		return nil, err
	}
	return seqs, nil
}

// msgID returns a stored event's id: its Nats-Msg-Id, or the id in its body.
func msgID(h nats.Header, data []byte) string {
	if id := h.Get(jetstream.MsgIDHeader); id != "" {
		return id
	}
	var head struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(data, &head)
	return head.ID
}
