package jetstream

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
	"github.com/redlane/redlane/domain"
)

func batchOf(n int) []*nats.Msg {
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		m := nats.NewMsg("redlane.events.order.o" + strconv.Itoa(i))
		m.Data = []byte(`{"n":` + strconv.Itoa(i) + `}`)
		m.Header.Set(jetstream.MsgIDHeader, "id-"+strconv.Itoa(i))
		msgs[i] = m
	}
	return msgs
}

func cloneHeader(h nats.Header) nats.Header {
	out := nats.Header{}
	for k, v := range h {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func checkMsg(k *Keyring, m *nats.Msg) error {
	return k.CheckEvent(m.Header, m.Subject, m.Header.Get(jetstream.MsgIDHeader), m.Data)
}

// Every event of a batch checks under the batch's one signature, whatever the batch's
// size (odd sizes carry nodes up unpaired), and nothing about it can be changed.
func TestBatchSignatureHoldsForEveryEventAndNothingElse(t *testing.T) {
	signer := GenerateSigner()
	keys := NewKeyring(signer.PublicKey())
	for _, n := range []int{1, 2, 3, 5, 8, 13, 64, 127, 999} {
		msgs := batchOf(n)
		signer.signBatch(msgs)
		for i, m := range msgs {
			if err := checkMsg(keys, m); err != nil {
				t.Fatalf("batch of %d, event %d: %v", n, i, err)
			}
		}
		if n < 2 {
			continue
		}
		// A changed body, a proof moved to another event, a changed index or count.
		changed := *msgs[n-1]
		changed.Data = []byte(`{"n":"forged"}`)
		moved := nats.NewMsg(msgs[0].Subject)
		moved.Data, moved.Header = msgs[0].Data, cloneHeader(msgs[0].Header)
		moved.Header.Set(HeaderProof, msgs[1].Header.Get(HeaderProof))
		renumbered := nats.NewMsg(msgs[0].Subject)
		renumbered.Data, renumbered.Header = msgs[0].Data, cloneHeader(msgs[0].Header)
		renumbered.Header.Set(HeaderProof, "1 "+msgs[0].Header.Get(HeaderProof)[2:])
		recounted := nats.NewMsg(msgs[0].Subject)
		recounted.Data, recounted.Header = msgs[0].Data, cloneHeader(msgs[0].Header)
		recounted.Header.Set(HeaderProof, "0 1000000 x")
		for name, m := range map[string]*nats.Msg{"changed body": &changed, "moved proof": moved, "renumbered": renumbered, "recounted": recounted} {
			if err := checkMsg(keys, m); !errors.Is(err, ErrBadSignature) {
				t.Errorf("batch of %d, %s: %v, want a bad signature", n, name, err)
			}
		}
	}
	// Another key's batch is not obeyed.
	msgs := batchOf(4)
	GenerateSigner().signBatch(msgs)
	if err := checkMsg(keys, msgs[2]); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a batch signed by an unknown key: %v", err)
	}
	// A proof is no way to sign a seal.
	seal := batchOf(2)
	signer.signBatch(seal)
	if err := keys.CheckSeal(seal[0].Header, seal[0].Data); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a seal carrying an event batch's signature: %v", err)
	}
}

// Group commit on a store that signs, as serve runs it: the events that went in atomic
// batches carry a proof and one signature per batch, and a store that trusts only the
// writer's key obeys every one of them.
func TestGroupCommitSignsEachBatchOnce(t *testing.T) {
	signer := GenerateSigner()
	srv, nc := natstest.Start(t)
	ts := &testStore{Store: openWith(t, nc, Config{Signer: signer, Keys: NewKeyring(signer.PublicKey())}), srv: srv}
	g := NewGroupStore(ts.Store, GroupConfig{MinBatch: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const writers, rounds = 16, 6
	ids := make([]string, writers)
	var wg sync.WaitGroup
	for w := range writers {
		ids[w] = storetest.NewID()
		wg.Go(func() {
			var last uint64
			for r := range rounds {
				seqs, err := g.Append(ctx, storetest.AggType, ids[w], last, storetest.Seal(t, storetest.AggType, ids[w], uint64(r), 1))
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				last = seqs[0]
			}
		})
	}
	wg.Wait()
	if st := g.Stats(); st.Batches == 0 {
		t.Fatalf("%+v: no batch to look at", st)
	}
	reader := openWith(t, natstest.Connect(t, srv), Config{Keys: NewKeyring(signer.PublicKey())})
	proofs, sigs := 0, map[string]bool{}
	err := reader.ReadAll(ctx, 1, func(rec domain.Recorded) error {
		if rec.Rejected != "" {
			t.Errorf("event %d set aside: %s", rec.Seq, rec.Rejected)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	last, err := reader.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= last.State.LastSeq; seq++ {
		m, err := reader.stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(HeaderProof) != "" {
			proofs++
			sigs[m.Header.Get(HeaderSignature)] = true
		}
	}
	if proofs == 0 || len(sigs) >= proofs {
		t.Fatalf("%d events with a proof under %d signatures: batches were not signed once each", proofs, len(sigs))
	}
	for _, id := range ids {
		recs, err := reader.Load(ctx, storetest.AggType, id, 0)
		if err != nil || len(recs) != rounds {
			t.Fatalf("load %s: %d events, %v", id, len(recs), err)
		}
	}
}

// A period's carry keeps what makes a batch-signed event check: its proof.
func TestCarryKeepsBatchProofs(t *testing.T) {
	signer := GenerateSigner()
	cfg := Config{Signer: signer, Keys: NewKeyring(signer.PublicKey())}
	srv, nc := natstest.Start(t)
	old := openWith(t, nc, cfg)
	g := NewGroupStore(old, GroupConfig{MinBatch: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 12 {
		id := storetest.NewID()
		wg.Go(func() {
			if _, err := g.Append(ctx, storetest.AggType, id, 0, storetest.Seal(t, storetest.AggType, id, 0, 1)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if g.Stats().Batches == 0 {
		t.Fatal("no batch to carry")
	}
	if err := old.EndPeriod(ctx); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(natstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	next, err := StartPeriod(ctx, js, cfg, "REDLANE_NEXT", old.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	if _, copied, err := next.Carry(ctx, old, func(string) bool { return true }, nil); err != nil || copied == 0 {
		t.Fatalf("carry: %d copied, %v", copied, err)
	}
	reader := openWith(t, natstest.Connect(t, srv), Config{Stream: "REDLANE_NEXT", Keys: NewKeyring(signer.PublicKey())})
	n := 0
	if err := reader.ReadAll(ctx, 1, func(rec domain.Recorded) error {
		if rec.Rejected != "" {
			t.Errorf("copy at %d set aside: %s", rec.Seq, rec.Rejected)
		} else if rec.AggregateType == storetest.AggType {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Fatalf("%d of the 12 events carried are obeyed", n)
	}
}
