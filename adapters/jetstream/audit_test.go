package jetstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jsaudit "github.com/redlane/redlane/adapters/jetstream/audit"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/internal/randhist"
	"github.com/redlane/redlane/service"
)

// auditKey is the district's signing key, never in NATS.
var auditKey = jsstore.GenerateSigner()

// auditWorld is a signing store with a random but valid history.
type auditWorld struct {
	js     jetstream.JetStream
	store  *jsstore.Store
	stream jetstream.Stream
	signer *jsstore.Signer
	svc    *service.Service
	dist   *randhist.District
	rng    *rand.Rand
}

func newAuditWorld(tb testing.TB, steps int) *auditWorld {
	tb.Helper()
	_, nc := natstest.Start(tb)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	signer := auditKey
	store, err := jsstore.Open(ctx, js, jsstore.AllowDeletes(jsstore.Config{Signer: signer, Keys: jsstore.NewKeyring(signer.PublicKey())}))
	if err != nil {
		tb.Fatal(err)
	}
	stream, err := js.Stream(ctx, store.StreamName())
	if err != nil {
		tb.Fatal(err)
	}
	var tick atomic.Int64
	start := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	svc := service.New(service.Config{
		Store: store, Catalog: order.DefaultCatalog(), ReceiptKey: []byte("k"),
		Clock: domain.ClockFunc(func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Minute) }),
		NewID: func() string { return uuid.Must(uuid.NewV7()).String() },
	})
	dist, err := randhist.Seed(ctx, svc)
	if err != nil {
		tb.Fatal(err)
	}
	w := &auditWorld{js: js, store: store, stream: stream, signer: signer, svc: svc, dist: dist, rng: rand.New(rand.NewPCG(7, 11))}
	w.steps(tb, steps)
	return w
}

func (w *auditWorld) steps(tb testing.TB, n int) {
	tb.Helper()
	for range n {
		if err := w.dist.Step(context.Background(), w.svc, w.rng); err != nil {
			tb.Fatal(err)
		}
	}
}

// grow steps the history until at least n more events are stored (a random command
// may be refused and store nothing).
func (w *auditWorld) grow(tb testing.TB, n uint64) {
	tb.Helper()
	want := w.last(tb) + n
	for w.last(tb) < want {
		w.steps(tb, 1)
	}
}

