package jetstream

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain"
)

// Earlier finds an aggregate left in an earlier period, keeps the chain it read (a miss
// costs no stream info), and passes over a period removed from the server.
func TestEarlierPeriods(t *testing.T) {
	_, nc := natstest.Start(t)
	ctx := context.Background()
	old := open(t, nc)
	put := func(s *Store, id string) {
		t.Helper()
		if _, err := s.Append(ctx, "order", id, 0, []domain.Envelope{{SpecVersion: "1.0", ID: uuid.NewString(), Type: "redlane.order.noted.v1",
			Source: "redlane", Subject: "order/" + id, Time: time.Now().UTC(), AggregateType: "order", AggregateID: id, Version: 1,
			Data: json.RawMessage(`{"text":"x"}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	put(old, "left")
	put(old, "live")
	// A roll by hand: only "live" carried.
	if err := old.EndPeriod(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := StartPeriod(ctx, old.js, Config{}, "NEXT", old.name)
	if err != nil {
		t.Fatal(err)
	}
	last, _, err := next.Carry(ctx, old, func(subj string) bool { return strings.HasSuffix(subj, ".live") }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.FinishCarry(ctx, last); err != nil {
		t.Fatal(err)
	}

	e := next.Earlier()
	recs, stream, err := e.Load(ctx, "order", "left")
	if err != nil || len(recs) != 1 || stream != DefaultStream || recs[0].AggregateID != "left" {
		t.Fatalf("the order left behind: %d events in %q (%v)", len(recs), stream, err)
	}
	if h, err := e.History(ctx, "order", "left"); err != nil || len(h) != 1 || h[0].Seq != recs[0].Seq {
		t.Fatalf("its history: %+v (%v)", h, err)
	}

	// Misses ask no stream info once the chain is read.
	var infos atomic.Int64
	sub, err := nc.Subscribe("$JS.API.STREAM.INFO.>", func(*nats.Msg) { infos.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = nc.Flush()
	for range 20 {
		if recs, _, err := e.Load(ctx, "order", uuid.NewString()); err != nil || len(recs) != 0 {
			t.Fatalf("an unknown order: %d events (%v)", len(recs), err)
		}
	}
	_ = nc.Flush()
	if n := infos.Load(); n != 0 {
		t.Errorf("20 misses asked for stream info %d times", n)
	}

	// Archived: passed over, no error.
	if err := old.js.DeleteStream(ctx, DefaultStream); err != nil {
		t.Fatal(err)
	}
	if recs, _, err := e.Load(ctx, "order", "left"); err != nil || len(recs) != 0 {
		t.Errorf("the order with its period archived: %d events (%v)", len(recs), err)
	}
	if recs, _, err := next.Earlier().Load(ctx, "order", "left"); err != nil || len(recs) != 0 {
		t.Errorf("a new reader with the period archived: %d events (%v)", len(recs), err)
	}
}
