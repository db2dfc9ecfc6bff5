package eventstoredb_test

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/redlane/redlane/adapters/eventstoredb"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// targetContract is what the mirror relies on from a Target, run against the in-memory
// one here and against a real EventStoreDB in TestEventStoreDBContract.
func targetContract(t *testing.T, target eventstoredb.Target) {
	ctx := context.Background()
	stream := "redlane.contract-" + uuid.NewString()
	ev := func() esdb.EventData {
		return esdb.EventData{EventID: uuid.New(), EventType: "redlane.test.v1", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	}
	a, b, c := ev(), ev(), ev()
	if _, found, err := target.EventAt(ctx, stream, 0); err != nil || found {
		t.Fatalf("EventAt on a stream that does not exist: %v %v", found, err)
	}
	if err := target.Append(ctx, stream, esdb.NoStream{}, a); err != nil {
		t.Fatalf("first append: %v", err)
	}
	if err := target.Append(ctx, stream, esdb.NoStream{}, a); err != nil {
		t.Errorf("the same first append again must succeed and write nothing: %v", err)
	}
	if err := target.Append(ctx, stream, esdb.NoStream{}, b); !errors.Is(err, eventstoredb.ErrWrongExpectedVersion) {
		t.Errorf("another first event: %v, want ErrWrongExpectedVersion", err)
	}
	if err := target.Append(ctx, stream, esdb.Revision(0), b, c); err != nil {
		t.Fatalf("append at revision 0: %v", err)
	}
	if err := target.Append(ctx, stream, esdb.Revision(0), b, c); err != nil {
		t.Errorf("the same append again must succeed and write nothing: %v", err)
	}
	if err := target.Append(ctx, stream, esdb.Revision(5), ev()); !errors.Is(err, eventstoredb.ErrWrongExpectedVersion) {
		t.Errorf("append at a revision the stream is not at: %v", err)
	}
	for rev, want := range []esdb.EventData{a, b, c} {
		id, found, err := target.EventAt(ctx, stream, uint64(rev))
		if err != nil || !found || id != want.EventID {
			t.Errorf("EventAt(%d) = %s %v %v, want %s", rev, id, found, err, want.EventID)
		}
	}
	if _, found, err := target.EventAt(ctx, stream, 3); err != nil || found {
		t.Errorf("EventAt past the end: %v %v", found, err)
	}
}

func TestMemTargetKeepsTheContract(t *testing.T) { targetContract(t, newMemTarget()) }

// TestEventStoreDBContract runs against the server at ESDB_URL, e.g.
//
//	docker run -d -p 2113:2113 eventstore/eventstore:24.10 --insecure --run-projections=All
//	ESDB_URL='esdb://127.0.0.1:2113?tls=false' go test ./adapters/eventstoredb -run Contract
func TestEventStoreDBContract(t *testing.T) {
	url := os.Getenv("ESDB_URL")
	if url == "" {
		t.Skip("no EventStoreDB server reachable: set ESDB_URL to run the mirror contract test")
	}
	client, err := eventstoredb.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// ESDB_URL was set: a server that does not answer is a failure, not a skip.
	pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := client.EventAt(pctx, "redlane.contract-ping", 0); err != nil {
		t.Fatalf("ESDB_URL=%s is set but the server does not answer: %v", url, err)
	}

	t.Run("target", func(t *testing.T) { targetContract(t, client) })

	t.Run("mirror", func(t *testing.T) {
		h := newBareHistory(t)
		// Names of its own, so that runs against one server do not meet.
		suffix := uuid.NewString()[:8]
		ctx := context.Background()
		admin := h.svc.Meta(service.Admin, "")
		laneID, memberID := "lane-"+suffix, "m-"+suffix
		if _, err := h.svc.RegisterLane(ctx, admin, laneID, lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.RegisterMember(ctx, admin, memberID, member.Register{Name: "李明", Community: "taoyuan"}); err != nil {
			t.Fatal(err)
		}
		steward := domain.Actor{ID: "tok-" + suffix, Name: "王芳", Role: domain.RoleSteward, Lanes: []string{laneID}}
		for range 5 {
			snap, _, err := h.svc.Submit(ctx, h.svc.Meta(service.Resident, ""), service.SubmitRequest{LaneID: laneID, Submit: order.Submit{
				Category: "repair", Title: "楼道灯不亮了", Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.svc.Act(ctx, h.svc.Meta(steward, ""), snap.ID, order.Dispatch{Member: order.MemberRef{ID: memberID}}, 0); err != nil {
				t.Fatal(err)
			}
		}
		m, stop := run(t, h, client, "contract")
		waitMirrored(t, m, h.last(t))
		stop()
		// Everything again from the start: nothing may be written twice.
		kv, err := h.js.KeyValue(ctx, eventstoredb.CheckpointBucket)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, eventstoredb.CheckpointKey, []byte(`{"seq":0}`)); err != nil {
			t.Fatal(err)
		}
		m2, _ := run(t, h, client, "contract-2")
		waitMirrored(t, m2, h.last(t))
		assertMirrored(t, h, func(name string) []uuid.UUID {
			rs, err := raw.ReadStream(ctx, name, esdb.ReadStreamOptions{From: esdb.Start{}}, 1000)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			var out []uuid.UUID
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					return out
				}
				if err != nil {
					t.Fatalf("read %s: %v", name, err)
				}
				out = append(out, ev.OriginalEvent().EventID)
			}
		})
	})
}