func (w *auditWorld) sealer(tb testing.TB, cfg jsaudit.SealerConfig) *jsaudit.Sealer {
	tb.Helper()
	if cfg.Signer == nil {
		cfg.Signer = w.signer
	}
	if cfg.Owner == "" {
		cfg.Owner = tb.Name()
	}
	s, err := jsaudit.NewSealer(context.Background(), w.js, w.store, sealDeletable(cfg))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (w *auditWorld) seal(tb testing.TB) *jsaudit.Seal {
	tb.Helper()
	seal, err := w.sealer(tb, jsaudit.SealerConfig{}).SealNow(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return seal
}

func (w *auditWorld) verify(tb testing.TB, cfg jsaudit.VerifyConfig) *jsaudit.VerifyReport {
	tb.Helper()
	if cfg.Keys == nil {
		cfg.Keys = jsstore.NewKeyring(w.signer.PublicKey())
	}
	rep, err := jsaudit.Verify(context.Background(), w.js, w.store, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func (w *auditWorld) last(tb testing.TB) uint64 {
	tb.Helper()
	n, err := w.store.LastSeq(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// orderSeq returns the position of some order's event in the middle of the log.
func (w *auditWorld) orderSeq(tb testing.TB) (uint64, *jetstream.RawStreamMsg) {
	tb.Helper()
	for seq := w.last(tb) / 2; ; seq++ {
		m, err := w.stream.GetMsg(context.Background(), seq)
		if err != nil {
			tb.Fatal(err)
		}
		if strings.Contains(m.Subject, ".order.") {
			return seq, m
		}
	}
}

func problemKinds(rep *jsaudit.VerifyReport) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, fmt.Sprintf("%d:%s", p.Seq, p.Kind))
	}
	return out
}

func TestVerifyPassesOnAnUntouchedStore(t *testing.T) {
	w := newAuditWorld(t, 60)
	seal := w.seal(t)
	if seal == nil || seal.Upto != w.last(t) || seal.Count != seal.Upto {
		t.Fatalf("seal = %+v, stream ends at %d", seal, w.last(t))
	}
	if again := w.seal(t); again != nil {
		t.Fatalf("sealing again with nothing new made %+v", again)
	}
	w.grow(t, 10)
	rep := w.verify(t, jsaudit.VerifyConfig{})
	if !rep.OK() || rep.FirstBad != 0 {
		t.Fatalf("untouched store: problems %v", rep.Problems)
	}
	if rep.Events != w.last(t) || rep.Signed != rep.Events || rep.SealsMatched != 1 || rep.SealedUpto != seal.Upto {
		t.Errorf("report = %+v", rep)
	}
	if rep.Unsealed != w.last(t)-seal.Upto || rep.Unsealed == 0 {
		t.Errorf("unsealed = %d, want %d", rep.Unsealed, w.last(t)-seal.Upto)
	}
	// The chain it reports anchors a later verification.
	anchor := jsaudit.Anchor{Seq: rep.ChainSeq, Chain: rep.Chain}
	if rep := w.verify(t, jsaudit.VerifyConfig{Anchors: []jsaudit.Anchor{anchor}}); !rep.OK() {
		t.Errorf("verify with its own anchor: %v", rep.Problems)
	}
	bad := jsaudit.Anchor{Seq: rep.ChainSeq, Chain: strings.Repeat("0", 64)}
	if rep := w.verify(t, jsaudit.VerifyConfig{Anchors: []jsaudit.Anchor{bad}}); rep.OK() {
		t.Error("a wrong anchor passed")
	}
}

func TestVerifyNamesADeletedEvent(t *testing.T) {
	for _, sealed := range []bool{true, false} {
		t.Run(fmt.Sprintf("sealed=%v", sealed), func(t *testing.T) {
			w := newAuditWorld(t, 60)
			if sealed {
				w.seal(t)
			}
			seq, _ := w.orderSeq(t)
			// What "nats stream rmm REDLANE <seq>" did before the stream denied it, and
			// what a damaged block still does.
			loseMsg(t, w.stream, seq)
			rep := w.verify(t, jsaudit.VerifyConfig{})
			if rep.OK() || rep.FirstBad != seq {
				t.Fatalf("first bad = %d, want %d; problems %v", rep.FirstBad, seq, problemKinds(rep))
			}
			if p := rep.Problems[0]; p.Kind != jsaudit.ProblemMissing && !sealed {
				t.Errorf("first problem = %+v", p)
			}
			found := false
			for _, p := range rep.Problems {
				found = found || (p.Kind == jsaudit.ProblemMissing && p.Seq == seq && p.Until == seq)
				if sealed && p.Kind == jsaudit.ProblemSealMismatch && p.Seq > seq {
					t.Errorf("seal mismatch placed after the hole: %+v", p)
				}
			}
			if !found {
				t.Errorf("no missing-event problem at %d: %v", seq, problemKinds(rep))
			}
			if sealed && rep.SealsMatched != 0 {
				t.Errorf("the seal still matched after a deletion")
			}
		})
	}
}

// forge publishes an envelope on an order's subject the way someone with access to NATS
// but without the audit key could, and returns its position.
func (w *auditWorld) forge(tb testing.TB, sign func(m *nats.Msg, id string)) uint64 {
	tb.Helper()
	ctx := context.Background()
	id := w.dist.Orders[0]
	recs, err := w.store.Load(ctx, order.AggregateType, id, 0)
	if err != nil || len(recs) == 0 {
		tb.Fatal(err)
	}
	last := recs[len(recs)-1]
	data, _ := json.Marshal(order.Cancelled{Reason: "伪造"})
	env := last.Envelope
	env.ID, env.Type, env.Version, env.Data = uuid.Must(uuid.NewV7()).String(), order.TypeCancelled, last.Version+1, data
	body, _ := json.Marshal(env)
	m := nats.NewMsg(w.store.Subject(order.AggregateType, id))
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, env.ID)
	m.Header.Set(jsstore.HeaderType, env.Type)
	m.Header.Set(jsstore.HeaderVersion, fmt.Sprint(env.Version))
	if sign != nil {
		sign(m, env.ID)
	}
	ack, err := w.js.PublishMsg(ctx, m)
	if err != nil {
		tb.Fatal(err)
	}
	return ack.Sequence
}

func TestVerifyNamesAForgedEvent(t *testing.T) {
	other := jsstore.GenerateSigner() // somebody else's key, not ours
	cases := []struct {
		name string
		sign func(w *auditWorld) func(m *nats.Msg, id string)
		kind string
	}{
		{"unsigned", func(*auditWorld) func(*nats.Msg, string) { return nil }, jsaudit.ProblemUnsigned},
		{"signed with another key", func(*auditWorld) func(*nats.Msg, string) {
			return func(m *nats.Msg, id string) {
				m.Header.Set(jsstore.HeaderSignature, other.SignEvent(m.Subject, id, m.Data))
				m.Header.Set(jsstore.HeaderKey, other.KeyID())
			}
		}, jsaudit.ProblemUnknownKey},
		{"signed with another key under our key's id", func(w *auditWorld) func(*nats.Msg, string) {
			return func(m *nats.Msg, id string) {
				m.Header.Set(jsstore.HeaderSignature, other.SignEvent(m.Subject, id, m.Data))
				m.Header.Set(jsstore.HeaderKey, w.signer.KeyID())
			}
		}, jsaudit.ProblemBadSignature},
		{"a signed event's signature on another body", func(w *auditWorld) func(*nats.Msg, string) {
			return func(m *nats.Msg, id string) {
				m.Header.Set(jsstore.HeaderSignature, w.signer.SignEvent(m.Subject, id, []byte(`{"something":"else"}`)))
				m.Header.Set(jsstore.HeaderKey, w.signer.KeyID())
			}
		}, jsaudit.ProblemBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newAuditWorld(t, 40)
			w.seal(t)
			forged := w.forge(t, c.sign(w))
			w.grow(t, 5) // honest writes go on after it
			w.seal(t)
			rep := w.verify(t, jsaudit.VerifyConfig{})
			if rep.OK() || rep.FirstBad != forged {
				t.Fatalf("first bad = %d, want the forged event at %d; problems %v", rep.FirstBad, forged, problemKinds(rep))
			}
			if len(rep.Problems) != 1 || rep.Problems[0].Kind != c.kind {
				t.Errorf("problems = %v, want one %s", problemKinds(rep), c.kind)
			}
			if rep.SealsMatched != 2 {
				t.Errorf("%d seals matched, want 2: a forged event sealed after it came is still forged, not a seal problem", rep.SealsMatched)
			}
		})
	}
}

// A signed event published again (after the server's duplicate window) is an insertion
// that no signature check can see: the aggregate's versions show it.
func TestVerifyNamesACopiedEvent(t *testing.T) {
	w := newAuditWorld(t, 40)
	ctx := context.Background()
	info, err := w.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.Duplicates = 200 * time.Millisecond
	if _, err := w.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	_, orig := w.orderSeq(t)
	time.Sleep(400 * time.Millisecond)
	m := nats.NewMsg(orig.Subject)
	m.Data = orig.Data
	for _, h := range []string{jetstream.MsgIDHeader, jsstore.HeaderType, jsstore.HeaderVersion, jsstore.HeaderSignature, jsstore.HeaderKey} {
		m.Header.Set(h, orig.Header.Get(h))
	}
	// The server forgets ids some time after the window, not at once: try until it has.
	var ack *jetstream.PubAck
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if ack, err = w.js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("republish: %v", err)
		}
		if !ack.Duplicate {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still takes the copy for a duplicate: %+v", ack)
		}
	}
	rep := w.verify(t, jsaudit.VerifyConfig{})
	if rep.FirstBad != ack.Sequence || rep.Problems[0].Kind != jsaudit.ProblemVersion {
		t.Fatalf("first bad = %d, want the copy at %d; problems %v", rep.FirstBad, ack.Sequence, problemKinds(rep))
	}
}

