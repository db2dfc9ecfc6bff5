package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
	"github.com/redlane/redlane/domain"
)

// testStore is a store with the server it runs on, so that the harness can restart it.
type testStore struct {
	*Store
	srv *natsserver.Server
}

func open(tb testing.TB, nc *nats.Conn) *Store {
	tb.Helper()
	return openWith(tb, nc, Config{})
}

func openWith(tb testing.TB, nc *nats.Conn, cfg Config) *Store {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, js, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func newStore(tb testing.TB) *testStore {
	tb.Helper()
	srv, nc := natstest.Start(tb)
	return &testStore{Store: open(tb, nc), srv: srv}
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(tb testing.TB) domain.EventStore { return newStore(tb) },
		Reopen: func(tb testing.TB, s domain.EventStore) domain.EventStore {
			tb.Helper()
			ts := s.(*testStore)
			srv, nc := natstest.Restart(tb, ts.srv)
			return &testStore{Store: open(tb, nc), srv: srv}
		},
	})
}

// TestContractSigned runs the contract on a store as serve opens it: signing every
// append and obeying only what a trusted key signed.
func TestContractSigned(t *testing.T) {
	signer := GenerateSigner()
	cfg := func() Config { return Config{Signer: signer, Keys: NewKeyring(signer.PublicKey())} }
	storetest.Run(t, storetest.Harness{
		New: func(tb testing.TB) domain.EventStore {
			srv, nc := natstest.Start(tb)
			return &testStore{Store: openWith(tb, nc, cfg()), srv: srv}
		},
		Reopen: func(tb testing.TB, s domain.EventStore) domain.EventStore {
			tb.Helper()
			srv, nc := natstest.Restart(tb, s.(*testStore).srv)
			return &testStore{Store: openWith(tb, nc, cfg()), srv: srv}
		},
	})
}

func TestOpenKeepsStreamConfig(t *testing.T) {
	_, nc := natstest.Start(t)
	s := open(t, nc)
	open(t, nc) // opening again updates in place
	info, err := s.stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.Name != DefaultStream || len(c.Subjects) != 1 || c.Subjects[0] != DefaultPrefix+".>" ||
		c.Storage != jetstream.FileStorage || c.Retention != jetstream.LimitsPolicy || c.MaxAge != 0 ||
		c.Duplicates != 2*time.Minute || !c.AllowAtomicPublish || !c.AllowDirect || c.Replicas != 1 || !c.DenyDelete || !c.DenyPurge {
		t.Fatalf("stream config %+v", c)
	}
	if s.StreamName() != DefaultStream || s.Subject("order", "x1") != "redlane.events.order.x1" {
		t.Fatalf("names: %s %s", s.StreamName(), s.Subject("order", "x1"))
	}
	js, _ := jetstream.New(nc)
	if _, err := Open(context.Background(), js, Config{Prefix: "bad.*"}); err == nil {
		t.Fatal("open with a wildcard prefix succeeded")
	}
}

func TestWireFormat(t *testing.T) {
	_, nc := natstest.Start(t)
	s := open(t, nc)
	ctx := context.Background()
	id := storetest.NewID()
	envs := storetest.Seal(t, "order", id, 0, 2)
	seqs, err := s.Append(ctx, "order", id, 0, envs)
	if err != nil {
		t.Fatal(err)
	}
	for i, seq := range seqs {
		msg, err := s.stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(envs[i])
		if string(msg.Data) != string(want) {
			t.Errorf("body %s, want the envelope JSON %s", msg.Data, want)
		}
		if msg.Subject != "redlane.events.order."+id {
			t.Errorf("subject %s", msg.Subject)
		}
		h := msg.Header
		if h.Get("Nats-Msg-Id") != envs[i].ID || h.Get(HeaderType) != envs[i].Type ||
			h.Get(HeaderVersion) != strconv.Itoa(i+1) {
			t.Errorf("headers %v", h)
		}
		// The server keeps the batch headers on stored messages.
		if h.Get("Nats-Batch-Id") == "" || h.Get("Nats-Batch-Sequence") != strconv.Itoa(i+1) {
			t.Errorf("batch headers %v", h)
		}
	}
}

