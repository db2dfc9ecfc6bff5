package domain_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
)

// Events of a made-up aggregate, so that the envelope is tested apart from any real one.
type pinged struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

func (pinged) EventType() string { return "redlane.test.pinged.v1" }

type ponged struct {
	At time.Time `json:"at"`
}

func (ponged) EventType() string { return "redlane.test.ponged.v1" }

// unsealable cannot be encoded as JSON.
type unsealable struct{ C chan int }

func (unsealable) EventType() string { return "redlane.test.unsealable.v1" }

var (
	t0       = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	shanghai = time.FixedZone("CST", 8*60*60)
	steward  = domain.Actor{ID: "tok-1", Name: "王管家", Role: domain.RoleSteward, Lanes: []string{"l1"}}
)

func testRegistry(tb testing.TB) *domain.Registry {
	tb.Helper()
	r := domain.NewRegistry()
	r.Register(domain.Def[pinged](), domain.Def[ponged]())
	return r
}

func TestSeal(t *testing.T) {
	meta := domain.Meta{Actor: steward, Time: t0.In(shanghai), CorrelationID: "corr-1", CausationID: "cause-0"}
	tests := []struct {
		name    string
		version uint64
		events  []domain.Event
		ids     []string
		meta    domain.Meta
		want    []domain.Envelope
		wantErr string
	}{
		{
			name: "seals nothing to nothing", events: nil, ids: nil, meta: meta, want: []domain.Envelope{},
		},
		{
			name: "first event of a new aggregate is version 1", version: 0,
			events: []domain.Event{pinged{N: 1, Text: "你好"}}, ids: []string{"e1"}, meta: meta,
			want: []domain.Envelope{{
				SpecVersion: "1.0", ID: "e1", Type: "redlane.test.pinged.v1", Source: "urn:redlane",
				Subject: "test/a1", Time: t0, DataContentType: "application/json",
				Actor: "tok-1", ActorName: "王管家", Role: domain.RoleSteward,
				AggregateType: "test", AggregateID: "a1", Version: 1,
				CorrelationID: "corr-1", CausationID: "cause-0",
				Data: json.RawMessage(`{"n":1,"text":"你好"}`),
			}},
		},
		{
			name: "later events number on and chain their causation", version: 4,
			events: []domain.Event{pinged{N: 1}, ponged{At: t0}, pinged{N: 3}}, ids: []string{"e1", "e2", "e3"},
			meta: domain.Meta{Actor: domain.Actor{ID: "system", Role: domain.RoleSystem}, Time: t0, CorrelationID: "corr-9"},
			want: []domain.Envelope{
				{SpecVersion: "1.0", ID: "e1", Type: "redlane.test.pinged.v1", Source: "urn:redlane", Subject: "test/a1", Time: t0,
					DataContentType: "application/json", Actor: "system", Role: domain.RoleSystem, AggregateType: "test",
					AggregateID: "a1", Version: 5, CorrelationID: "corr-9", CausationID: "", Data: json.RawMessage(`{"n":1,"text":""}`)},
				{SpecVersion: "1.0", ID: "e2", Type: "redlane.test.ponged.v1", Source: "urn:redlane", Subject: "test/a1", Time: t0,
					DataContentType: "application/json", Actor: "system", Role: domain.RoleSystem, AggregateType: "test",
					AggregateID: "a1", Version: 6, CorrelationID: "corr-9", CausationID: "e1", Data: json.RawMessage(`{"at":"2025-03-01T09:00:00Z"}`)},
				{SpecVersion: "1.0", ID: "e3", Type: "redlane.test.pinged.v1", Source: "urn:redlane", Subject: "test/a1", Time: t0,
					DataContentType: "application/json", Actor: "system", Role: domain.RoleSystem, AggregateType: "test",
					AggregateID: "a1", Version: 7, CorrelationID: "corr-9", CausationID: "e2", Data: json.RawMessage(`{"n":3,"text":""}`)},
			},
		},
		{
			name: "refuses fewer ids than events", events: []domain.Event{pinged{}, pinged{}}, ids: []string{"e1"}, meta: meta,
			wantErr: "2 events but 1 ids",
		},
		{
			name: "refuses more ids than events", events: []domain.Event{pinged{}}, ids: []string{"e1", "e2"}, meta: meta,
			wantErr: "1 events but 2 ids",
		},
		{
			name: "reports an event that cannot be encoded", events: []domain.Event{unsealable{}}, ids: []string{"e1"}, meta: meta,
			wantErr: "seal test/a1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.Seal("test", "a1", tt.version, tt.events, tt.ids, tt.meta)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Seal error = %v, want one containing %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Seal returned %d envelopes with its error", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Seal =\n%+v\nwant\n%+v", got, tt.want)
			}
			for _, env := range got {
				if env.Time.Location() != time.UTC {
					t.Errorf("envelope %s time is in %v, want UTC", env.ID, env.Time.Location())
				}
			}
		})
	}
}

