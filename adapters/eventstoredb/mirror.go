package eventstoredb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/internal/worker"
)

// The mirror's names on NATS. Permanent.
const (
	ConsumerName     = "mirror-esdb"
	CheckpointBucket = "REDLANE_MIRROR"
	CheckpointKey    = "esdb"
	LeaseBucket      = "REDLANE_LEASES"
	LeaseKey         = "mirror.esdb"
)

// ErrWrongExpectedVersion is what a Target returns when a stream is not at the revision
// an append expected.
var ErrWrongExpectedVersion = errors.New("wrong expected version")

// Target is where the mirror writes: EventStoreDB (Client), or anything that keeps its
// rules. Implementations are safe for concurrent use.
type Target interface {
	// Append appends events to stream if it is at expected. When the stream already
	// holds exactly these events right after expected, the append succeeds and writes
	// nothing (EventStoreDB's idempotent write). Otherwise, when the stream is not at
	// expected, it returns an error matching ErrWrongExpectedVersion.
	Append(ctx context.Context, stream string, expected esdb.ExpectedRevision, events ...esdb.EventData) error
	// EventAt returns the id of the event at revision in stream, and false when there is
	// none.
	EventAt(ctx context.Context, stream string, revision uint64) (uuid.UUID, bool, error)
}

// Client is a Target on an EventStoreDB (KurrentDB) server.
type Client struct {
	db *esdb.Client
}

// Dial returns a client of the server at url, an EventStoreDB connection string such as
// esdb://eventstore:2113?tls=false. It connects on first use.
func Dial(url string, log *slog.Logger) (*Client, error) {
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		return nil, fmt.Errorf("eventstoredb url: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	cfg.Logger = func(level esdb.LogLevel, format string, args ...any) {
		l := slog.LevelDebug
		if level == esdb.LogError || level == esdb.LogWarn {
			l = slog.LevelWarn
		}
		log.Log(context.Background(), l, "eventstoredb client: "+fmt.Sprintf(format, args...))
	}
	db, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("eventstoredb: %w", err)
	}
	return &Client{db: db}, nil
}

// Close closes the client.
func (c *Client) Close() error { return c.db.Close() }

// Append appends events; see Target.
func (c *Client) Append(ctx context.Context, stream string, expected esdb.ExpectedRevision, events ...esdb.EventData) error {
	_, err := c.db.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, events...)
	var e *esdb.Error
	if errors.As(err, &e) && e.Code() == esdb.ErrorCodeWrongExpectedVersion {
		return fmt.Errorf("append to %s: %w: %v", stream, ErrWrongExpectedVersion, err)
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", stream, err)
	}
	return nil
}

// EventAt reads one event; see Target.
func (c *Client) EventAt(ctx context.Context, stream string, revision uint64) (uuid.UUID, bool, error) {
	rs, err := c.db.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(revision)}, 1)
	if err != nil {
		return uuid.UUID{}, false, fmt.Errorf("read %s at %d: %w", stream, revision, err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	var e *esdb.Error
	switch {
	case errors.Is(err, io.EOF), errors.As(err, &e) && e.Code() == esdb.ErrorCodeResourceNotFound:
		return uuid.UUID{}, false, nil
	case err != nil:
		return uuid.UUID{}, false, fmt.Errorf("read %s at %d: %w", stream, revision, err)
	}
	rec := ev.OriginalEvent()
	if rec == nil || rec.EventNumber != revision {
		return uuid.UUID{}, false, nil
	}
	return rec.EventID, true, nil
}

// MirrorConfig configures a Mirror.
type MirrorConfig struct {
	// Stream is the NATS event stream; "REDLANE" when empty.
	Stream string
	// Target is where events go.
	Target Target
	// Owner names this process in the lease and the checkpoint.
	Owner string
	// LeaseTTL is how long the mirror's lease lasts without renewal (default 5 s).
	LeaseTTL time.Duration
	// Batch is how many events are fetched at a time (default 256).
	Batch int
	// Parallel is how many aggregates' streams are appended to at once (default 8).
	Parallel int
	// Replicas of the checkpoint bucket and the lease bucket.
	Replicas int
	Log      *slog.Logger
	// Obeys, when set, says whether a message is an event Redlane signed under a trusted
	// key. One that is not never takes a place in its aggregate's stream: it is put in
	// quarantine, saying so.
	Obeys func(seq uint64, subject string, header nats.Header, body []byte) bool
}

// Mirror copies every event of the NATS event stream into a Target, in order per
// aggregate, from a durable consumer with its own checkpoint.
type Mirror struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	cfg    MirrorConfig
}

