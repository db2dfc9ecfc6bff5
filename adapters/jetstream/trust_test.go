package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jsaudit "github.com/redlane/redlane/adapters/jetstream/audit"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
	"github.com/redlane/redlane/domain"
)

// trustWorld is one log with a root writer and a store for each other writer, every
// one of them trusting only the root.
type trustWorld struct {
	js        jetstream.JetStream
	root      *jsstore.Signer
	rootStore *jsstore.Store
}

func newTrustWorld(t *testing.T) *trustWorld {
	t.Helper()
	_, nc := natstest.Start(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	w := &trustWorld{js: js, root: jsstore.GenerateSigner()}
	w.rootStore = w.storeOf(t, w.root)
	w.introduce(t, w.rootStore, w.root) // the log's first event: the root, self-signed
	return w
}

// storeOf opens a store that signs with signer and trusts the root alone.
func (w *trustWorld) storeOf(t *testing.T, signer *jsstore.Signer) *jsstore.Store {
	t.Helper()
	s, err := jsstore.Open(context.Background(), w.js, jsstore.Config{Signer: signer, Keys: jsstore.NewKeyring(w.root.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// introduce appends, through by, the key event of key.
func (w *trustWorld) introduce(t *testing.T, by *jsstore.Store, key *jsstore.Signer) {
	t.Helper()
	env, err := jsstore.Introduction(key.PublicKey(), "test", storetest.NewID(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := by.Append(context.Background(), jsstore.SignerAggregate, key.KeyID(), 0, []domain.Envelope{env}); err != nil {
		t.Fatal(err)
	}
}

// write appends one event to a new aggregate through s and returns the aggregate's id.
func write(t *testing.T, s *jsstore.Store) string {
	t.Helper()
	id := storetest.NewID()
	if _, err := s.Append(context.Background(), storetest.AggType, id, 0, storetest.Seal(t, storetest.AggType, id, 0, 1)); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestOnlyKeysATrustedKeyIntroducedAreObeyed(t *testing.T) {
	w := newTrustWorld(t)
	ctx := context.Background()
	loads := func(id string) bool {
		t.Helper()
		recs, err := w.rootStore.Load(ctx, storetest.AggType, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs) == 1
	}

	// Introduced by the root: trusted, by a reader that met it on the log only.
	second := jsstore.GenerateSigner()
	w.introduce(t, w.rootStore, second)
	if id := write(t, w.storeOf(t, second)); !loads(id) {
		t.Error("an event of a key the root introduced is not obeyed")
	}
	// Introduced by a key the root introduced: trusted too.
	third := jsstore.GenerateSigner()
	w.introduce(t, w.storeOf(t, second), third)
	if id := write(t, w.storeOf(t, third)); !loads(id) {
		t.Error("an event of a key introduced down a trusted chain is not obeyed")
	}
	// A key that introduces itself anywhere but as the pinned root: not trusted.
	self := jsstore.GenerateSigner()
	selfStore := w.storeOf(t, self)
	w.introduce(t, selfStore, self)
	if id := write(t, selfStore); loads(id) {
		t.Error("an event of a self-introduced key is obeyed")
	}
	// A key introduced by an untrusted one: not trusted.
	fourth := jsstore.GenerateSigner()
	w.introduce(t, selfStore, fourth)
	if id := write(t, w.storeOf(t, fourth)); loads(id) {
		t.Error("an event of a key an untrusted key introduced is obeyed")
	}
	if got := w.rootStore.Rejections().Count(); got != 2 {
		t.Errorf("%d events rejected, want the 2 of untrusted keys", got)
	}

	// An auditor with read-only access and the root from the log's first event agrees.
	ev, root, err := w.rootStore.RootKey(ctx)
	if err != nil || ev.Seq != 1 || jsstore.KeyID(root) != w.root.KeyID() {
		t.Fatalf("root key: %v %v %v", ev, root, err)
	}
	rep, err := jsaudit.Verify(ctx, w.js, w.rootStore, jsaudit.VerifyConfig{Keys: jsstore.NewKeyring(root)})
	if err != nil {
		t.Fatal(err)
	}
	// The self-introduction and the untrusted keys' events and introduction.
	if rep.ProblemsFound != 4 {
		t.Errorf("verify found %d problems, want 4: %v", rep.ProblemsFound, problemKinds(rep))
	}
}

func TestTheStoreAppendsPastWhatItDoesNotObey(t *testing.T) {
	w := newTrustWorld(t)
	ctx := context.Background()
	id := write(t, w.rootStore)
	recs, _ := w.rootStore.Load(ctx, storetest.AggType, id, 0)
	genuine := recs[0].Seq

	// Someone on the bus appends a version 2 of their own, twice.
	for range 2 {
		forged := storetest.Seal(t, storetest.AggType, id, 1, 1)[0]
		forgedStore, err := jsstore.Open(ctx, w.js, jsstore.Config{Signer: jsstore.GenerateSigner()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := forgedStore.Append(ctx, storetest.AggType, id, 0, []domain.Envelope{forged}); err == nil {
			t.Fatal("a stale append went through") // it must give its real last position
		}
		last, _ := w.js.Stream(ctx, w.rootStore.StreamName())
		m, err := last.GetLastMsgForSubject(ctx, w.rootStore.Subject(storetest.AggType, id))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := forgedStore.Append(ctx, storetest.AggType, id, m.Sequence, []domain.Envelope{forged}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := w.rootStore.Load(ctx, storetest.AggType, id, 0)
	if err != nil || len(recs) != 1 || recs[0].Seq != genuine {
		t.Fatalf("load after forgeries: %v %v", recs, err)
	}
	// The genuine next event goes after the forged ones, at the version the genuine
	// history gives.
	next := storetest.Seal(t, storetest.AggType, id, 1, 1)
	seqs, err := w.rootStore.Append(ctx, storetest.AggType, id, genuine, next)
	if err != nil {
		t.Fatalf("append after forgeries: %v", err)
	}
	recs, err = w.rootStore.Load(ctx, storetest.AggType, id, 0)
	if err != nil || len(recs) != 2 || recs[1].Seq != seqs[0] || recs[1].Version != 2 {
		t.Fatalf("history after: %+v %v", recs, err)
	}
	// A stale genuine append is still a conflict.
	if _, err := w.rootStore.Append(ctx, storetest.AggType, id, genuine, storetest.Seal(t, storetest.AggType, id, 1, 1)); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a stale append: %v", err)
	}
	// The audit's history shows all four, the forged ones marked.
	all, err := w.rootStore.History(ctx, storetest.AggType, id)
	if err != nil || len(all) != 4 || all[0].Rejected != "" || all[1].Rejected != "untrusted_key" || all[2].Rejected != "untrusted_key" || all[3].Rejected != "" {
		t.Fatalf("history: %+v %v", all, err)
	}
	if got := w.rootStore.Rejections().Count(); got != 2 {
		t.Errorf("%d rejected, want each forged event counted once however often read", got)
	}
}

func TestTheWatchdogNamesEventsTheLogLost(t *testing.T) {
	t.Run("a hole", func(t *testing.T) {
		_, nc := natstest.Start(t)
		js, _ := jetstream.New(nc)
		ctx := context.Background()
		s, err := jsstore.Open(ctx, js, jsstore.AllowDeletes(jsstore.Config{}))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			write(t, s)
		}
		wd, _ := jsaudit.NewWatchdog(s, nil, nil)
		if g, err := wd.Check(ctx); err != nil || g.Missing != 0 {
			t.Fatalf("a whole log: %+v %v", g, err)
		}
		st, _ := js.Stream(ctx, s.StreamName())
		if err := st.DeleteMsg(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if g, err := wd.Check(ctx); err != nil || g.Missing != 1 || wd.Gap() != g {
			t.Fatalf("after losing one: %+v %v", g, err)
		}
		// A view that took in more than the stream now holds names the loss too.
		wd.Marks = append(wd.Marks, func(context.Context) (uint64, string, error) { return 8, "view backlog", nil })
		if g, err := wd.Check(ctx); err != nil || g.Missing != 4 || !strings.Contains(g.Detail, "view backlog") {
			t.Fatalf("with a view ahead of the stream: %+v %v", g, err)
		}
	})
	t.Run("a damaged block dropped at start-up", func(t *testing.T) {
		dir := t.TempDir()
		srv := natstest.StartServer(t, natsserver.Config{DataDir: dir, Host: "127.0.0.1", Port: -1})
		nc := natstest.Connect(t, srv)
		js, _ := jetstream.New(nc)
		ctx := context.Background()
		signer := jsstore.GenerateSigner()
		s, err := jsstore.Open(ctx, js, jsstore.Config{Signer: signer})
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			write(t, s)
		}
		sealer, err := jsaudit.NewSealer(ctx, js, s, jsaudit.SealerConfig{Signer: signer, Owner: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if seal, err := sealer.SealNow(ctx, nil); err != nil || seal.Upto != 20 {
			t.Fatalf("seal: %v %v", seal, err)
		}
		nc.Close()
		srv.Shutdown()
		// Flip a byte in the middle of the event stream's block, and lose its index,
		// as a disk would.
		streamDir := filepath.Join(dir, "jetstream", "$G", "streams", s.StreamName(), "msgs")
		blk := filepath.Join(streamDir, "1.blk")
		b, err := os.ReadFile(blk)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(blk, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(filepath.Join(streamDir, "index.db"))
		srv2 := natstest.StartServer(t, srv.Config())
		js2, _ := jetstream.New(natstest.Connect(t, srv2))
		s2, err := jsstore.Open(ctx, js2, jsstore.Config{Signer: signer})
		if err != nil {
			t.Fatal(err)
		}
		wd, _ := jsaudit.NewWatchdog(s2, nil, nil)
		g, err := wd.Check(ctx)
		if err != nil || g.Missing == 0 {
			info, _ := js2.Stream(ctx, s2.StreamName())
			t.Fatalf("the server dropped damaged events and the watchdog saw nothing: %+v %v (stream now %+v)", g, err, info.CachedInfo().State)
		}
		t.Logf("found: %s", g.Detail)
	})
}

// TestALogFromBeforeEd25519StaysReadable: events signed with the shared HMAC key before
// the log's first key event are obeyed by a process that holds that key, and by nobody
// else; after the first key event the old key counts for nothing.
func TestALogFromBeforeEd25519StaysReadable(t *testing.T) {
	_, nc := natstest.Start(t)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	legacy, err := jsstore.NewLegacyKey([]byte("the district's old shared audit key"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jsstore.Open(ctx, js, jsstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// An old log: an order's first event, signed as writers signed then.
	publishLegacy := func(id string, version uint64) uint64 {
		t.Helper()
		env := storetest.Seal(t, storetest.AggType, id, version-1, 1)[0]
		body, _ := json.Marshal(env)
		m := nats.NewMsg(raw.Subject(storetest.AggType, id))
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, env.ID)
		sig, kid := legacy.Sign(m.Subject, env.ID, body)
		m.Header.Set(jsstore.HeaderSignature, sig)
		m.Header.Set(jsstore.HeaderKey, kid)
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return ack.Sequence
	}
	old := storetest.NewID()
	publishLegacy(old, 1)

	// The upgrade: a root key, introduced after the old events.
	root := jsstore.GenerateSigner()
	keys := jsstore.NewKeyring(root.PublicKey())
	store, err := jsstore.Open(ctx, js, jsstore.Config{Signer: root, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	env, _ := jsstore.Introduction(root.PublicKey(), "root", storetest.NewID(), time.Now())
	rootSeq, err := store.Append(ctx, jsstore.SignerAggregate, root.KeyID(), 0, []domain.Envelope{env})
	if err != nil {
		t.Fatal(err)
	}
	// Without the old key the old event is not obeyed.
	if recs, _ := store.Load(ctx, storetest.AggType, old, 0); len(recs) != 0 {
		t.Fatal("an HMAC event was obeyed without the old key")
	}
	keys.AcceptLegacy(legacy, rootSeq[0])
	other, _ := jsstore.Open(ctx, js, jsstore.Config{Signer: root, Keys: keys})
	recs, err := other.Load(ctx, storetest.AggType, old, 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("with the old key, before the first key event: %v %v", recs, err)
	}
	// The old order goes on, signed the new way.
	if _, err := other.Append(ctx, storetest.AggType, old, recs[0].Seq, storetest.Seal(t, storetest.AggType, old, 1, 1)); err != nil {
		t.Fatal(err)
	}
	// Someone who kept the old key signs an event now: after the first key event it
	// counts for nothing.
	late := storetest.NewID()
	publishLegacy(late, 1)
	if recs, _ := other.Load(ctx, storetest.AggType, late, 0); len(recs) != 0 {
		t.Error("an HMAC event after the first key event was obeyed")
	}
	// An auditor given the old key finds only that late one.
	rep, err := jsaudit.Verify(ctx, js, other, jsaudit.VerifyConfig{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ProblemsFound != 1 || rep.Problems[0].Kind != jsaudit.ProblemUnknownKey {
		t.Errorf("verify with the old key: %v", problemKinds(rep))
	}
}
