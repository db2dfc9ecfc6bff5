// Package eventstoredb mirrors Redlane's event stream into EventStoreDB (KurrentDB), for
// long-term audit outside NATS.
//
// # Mapping (a public contract)
//
// Each Redlane event becomes one EventStoreDB event:
//
//   - stream "redlane.<aggregatetype>-<aggregateid>", e.g. "redlane.order-0193a5c2-…":
//     one stream per aggregate. EventStoreDB's category projection splits at the first
//     '-', so $ce-redlane.order holds every order's events;
//   - revision aggregateversion − 1 (EventStoreDB counts from 0), appended with the
//     expected revision aggregateversion − 2, or "no stream" for version 1: the same
//     optimistic concurrency as on NATS, and a redelivered event is not written twice;
//   - event id: the envelope's id (a UUIDv7) as is; an id that is not a UUID (only a
//     forgery has one) becomes the SHA-1 name-based UUID of it in the namespace
//     IDNamespace, so it too maps to the same id every time;
//   - event type: the envelope's type, e.g. redlane.order.dispatched.v1;
//   - data: the message body exactly as stored on NATS, the whole CloudEvents envelope
//     (content type JSON). Kept byte for byte, an event's Redlane-Signature can be
//     checked against the copy in EventStoreDB alone;
//   - metadata (JSON): {"$correlationId","$causationId"} (the names EventStoreDB's own
//     projections read) and {"natsStream","natsSeq","natsSubject","signature",
//     "signatureKey"}: where the event sits on NATS and its audit headers.
//
// A message that cannot take its place (its body is not an envelope, or its aggregate's
// stream already holds a different event at its revision: a forgery or a copy) is not
// dropped: it is appended to the stream QuarantineStream with "quarantine" in its
// metadata saying why, and the mirror goes on.
//
// # Mirror
//
// Mirror reads the event stream with the durable JetStream consumer "mirror-esdb" and
// keeps its own checkpoint, the last stream position mirrored, in the KV bucket
// REDLANE_MIRROR under the key "esdb". One process at a time mirrors (lease
// "mirror.esdb" in REDLANE_LEASES). Names are permanent.
package eventstoredb

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/redlane/redlane/domain"
)

// The stream names of the mirror. Permanent.
const (
	// StreamPrefix starts every aggregate's stream: StreamPrefix + type + "-" + id.
	StreamPrefix = "redlane."
	// QuarantineStream holds messages that could not take their place.
	QuarantineStream = "redlane-quarantine"
)

// IDNamespace is the namespace of the name-based event ids given to events whose own id
// is not a UUID.
var IDNamespace = uuid.MustParse("3b1f7a52-8c2e-4f7d-9a0b-6e5d4c3b2a19")

// StreamName returns the EventStoreDB stream of an aggregate.
func StreamName(aggType, aggID string) string { return StreamPrefix + aggType + "-" + aggID }

// ExpectedRevision is what the aggregate's stream must be at before an event that brings
// it to version: "no stream" for the first event, else revision version − 2.
func ExpectedRevision(version uint64) esdb.ExpectedRevision {
	if version <= 1 {
		return esdb.NoStream{}
	}
	return esdb.Revision(version - 2)
}

// EventID returns the EventStoreDB event id of a Redlane event id.
func EventID(id string) uuid.UUID {
	if u, err := uuid.Parse(id); err == nil && len(id) == 36 {
		return u
	}
	return uuid.NewSHA1(IDNamespace, []byte(id))
}

// Metadata is the metadata of a mirrored event.
type Metadata struct {
	CorrelationID  string `json:"$correlationId,omitempty"`
	CausationID    string `json:"$causationId,omitempty"`
	NATSStream     string `json:"natsStream"`
	NATSSeq        uint64 `json:"natsSeq"`
	NATSSubject    string `json:"natsSubject"`
	Signature      string `json:"signature,omitempty"`
	SignatureKey   string `json:"signatureKey,omitempty"`
	SignatureProof string `json:"signatureProof,omitempty"` // an event signed with its batch: its path to the batch's root
	Quarantine     string `json:"quarantine,omitempty"`     // why, in QuarantineStream
}

// Mapped is one stored message as it goes to EventStoreDB.
type Mapped struct {
	Stream   string                // the aggregate's stream
	Version  uint64                // the aggregate version the event brings it to
	Expected esdb.ExpectedRevision // before the append
	Event    esdb.EventData
}

// Revision is the event's revision in its stream.
func (m Mapped) Revision() uint64 { return m.Version - 1 }

// The headers the mapping reads besides Nats-Msg-Id: the audit signature's (they are
// the jetstream adapter's Redlane-Signature, Redlane-Key and Redlane-Proof, named here so that this
// adapter needs no other).
const (
	headerSignature = "Redlane-Signature"
	headerKey       = "Redlane-Key"
	headerProof     = "Redlane-Proof"
	// metaPeriodPrev is the jetstream adapter's stream metadata that names the period
	// before a period's stream.
	metaPeriodPrev = "redlane.period.prev"
)

// ErrUnreadable means a message's body is not a Redlane event.
var ErrUnreadable = errors.New("not a Redlane event")

// Map maps a message of the NATS event stream to its EventStoreDB form. A body that is
// not an envelope gives ErrUnreadable; Quarantine maps such a message instead.
func Map(natsStream string, seq uint64, subject string, header nats.Header, body []byte) (Mapped, error) {
	env, err := domain.DecodeEnvelope(body)
	if err != nil {
		return Mapped{}, fmt.Errorf("%w: position %d: %v", ErrUnreadable, seq, err)
	}
	meta := Metadata{
		CorrelationID: env.CorrelationID, CausationID: env.CausationID,
		NATSStream: natsStream, NATSSeq: seq, NATSSubject: subject,
		Signature: header.Get(headerSignature), SignatureKey: header.Get(headerKey), SignatureProof: header.Get(headerProof),
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return Mapped{}, err
	}
	return Mapped{
		Stream:   StreamName(env.AggregateType, env.AggregateID),
		Version:  env.Version,
		Expected: ExpectedRevision(env.Version),
		Event: esdb.EventData{
			EventID: EventID(env.ID), EventType: env.Type, ContentType: esdb.ContentTypeJson,
			Data: body, Metadata: mb,
		},
	}, nil
}

// Quarantine maps a message that cannot take its place in its aggregate's stream to an
// event of QuarantineStream, saying why. Its id is made from the NATS stream and
// position (never the event's own, which the genuine event may carry), so a redelivery
// maps to the same id.
func Quarantine(natsStream string, seq uint64, subject string, header nats.Header, body []byte, why string) esdb.EventData {
	meta := Metadata{NATSStream: natsStream, NATSSeq: seq, NATSSubject: subject,
		Signature: header.Get(headerSignature), SignatureKey: header.Get(headerKey), SignatureProof: header.Get(headerProof), Quarantine: why}
	mb, _ := json.Marshal(meta)
	ev := esdb.EventData{
		EventID:   uuid.NewSHA1(IDNamespace, []byte("quarantine/"+natsStream+"/"+strconv.FormatUint(seq, 10))),
		EventType: "redlane.unreadable", ContentType: esdb.ContentTypeBinary, Data: body, Metadata: mb,
	}
	if env, err := domain.DecodeEnvelope(body); err == nil {
		ev.EventType, ev.ContentType = env.Type, esdb.ContentTypeJson
	}
	return ev
}