// checkpoint is the last position mirrored, Seq in Stream (the period's stream; empty
// when written before periods, in the first period's stream).
type checkpoint struct {
	Seq    uint64    `json:"seq"`
	Stream string    `json:"stream,omitempty"`
	Writer string    `json:"writer"`
	At     time.Time `json:"at"`
}

// MoveToPeriod moves the mirror's checkpoint, at the end of the period stream from (its
// last position fromLast), to position seq of stream to, the last copy the roll carried
// there: the mirror goes on with the first new event. A mirror that never ran is left
// alone; one that has not mirrored the whole period is an error: the events it has not
// reached would never be mirrored. With to empty it only checks.
func MoveToPeriod(ctx context.Context, js jetstream.JetStream, from string, fromLast uint64, to string, seq uint64) error {
	kv, err := js.KeyValue(ctx, CheckpointBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mirror checkpoint: %w", err)
	}
	e, err := kv.Get(ctx, CheckpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mirror checkpoint: %w", err)
	}
	var cp checkpoint
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		return fmt.Errorf("mirror checkpoint: %w", err)
	}
	switch {
	case to != "" && cp.Stream == to:
		return nil // moved already
	case cp.Stream != "" && cp.Stream != from:
		return fmt.Errorf("the EventStoreDB mirror's checkpoint is in stream %s, neither %s nor %s", cp.Stream, from, to)
	case cp.Seq < fromLast:
		return fmt.Errorf("the EventStoreDB mirror has mirrored %s up to %d of %d: run serve with --esdb-url until it has caught up, then stop it and roll", from, cp.Seq, fromLast)
	}
	if to == "" {
		return nil
	}
	body, _ := json.Marshal(checkpoint{Seq: seq, Stream: to, Writer: "period roll", At: time.Now().UTC()})
	if _, err := kv.Update(ctx, CheckpointKey, body, e.Revision()); err != nil {
		return fmt.Errorf("mirror checkpoint: move to %s at %d: %w", to, seq, err)
	}
	return nil
}

// NewMirror prepares the checkpoint and lease buckets.
func NewMirror(ctx context.Context, js jetstream.JetStream, cfg MirrorConfig) (*Mirror, error) {
	if cfg.Target == nil {
		return nil, errors.New("mirror: no target")
	}
	if cfg.Stream == "" {
		cfg.Stream = "REDLANE"
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	replicas := max(cfg.Replicas, 1)
	for _, b := range []string{CheckpointBucket, LeaseBucket} {
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, History: 1, Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
			return nil, fmt.Errorf("mirror: bucket %s: %w", b, err)
		}
	}
	st, err := js.Stream(ctx, cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("mirror: stream %s: %w", cfg.Stream, err)
	}
	return &Mirror{js: js, stream: st, cfg: cfg}, nil
}

// Checkpoint returns the last stream position mirrored, and the checkpoint's revision.
func (m *Mirror) Checkpoint(ctx context.Context) (uint64, uint64, error) {
	kv, err := m.js.KeyValue(ctx, CheckpointBucket)
	if err != nil {
		return 0, 0, err
	}
	e, err := kv.Get(ctx, CheckpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	var cp checkpoint
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		return 0, 0, fmt.Errorf("mirror checkpoint: %w", err)
	}
	return cp.Seq, e.Revision(), nil
}