func TestReadAllAndCounts(t *testing.T) {
	_, nc := natstest.Start(t)
	s := open(t, nc)
	ctx := context.Background()
	if n, err := s.LastSeq(ctx); err != nil || n != 0 {
		t.Fatalf("empty LastSeq %d %v", n, err)
	}
	var ids []string
	for range 10 {
		id := storetest.NewID()
		if _, err := s.Append(ctx, "order", id, 0, storetest.Seal(t, "order", id, 0, 3)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	last, err := s.LastSeq(ctx)
	if err != nil || last != 30 {
		t.Fatalf("LastSeq %d %v, want 30", last, err)
	}
	if n, err := s.MessageCount(ctx); err != nil || n != 30 {
		t.Fatalf("MessageCount %d %v, want 30", n, err)
	}
	var got []uint64
	err = s.ReadAll(ctx, 5, func(r domain.Recorded) error {
		got = append(got, r.Seq)
		if r.AggregateID != ids[(r.Seq-1)/3] || r.Version != (r.Seq-1)%3+1 {
			t.Errorf("at %d: %s v%d", r.Seq, r.AggregateID, r.Version)
		}
		return nil
	})
	if err != nil || len(got) != 26 || got[0] != 5 || got[25] != 30 {
		t.Fatalf("ReadAll from 5: %v %v", got, err)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.ReadAll(ctx, 0, func(domain.Recorded) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("ReadAll stopping: %v after %d", err, n)
	}
	if err := s.ReadAll(ctx, 31, func(domain.Recorded) error { t.Fatal("called past the end"); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestServerBehaviour pins what the store relies on from nats-server, so an upgrade
// that changes it fails here rather than in production.
func TestServerBehaviour(t *testing.T) {
	_, nc := natstest.Start(t)
	s := open(t, nc)
	ctx := context.Background()
	js := s.js
	subj := s.Subject("probe", "a")
	code := func(err error) jetstream.ErrorCode {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			return apiErr.ErrorCode
		}
		return 0
	}

	// Expected 0 on a subject without messages passes, and then fails.
	ack, err := js.Publish(ctx, subj, []byte("{}"), jetstream.WithMsgID("m1"), jetstream.WithExpectLastSequencePerSubject(0))
	if err != nil {
		t.Fatalf("expected 0 on an empty subject: %v", err)
	}
	first := ack.Sequence
	_, err = js.Publish(ctx, subj, []byte("{}"), jetstream.WithMsgID("m2"), jetstream.WithExpectLastSequencePerSubject(0))
	if code(err) != errCodeWrongLastSeq {
		t.Fatalf("expected 0 on a subject with messages: %v, want error 10071", err)
	}

	// A single publish checks the expected position before deduplication: a retry with a
	// stale position fails instead of reporting the duplicate ...
	if _, err := js.Publish(ctx, subj, []byte("{}"), jetstream.WithMsgID("m3"), jetstream.WithExpectLastSequencePerSubject(first)); err != nil {
		t.Fatal(err)
	}
	_, err = js.Publish(ctx, subj, []byte("{}"), jetstream.WithMsgID("m1"), jetstream.WithExpectLastSequencePerSubject(0))
	if code(err) != errCodeWrongLastSeq {
		t.Fatalf("stale retry of a stored id: %v, want error 10071", err)
	}
	// ... while with the right position it reports the duplicate.
	info, _ := s.stream.Info(ctx)
	ack, err = js.Publish(ctx, subj, []byte("{}"), jetstream.WithMsgID("m1"), jetstream.WithExpectLastSequencePerSubject(info.State.LastSeq))
	if err != nil || !ack.Duplicate || ack.Sequence != first {
		t.Fatalf("retry of a stored id at the right position: %+v %v, want duplicate at %d", ack, err, first)
	}

	// An atomic batch checks message by message, each one's id before its position: a
	// batch whose first id is stored fails with its own error whatever the expected
	// position; a stored id further on fails so only if the position holds.
	batch := func(expected uint64, ids ...string) (*jetstreamext.BatchAck, error) {
		msgs := make([]*nats.Msg, len(ids))
		for i, id := range ids {
			msgs[i] = &nats.Msg{Subject: subj, Data: []byte("{}"), Header: nats.Header{jetstream.MsgIDHeader: {id}}}
		}
		msgs[0].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expected, 10))
		return jetstreamext.PublishMsgBatch(ctx, js, msgs, jetstreamext.BatchFlowControl{AckFirst: false})
	}
	info, _ = s.stream.Info(ctx)
	before := info.State.Msgs
	if _, err := batch(0, "m1", "m4"); code(err) != errCodeBatchDuplicate {
		t.Fatalf("batch starting with a stored id at a stale position: %v, want error 10201", err)
	}
	if _, err := batch(0, "m4", "m1"); code(err) != errCodeWrongLastSeq {
		t.Fatalf("batch with a later stored id at a stale position: %v, want error 10071", err)
	}
	if _, err := batch(info.State.LastSeq, "m5", "m1"); code(err) != errCodeBatchDuplicate {
		t.Fatalf("batch with a stored id at the right position: %v, want error 10201", err)
	}
	if _, err := batch(0, "m6", "m7"); code(err) != errCodeWrongLastSeq {
		t.Fatalf("batch at a stale position: %v, want error 10071", err)
	}
	info, _ = s.stream.Info(ctx)
	if info.State.Msgs != before {
		t.Fatalf("refused batches stored %d messages", info.State.Msgs-before)
	}
	ba, err := batch(info.State.LastSeq, "m8", "m9", "m10")
	if err != nil || ba.BatchSize != 3 || ba.Sequence != info.State.LastSeq+3 {
		t.Fatalf("batch: %+v %v", ba, err)
	}
}
