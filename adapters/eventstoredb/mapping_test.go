package eventstoredb_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/redlane/redlane/adapters/eventstoredb"
	"github.com/redlane/redlane/domain"
)

func envelope(tb testing.TB, id string, version uint64) []byte {
	tb.Helper()
	env := domain.Envelope{
		SpecVersion: "1.0", ID: id, Type: "redlane.order.dispatched.v1", Source: "redlane",
		Subject: "order/0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10", Time: time.Date(2026, 11, 27, 2, 15, 4, 0, time.UTC),
		DataContentType: "application/json", Actor: "tok-1", ActorName: "王芳", Role: domain.RoleSteward,
		AggregateType: "order", AggregateID: "0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10", Version: version,
		CorrelationID: "corr-1", CausationID: "cause-1", Data: json.RawMessage(`{"member":"m-001"}`),
	}
	b, err := json.Marshal(env)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestStreamName(t *testing.T) {
	for _, c := range []struct{ typ, id, want string }{
		{"order", "0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10", "redlane.order-0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10"},
		{"lane", "rouqiao-houxiang", "redlane.lane-rouqiao-houxiang"},
		{"member", "m-001", "redlane.member-m-001"},
		{"token", "abc_1", "redlane.token-abc_1"},
	} {
		if got := eventstoredb.StreamName(c.typ, c.id); got != c.want {
			t.Errorf("StreamName(%q, %q) = %q, want %q", c.typ, c.id, got, c.want)
		}
	}
}

func TestExpectedRevision(t *testing.T) {
	if _, ok := eventstoredb.ExpectedRevision(1).(esdb.NoStream); !ok {
		t.Errorf("version 1 expects %#v, want NoStream", eventstoredb.ExpectedRevision(1))
	}
	for v, want := range map[uint64]uint64{2: 0, 3: 1, 10: 8} {
		r, ok := eventstoredb.ExpectedRevision(v).(esdb.StreamRevision)
		if !ok || r.Value != want {
			t.Errorf("version %d expects %#v, want revision %d", v, eventstoredb.ExpectedRevision(v), want)
		}
	}
}

func TestEventID(t *testing.T) {
	id := "0193a5c2-7f1e-7c3a-9a51-2b4f0d3c9e11"
	if got := eventstoredb.EventID(id); got.String() != id {
		t.Errorf("EventID(%s) = %s: a UUID must map to itself", id, got)
	}
	other := eventstoredb.EventID("not-a-uuid")
	if other != eventstoredb.EventID("not-a-uuid") || other == (uuid.UUID{}) || other == eventstoredb.EventID("not-a-uuid-2") {
		t.Errorf("a non-UUID id must map to one stable UUID of its own: %s", other)
	}
	// Braced or URN forms parse as UUIDs too, but are not what Redlane writes: they are
	// kept apart from the plain form.
	if eventstoredb.EventID("urn:uuid:"+id).String() == id {
		t.Error("a URN id mapped onto the plain id")
	}
}

func TestMap(t *testing.T) {
	id := "0193a5c2-7f1e-7c3a-9a51-2b4f0d3c9e11"
	body := envelope(t, id, 3)
	h := nats.Header{}
	h.Set("Nats-Msg-Id", id)
	h.Set("Redlane-Signature", "ab12")
	h.Set("Redlane-Key", "3f2a9c1e")
	m, err := eventstoredb.Map("REDLANE", 42, "redlane.events.order.0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10", h, body)
	if err != nil {
		t.Fatal(err)
	}
	if m.Stream != "redlane.order-0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10" || m.Version != 3 || m.Revision() != 2 {
		t.Errorf("mapped to %s version %d revision %d", m.Stream, m.Version, m.Revision())
	}
	if r, ok := m.Expected.(esdb.StreamRevision); !ok || r.Value != 1 {
		t.Errorf("expected revision %#v, want 1", m.Expected)
	}
	e := m.Event
	if e.EventID.String() != id || e.EventType != "redlane.order.dispatched.v1" || e.ContentType != esdb.ContentTypeJson {
		t.Errorf("event = %s %s %v", e.EventID, e.EventType, e.ContentType)
	}
	if !bytes.Equal(e.Data, body) {
		t.Errorf("data is not the stored body byte for byte:\n%s\n%s", e.Data, body)
	}
	var meta map[string]any
	if err := json.Unmarshal(e.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"$correlationId": "corr-1", "$causationId": "cause-1", "natsStream": "REDLANE", "natsSeq": 42.0,
		"natsSubject": "redlane.events.order.0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10", "signature": "ab12", "signatureKey": "3f2a9c1e"}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("metadata %s = %v, want %v", k, meta[k], v)
		}
	}
	if len(meta) != len(want) {
		t.Errorf("metadata = %v", meta)
	}

	first, err := eventstoredb.Map("REDLANE", 1, "redlane.events.order.x", nats.Header{}, envelope(t, id, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := first.Expected.(esdb.NoStream); !ok || first.Revision() != 0 {
		t.Errorf("the first event expects %#v at revision %d", first.Expected, first.Revision())
	}
	var meta1 map[string]any
	_ = json.Unmarshal(first.Event.Metadata, &meta1)
	if _, ok := meta1["signature"]; ok {
		t.Errorf("an unsigned event's metadata names a signature: %v", meta1)
	}
}

func TestMapRefusesWhatIsNotAnEvent(t *testing.T) {
	for _, body := range [][]byte{[]byte("junk"), []byte(`{"specversion":"1.0","id":"x","type":"t","aggregatetype":"order","aggregateid":"o"}`)} {
		_, err := eventstoredb.Map("REDLANE", 7, "redlane.events.order.o", nats.Header{}, body)
		if !errors.Is(err, eventstoredb.ErrUnreadable) {
			t.Errorf("Map(%s) = %v, want ErrUnreadable", body, err)
		}
	}
}

func TestQuarantine(t *testing.T) {
	id := "0193a5c2-7f1e-7c3a-9a51-2b4f0d3c9e11"
	q := eventstoredb.Quarantine("REDLANE", 9, "redlane.events.order.o", nats.Header{}, envelope(t, id, 2), "taken")
	if q.EventID.String() == id || q.EventID != eventstoredb.Quarantine("REDLANE", 9, "s", nil, nil, "other").EventID {
		t.Errorf("a quarantined event's id must come from its position, not its own id: %s", q.EventID)
	}
	if q.EventType != "redlane.order.dispatched.v1" || q.ContentType != esdb.ContentTypeJson {
		t.Errorf("quarantined readable event: %s %v", q.EventType, q.ContentType)
	}
	junk := eventstoredb.Quarantine("REDLANE", 10, "redlane.events.order.o", nats.Header{}, []byte("junk"), "unreadable")
	if junk.EventType != "redlane.unreadable" || junk.ContentType != esdb.ContentTypeBinary || string(junk.Data) != "junk" {
		t.Errorf("quarantined junk: %+v", junk)
	}
	var meta map[string]any
	_ = json.Unmarshal(junk.Metadata, &meta)
	if meta["quarantine"] != "unreadable" || meta["natsSeq"] != 10.0 {
		t.Errorf("metadata %v", meta)
	}
}