// sameStream refuses a checkpoint that is a position in another period's stream.
func (m *Mirror) sameStream(ctx context.Context) error {
	kv, err := m.js.KeyValue(ctx, CheckpointBucket)
	if err != nil {
		return err
	}
	e, err := kv.Get(ctx, CheckpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var cp checkpoint
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		return fmt.Errorf("mirror checkpoint: %w", err)
	}
	stream := cp.Stream
	if stream == "" && cp.Seq > 0 && m.stream.CachedInfo().Config.Metadata[metaPeriodPrev] != "" {
		stream = "the first period's stream"
	}
	if stream != "" && stream != m.cfg.Stream {
		return fmt.Errorf("mirror: the checkpoint (%d) is a position in %s, not in %s (redlane period roll moves it)", cp.Seq, stream, m.cfg.Stream)
	}
	return nil
}

// Run mirrors until ctx ends. Several processes may Run; one mirrors at a time. Trouble
// with the target (a server that is down) is logged and retried with a growing pause.
func (m *Mirror) Run(ctx context.Context) error {
	return worker.New(worker.Config{
		Name: "eventstoredb mirror", JS: m.js, LeaseBucket: LeaseBucket, LeaseKey: LeaseKey,
		Owner: m.cfg.Owner, LeaseTTL: m.cfg.LeaseTTL, Stream: m.stream,
		Consumer: jetstream.ConsumerConfig{
			Durable: ConsumerName, Description: "Redlane's mirror into EventStoreDB",
			MaxAckPending: 4 * m.cfg.Batch, AckWait: time.Minute, InactiveThreshold: time.Hour,
		},
		Batch: m.cfg.Batch, MaxPause: 30 * time.Second, Log: m.cfg.Log,
	}, &mirrorJob{m: m}).Run(ctx)
}

// mirrorJob is one term as the mirror, run by a worker.Worker: the events go to the
// target, then the checkpoint to its bucket by compare-and-set.
type mirrorJob struct {
	m     *Mirror
	kv    jetstream.KeyValue
	cpRev uint64
}

// Resume reads the checkpoint.
func (j *mirrorJob) Resume(ctx context.Context) (uint64, error) {
	kv, err := j.m.js.KeyValue(ctx, CheckpointBucket)
	if err != nil {
		return 0, err
	}
	cp, cpRev, err := j.m.Checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	j.kv, j.cpRev = kv, cpRev
	if err := j.m.sameStream(ctx); err != nil {
		return 0, err
	}
	j.m.cfg.Log.Info("eventstoredb mirror started", "from", cp+1, "owner", j.m.cfg.Owner)
	return cp, nil
}

// Idle has nothing to do: the mirror only follows the stream.
func (j *mirrorJob) Idle(context.Context) error { return nil }

// Handle mirrors a batch, then moves the checkpoint past it.
func (j *mirrorJob) Handle(ctx context.Context, b worker.Batch) error {
	events := make([]stored, len(b.Msgs))
	for i, msg := range b.Msgs {
		events[i] = stored{seq: worker.Seq(msg), subject: msg.Subject(), header: msg.Headers(), body: msg.Data()}
	}
	if err := j.m.write(ctx, events); err != nil {
		return err
	}
	body, _ := json.Marshal(checkpoint{Seq: events[len(events)-1].seq, Stream: j.m.cfg.Stream, Writer: j.m.cfg.Owner, At: time.Now().UTC()})
	var err error
	if j.cpRev == 0 {
		j.cpRev, err = j.kv.Create(ctx, CheckpointKey, body)
	} else {
		j.cpRev, err = j.kv.Update(ctx, CheckpointKey, body, j.cpRev)
	}
	if err != nil {
		return fmt.Errorf("mirror checkpoint (another writer?): %w", err)
	}
	return nil
}

