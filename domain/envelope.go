package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// SpecVersion is the CloudEvents version the envelope follows.
const SpecVersion = "1.0"

// Source is the CloudEvents source of every event Redlane writes: a URI, as CloudEvents
// asks. Events written before it was one say "redlane"; nothing reads it to decide.
const Source = "urn:redlane"

// Envelope is one stored event: CloudEvents 1.0 attributes plus Redlane's extension
// attributes (lower-case, as CloudEvents requires). Its JSON form is the public contract
// that auditors and reporting jobs read from the stream; fields are added, never renamed.
type Envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`      // UUIDv7, also the Nats-Msg-Id
	Type            string          `json:"type"`    // e.g. redlane.order.dispatched.v1
	Source          string          `json:"source"`  // "urn:redlane"
	Subject         string          `json:"subject"` // aggregate kind and id, e.g. order/0193…
	Time            time.Time       `json:"time"`    // UTC
	DataContentType string          `json:"datacontenttype"`
	Actor           string          `json:"actor"` // token id, "resident" or "system"
	ActorName       string          `json:"actorname,omitempty"`
	Role            Role            `json:"role"`             // the actor's role
	AggregateType   string          `json:"aggregatetype"`    // order, lane, member, token
	AggregateID     string          `json:"aggregateid"`      //
	Version         uint64          `json:"aggregateversion"` // 1 for the aggregate's first event
	CorrelationID   string          `json:"correlationid"`
	CausationID     string          `json:"causationid"`
	Data            json.RawMessage `json:"data"`
}

// Recorded is an envelope as the store holds it, with its position in the log.
type Recorded struct {
	Envelope
	Seq uint64 // the stream sequence: a total order over all aggregates
	// Rejected is set only by reads for an audit, which show what the log holds: why
	// the event is not obeyed (it is not one Redlane signed). Reads that decide or
	// project never return such events.
	Rejected string
}

// Event is a domain fact. EventType is its wire name, versioned and never renamed.
type Event interface {
	EventType() string
}

// Meta is what a command's events carry besides their data.
type Meta struct {
	Actor         Actor
	Time          time.Time
	CorrelationID string
	CausationID   string
}

// Registry maps wire names to the Go types of events, so that stored data decodes to the
// type that wrote it. Names are registered explicitly, never derived by reflection.
type Registry struct {
	decoders map[string]func([]byte) (Event, error)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{decoders: map[string]func([]byte) (Event, error){}} }

// TypeDef is one event type for a Registry; make it with Def.
type TypeDef struct {
	name   string
	decode func([]byte) (Event, error)
}

// Def describes the event type E, named by what its zero value's EventType returns.
func Def[E Event]() TypeDef {
	var zero E
	return TypeDef{name: zero.EventType(), decode: func(b []byte) (Event, error) {
		var e E
		err := json.Unmarshal(b, &e)
		return e, err
	}}
}

// Register adds event types. Registering one name twice is a programming error.
func (r *Registry) Register(defs ...TypeDef) {
	for _, d := range defs {
		if _, dup := r.decoders[d.name]; dup {
			panic("domain: event type registered twice: " + d.name)
		}
		r.decoders[d.name] = d.decode
	}
}

// Types lists the registered wire names in no particular order.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.decoders))
	for k := range r.decoders {
		out = append(out, k)
	}
	return out
}

// Decode returns the event an envelope carries.
func (r *Registry) Decode(e Envelope) (Event, error) {
	dec, ok := r.decoders[e.Type]
	if !ok {
		return nil, fmt.Errorf("decode event %s: unknown type %q", e.ID, e.Type)
	}
	ev, err := dec(e.Data)
	if err != nil {
		return nil, fmt.Errorf("decode event %s (%s): %w", e.ID, e.Type, err)
	}
	return ev, nil
}

// Seal wraps events for appending to one aggregate whose current version is version:
// the i-th event gets version+1+i and the id ids[i].
func Seal(aggType, aggID string, version uint64, events []Event, ids []string, m Meta) ([]Envelope, error) {
	if len(ids) != len(events) {
		return nil, fmt.Errorf("seal %s/%s: %d events but %d ids", aggType, aggID, len(events), len(ids))
	}
	out := make([]Envelope, len(events))
	for i, ev := range events {
		data, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("seal %s/%s: %w", aggType, aggID, err)
		}
		causation := m.CausationID
		if i > 0 {
			causation = ids[i-1]
		}
		out[i] = Envelope{
			SpecVersion:     SpecVersion,
			ID:              ids[i],
			Type:            ev.EventType(),
			Source:          Source,
			Subject:         aggType + "/" + aggID,
			Time:            m.Time.UTC(),
			DataContentType: "application/json",
			Actor:           m.Actor.ID,
			ActorName:       m.Actor.Name,
			Role:            m.Actor.Role,
			AggregateType:   aggType,
			AggregateID:     aggID,
			Version:         version + 1 + uint64(i),
			CorrelationID:   m.CorrelationID,
			CausationID:     causation,
			Data:            data,
		}
	}
	return out, nil
}

// DecodeEnvelope parses a stored envelope and checks the attributes every reader relies on.
func DecodeEnvelope(b []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return Envelope{}, fmt.Errorf("decode envelope: %w", err)
	}
	switch {
	case e.SpecVersion != SpecVersion:
		return Envelope{}, fmt.Errorf("decode envelope: specversion %q, want %q", e.SpecVersion, SpecVersion)
	case e.ID == "":
		return Envelope{}, fmt.Errorf("decode envelope: missing id")
	case e.Type == "":
		return Envelope{}, fmt.Errorf("decode envelope %s: missing type", e.ID)
	case e.AggregateType == "" || e.AggregateID == "":
		return Envelope{}, fmt.Errorf("decode envelope %s: missing aggregate", e.ID)
	case e.Version == 0:
		return Envelope{}, fmt.Errorf("decode envelope %s: aggregateversion must be at least 1", e.ID)
	}
	return e, nil
}