func TestVerifyChecksTheSeals(t *testing.T) {
	w := newAuditWorld(t, 30)
	w.seal(t)
	w.grow(t, 10)
	second := w.seal(t)
	w.grow(t, 10)
	w.seal(t)
	seals, err := w.js.Stream(context.Background(), jsaudit.SealStream)
	if err != nil {
		t.Fatal(err)
	}

	// A seal made with another key.
	other := jsstore.GenerateSigner() // somebody else's key, not ours
	fake := w.sealer(t, jsaudit.SealerConfig{Signer: other})
	w.grow(t, 3)
	if _, err := fake.SealNow(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	rep := w.verify(t, jsaudit.VerifyConfig{})
	if rep.OK() || rep.Problems[0].Kind != jsaudit.ProblemSealForged {
		t.Fatalf("forged seal: problems %v", problemKinds(rep))
	}
	if rep.SealsMatched != 3 {
		t.Errorf("%d seals matched, want the 3 genuine ones", rep.SealsMatched)
	}

	// A genuine seal removed from the seal stream.
	loseMsg(t, seals, 2)
	rep = w.verify(t, jsaudit.VerifyConfig{})
	kinds := strings.Join(problemKinds(rep), " ")
	if !strings.Contains(kinds, jsaudit.ProblemSealMissing) {
		t.Fatalf("deleted seal up to %d: problems %v", second.Upto, kinds)
	}
}

func TestVerifyAcceptsEventsFromBeforeSigningOnlyWhenTold(t *testing.T) {
	w := newAuditWorld(t, 0)
	ctx := context.Background()
	// A store that did not sign, on the same stream: the events before the switch.
	plain, err := jsstore.Open(ctx, w.js, jsstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := plain.Append(ctx, "lane", "legacy", 0, []domain.Envelope{{SpecVersion: "1.0", ID: uuid.NewString(), Type: "redlane.lane.registered.v1",
		Source: "redlane", Subject: "lane/legacy", Time: time.Now().UTC(), AggregateType: "lane", AggregateID: "legacy", Version: 1, Data: json.RawMessage(`{"name":"旧巷","community":"taoyuan","street":"dongcheng"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	w.grow(t, 5)
	if rep := w.verify(t, jsaudit.VerifyConfig{}); rep.FirstBad != rec[0] || rep.Problems[0].Kind != jsaudit.ProblemUnsigned {
		t.Fatalf("unsigned event at %d: problems %v", rec[0], problemKinds(rep))
	}
	if rep := w.verify(t, jsaudit.VerifyConfig{UnsignedUntil: rec[0]}); !rep.OK() {
		t.Fatalf("with --unsigned-until %d: problems %v", rec[0], problemKinds(rep))
	}
}

func TestSealerFollowsTheLog(t *testing.T) {
	w := newAuditWorld(t, 20)
	s := w.sealer(t, jsaudit.SealerConfig{Every: 25, Interval: 50 * time.Millisecond, LeaseTTL: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// A second sealer waits for the lease rather than interleaving.
	s2 := w.sealer(t, jsaudit.SealerConfig{Owner: "other", Every: 25, Interval: 50 * time.Millisecond, LeaseTTL: time.Second})
	go func() { _ = s2.Run(ctx) }()
	w.grow(t, 80) // events, not steps: a refused step stores none
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep := w.verify(t, jsaudit.VerifyConfig{})
		if !rep.OK() {
			t.Fatalf("problems %v", problemKinds(rep))
		}
		if rep.Unsealed == 0 && rep.SealedUpto == w.last(t) {
			if rep.Seals < 3 || rep.SealsMatched != rep.Seals {
				t.Errorf("%d seals, %d matched", rep.Seals, rep.SealsMatched)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sealer did not catch up: %+v", rep)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSeqAt(t *testing.T) {
	w := newAuditWorld(t, 30)
	ctx := context.Background()
	var times []time.Time
	if err := w.store.Scan(ctx, 1, func(ev jsstore.RawEvent) error {
		env, err := domain.DecodeEnvelope(ev.Data)
		times = append(times, env.Time)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	loseMsg(t, w.stream, 10)
	// want is the last position stamped at or before at, by brute force.
	want := func(at time.Time) uint64 {
		var best uint64
		for i, tm := range times {
			if seq := uint64(i + 1); seq != 10 && !tm.After(at) {
				best = seq
			}
		}
		return best
	}
	probes := []time.Time{times[0].Add(-time.Second), times[len(times)-1].Add(time.Hour)}
	for _, tm := range times {
		probes = append(probes, tm, tm.Add(-time.Nanosecond), tm.Add(time.Second))
	}
	for _, at := range probes {
		got, err := w.store.SeqAt(ctx, at)
		if err != nil || got != want(at) {
			t.Errorf("SeqAt(%s) = %d, %v; want %d", at, got, err, want(at))
		}
	}
}

// loseMsg makes a stream lose the message at seq, as a damaged block on disk would; the
// stream must have been made with AllowDeletes.
func loseMsg(tb testing.TB, stream jetstream.Stream, seq uint64) {
	tb.Helper()
	if err := stream.DeleteMsg(context.Background(), seq); err != nil {
		tb.Fatal(err)
	}
}

// sealDeletable lets a test delete seals, to stage a lost one.
func sealDeletable(cfg jsaudit.SealerConfig) jsaudit.SealerConfig {
	cfg.Deletable = true
	return cfg
}