// stored is one message of the event stream.
type stored struct {
	seq     uint64
	subject string
	header  nats.Header
	body    []byte
}

// write mirrors a batch: each aggregate's events in order, several aggregates at once.
func (m *Mirror) write(ctx context.Context, events []stored) error {
	type group struct {
		stream string
		events []Mapped
		raw    []stored
	}
	var groups []*group
	byStream := map[string]*group{}
	var loose []stored     // unreadable: straight to quarantine
	var untrusted []stored // not Redlane's: straight to quarantine
	for _, ev := range events {
		if m.cfg.Obeys != nil && !m.cfg.Obeys(ev.seq, ev.subject, ev.header, ev.body) {
			untrusted = append(untrusted, ev)
			continue
		}
		mp, err := Map(m.cfg.Stream, ev.seq, ev.subject, ev.header, ev.body)
		if err != nil {
			loose = append(loose, ev)
			continue
		}
		g := byStream[mp.Stream]
		if g == nil {
			g = &group{stream: mp.Stream}
			byStream[mp.Stream] = g
			groups = append(groups, g)
		}
		g.events = append(g.events, mp)
		g.raw = append(g.raw, ev)
	}
	for _, ev := range loose {
		if err := m.quarantine(ctx, ev, "the body is not a Redlane event"); err != nil {
			return err
		}
	}
	for _, ev := range untrusted {
		if err := m.quarantine(ctx, ev, "this event is not Redlane's (no signature of a trusted key): ignored"); err != nil {
			return err
		}
	}
	sem := make(chan struct{}, m.cfg.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, g := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := m.writeGroup(ctx, g.stream, g.events, g.raw); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// writeGroup appends one aggregate's events: in one append when their versions follow
// one another, else (or when the stream is not where they expect) one at a time.
func (m *Mirror) writeGroup(ctx context.Context, stream string, evs []Mapped, raw []stored) error {
	contiguous := true
	for i := 1; i < len(evs); i++ {
		contiguous = contiguous && evs[i].Version == evs[i-1].Version+1
	}
	if contiguous && len(evs) > 1 {
		data := make([]esdb.EventData, len(evs))
		for i, e := range evs {
			data[i] = e.Event
		}
		err := m.cfg.Target.Append(ctx, stream, evs[0].Expected, data...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrWrongExpectedVersion) {
			return err
		}
	}
	for i, e := range evs {
		if err := m.place(ctx, e, raw[i]); err != nil {
			return err
		}
	}
	return nil
}

// place appends one event at its revision. When the stream is elsewhere, the event is
// there already (a redelivery), or something else holds its place and it goes to
// quarantine.
func (m *Mirror) place(ctx context.Context, e Mapped, raw stored) error {
	err := m.cfg.Target.Append(ctx, e.Stream, e.Expected, e.Event)
	if err == nil || !errors.Is(err, ErrWrongExpectedVersion) {
		return err
	}
	id, found, err := m.cfg.Target.EventAt(ctx, e.Stream, e.Revision())
	if err != nil {
		return err
	}
	if found && id == e.Event.EventID {
		return nil // mirrored before
	}
	why := fmt.Sprintf("stream %s has no revision %d to follow", e.Stream, e.Revision())
	if found {
		why = fmt.Sprintf("stream %s already holds event %s at revision %d", e.Stream, id, e.Revision())
	}
	m.cfg.Log.Error("eventstoredb mirror: an event cannot take its place; quarantined", "seq", raw.seq, "subject", raw.subject, "why", why)
	return m.quarantine(ctx, raw, why)
}

func (m *Mirror) quarantine(ctx context.Context, ev stored, why string) error {
	return m.cfg.Target.Append(ctx, QuarantineStream, esdb.Any{}, Quarantine(m.cfg.Stream, ev.seq, ev.subject, ev.header, ev.body, why))
}
