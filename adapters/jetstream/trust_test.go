package jetstream_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

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
	rep, err := jsstore.Verify(ctx, w.js, w.rootStore, jsstore.VerifyConfig{Keys: jsstore.NewKeyring(root)})
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
		wd, _ := jsstore.NewWatchdog(s, nil, nil)
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
		sealer, err := jsstore.NewSealer(ctx, js, s, jsstore.SealerConfig{Signer: signer, Owner: "test"})
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
		wd, _ := jsstore.NewWatchdog(s2, nil, nil)
		g, err := wd.Check(ctx)
		if err != nil || g.Missing == 0 {
			info, _ := js2.Stream(ctx, s2.StreamName())
			t.Fatalf("the server dropped damaged events and the watchdog saw nothing: %+v %v (stream now %+v)", g, err, info.CachedInfo().State)
		}
		t.Logf("found: %s", g.Detail)
	})
}