// TestEnvelopeWireNames pins the JSON attribute names: they are the public contract that
// auditors and reporting jobs read.
func TestEnvelopeWireNames(t *testing.T) {
	tests := []struct {
		name  string
		actor domain.Actor
		want  []string
	}{
		{
			name:  "every attribute of a named actor",
			actor: steward,
			want: []string{"actor", "actorname", "aggregateid", "aggregatetype", "aggregateversion", "causationid",
				"correlationid", "data", "datacontenttype", "id", "role", "source", "specversion", "subject", "time", "type"},
		},
		{
			name:  "actorname is left out when empty",
			actor: domain.Actor{ID: "resident", Role: domain.RoleResident},
			want: []string{"actor", "aggregateid", "aggregatetype", "aggregateversion", "causationid",
				"correlationid", "data", "datacontenttype", "id", "role", "source", "specversion", "subject", "time", "type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			envs, err := domain.Seal("test", "a1", 0, []domain.Event{pinged{N: 1}}, []string{"e1"}, domain.Meta{Actor: tt.actor, Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, tt.want) {
				t.Errorf("attributes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSealRoundTrip(t *testing.T) {
	reg := testRegistry(t)
	tests := []struct {
		name  string
		event domain.Event
	}{
		{"pinged with Chinese text", pinged{N: 42, Text: "柔桥后巷驿站：水管漏水 <急>"}},
		{"ponged with a time", ponged{At: t0.Add(90 * time.Minute)}},
		{"pinged with zero values", pinged{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			envs, err := domain.Seal("test", "a1", 2, []domain.Event{tt.event}, []string{"e3"},
				domain.Meta{Actor: steward, Time: t0, CorrelationID: "c", CausationID: "d"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			env, err := domain.DecodeEnvelope(b)
			if err != nil {
				t.Fatalf("DecodeEnvelope(%s): %v", b, err)
			}
			if !reflect.DeepEqual(env, envs[0]) {
				t.Errorf("decoded envelope =\n%+v\nwant\n%+v", env, envs[0])
			}
			ev, err := reg.Decode(env)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(ev, tt.event) {
				t.Errorf("decoded event = %#v, want %#v", ev, tt.event)
			}
		})
	}
}

// envelopeJSON is a valid stored envelope with the given attributes replaced, or removed
// when their value is nil.
func envelopeJSON(tb testing.TB, change map[string]any) []byte {
	tb.Helper()
	m := map[string]any{
		"specversion": "1.0", "id": "e1", "type": "redlane.test.pinged.v1", "source": "redlane",
		"subject": "test/a1", "time": "2025-03-01T09:00:00Z", "datacontenttype": "application/json",
		"actor": "tok-1", "actorname": "王管家", "role": "steward", "aggregatetype": "test", "aggregateid": "a1",
		"aggregateversion": 1, "correlationid": "corr-1", "causationid": "cause-0",
		"data": map[string]any{"n": 1, "text": "你好"},
	}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDecodeEnvelope(t *testing.T) {
	valid := domain.Envelope{
		SpecVersion: "1.0", ID: "e1", Type: "redlane.test.pinged.v1", Source: "redlane", Subject: "test/a1",
		Time: t0, DataContentType: "application/json", Actor: "tok-1", ActorName: "王管家", Role: domain.RoleSteward,
		AggregateType: "test", AggregateID: "a1", Version: 1, CorrelationID: "corr-1", CausationID: "cause-0",
		Data: json.RawMessage(`{"n":1,"text":"你好"}`),
	}
	withVersion := valid
	withVersion.Version = 1 << 60
	tests := []struct {
		name    string
		in      []byte
		want    domain.Envelope
		wantErr string
	}{
		{name: "decodes a valid envelope", in: envelopeJSON(t, nil), want: valid},
		{name: "ignores attributes it does not know", in: envelopeJSON(t, map[string]any{"traceparent": "00-abc"}), want: valid},
		{name: "decodes a large version", in: envelopeJSON(t, map[string]any{"aggregateversion": uint64(1 << 60)}), want: withVersion},
		{name: "refuses what is not JSON", in: []byte(`specversion=1.0`), wantErr: "decode envelope"},
		{name: "refuses empty input", in: []byte(``), wantErr: "decode envelope"},
		{name: "refuses a JSON array", in: []byte(`[]`), wantErr: "decode envelope"},
		{name: "refuses null", in: []byte(`null`), wantErr: "specversion"},
		{name: "refuses another specversion", in: envelopeJSON(t, map[string]any{"specversion": "0.3"}), wantErr: `specversion "0.3"`},
		{name: "refuses a missing specversion", in: envelopeJSON(t, map[string]any{"specversion": nil}), wantErr: "specversion"},
		{name: "refuses a missing id", in: envelopeJSON(t, map[string]any{"id": nil}), wantErr: "missing id"},
		{name: "refuses an empty type", in: envelopeJSON(t, map[string]any{"type": ""}), wantErr: "missing type"},
		{name: "refuses a missing aggregate type", in: envelopeJSON(t, map[string]any{"aggregatetype": nil}), wantErr: "missing aggregate"},
		{name: "refuses a missing aggregate id", in: envelopeJSON(t, map[string]any{"aggregateid": ""}), wantErr: "missing aggregate"},
		{name: "refuses version 0", in: envelopeJSON(t, map[string]any{"aggregateversion": 0}), wantErr: "at least 1"},
		{name: "refuses a missing version", in: envelopeJSON(t, map[string]any{"aggregateversion": nil}), wantErr: "at least 1"},
		{name: "refuses a negative version", in: envelopeJSON(t, map[string]any{"aggregateversion": -1}), wantErr: "decode envelope"},
		{name: "refuses a version as a string", in: envelopeJSON(t, map[string]any{"aggregateversion": "1"}), wantErr: "decode envelope"},
		{name: "refuses a time that is not RFC 3339", in: envelopeJSON(t, map[string]any{"time": "1 March 2025"}), wantErr: "decode envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.DecodeEnvelope(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DecodeEnvelope error = %v, want one containing %q", err, tt.wantErr)
				}
				if !reflect.DeepEqual(got, domain.Envelope{}) {
					t.Errorf("DecodeEnvelope returned %+v with its error, want the zero envelope", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeEnvelope: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeEnvelope =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestRegistryDecode(t *testing.T) {
	reg := testRegistry(t)
	env := func(typ, data string) domain.Envelope {
		return domain.Envelope{ID: "e1", Type: typ, Data: json.RawMessage(data)}
	}
	tests := []struct {
		name    string
		env     domain.Envelope
		want    domain.Event
		wantErr string
	}{
		{name: "decodes to the type that wrote it", env: env("redlane.test.pinged.v1", `{"n":7,"text":"修"}`), want: pinged{N: 7, Text: "修"}},
		{name: "decodes another type", env: env("redlane.test.ponged.v1", `{"at":"2025-03-01T09:00:00Z"}`), want: ponged{At: t0}},
		{name: "ignores unknown fields", env: env("redlane.test.pinged.v1", `{"n":7,"later":true}`), want: pinged{N: 7}},
		{name: "refuses an unknown type", env: env("redlane.test.pinged.v2", `{}`), wantErr: `unknown type "redlane.test.pinged.v2"`},
		{name: "refuses data of the wrong shape", env: env("redlane.test.pinged.v1", `{"n":"seven"}`), wantErr: "decode event e1 (redlane.test.pinged.v1)"},
		{name: "refuses data that is not JSON", env: env("redlane.test.pinged.v1", `{`), wantErr: "decode event e1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reg.Decode(tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode error = %v, want one containing %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Decode returned %#v with its error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestRegistryTypes(t *testing.T) {
	tests := []struct {
		name string
		defs []domain.TypeDef
		want []string
	}{
		{"empty registry has no types", nil, []string{}},
		{"lists what was registered", []domain.TypeDef{domain.Def[ponged](), domain.Def[pinged]()}, []string{"redlane.test.pinged.v1", "redlane.test.ponged.v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := domain.NewRegistry()
			r.Register(tt.defs...)
			got := r.Types()
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Types() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRegistryRegisterTwicePanics(t *testing.T) {
	tests := []struct {
		name string
		defs [][]domain.TypeDef
	}{
		{"in one call", [][]domain.TypeDef{{domain.Def[pinged](), domain.Def[pinged]()}}},
		{"in two calls", [][]domain.TypeDef{{domain.Def[pinged]()}, {domain.Def[ponged](), domain.Def[pinged]()}}},
	}
	for _, tt := range tests {
		t.Run("panics "+tt.name, func(t *testing.T) {
			r := domain.NewRegistry()
			defer func() {
				p := recover()
				if p == nil {
					t.Fatal("Register did not panic")
				}
				if s, _ := p.(string); !strings.Contains(s, "redlane.test.pinged.v1") {
					t.Errorf("panic = %v, want it to name the type", p)
				}
			}()
			for _, defs := range tt.defs {
				r.Register(defs...)
			}
		})
	}
}
