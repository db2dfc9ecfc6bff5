package domain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

var benchMeta = domain.Meta{
	Actor:         domain.Actor{ID: "0193a5b0-1111-7abc-8def-0123456789ab", Name: "王芳", Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}},
	Time:          time.Date(2026, 11, 27, 2, 15, 4, 123e6, time.UTC),
	CorrelationID: "0193a5c2-7f1d-7000-8000-000000000001",
	CausationID:   "0193a5c2-7f1d-7000-8000-000000000001",
}

const benchOrder = "0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10"

// benchSubmitted is an order's first event as Redlane writes it.
func benchSubmitted() order.Submitted {
	at := benchMeta.Time
	return order.Submitted{
		Number: "20261127-K3QZ7A", Lane: "rouqiao-houxiang", Community: "taoyuan", Street: "dongcheng",
		Category: "repair", Title: "楼道灯不亮了", Description: "三单元二楼的感应灯坏了",
		Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
		Mode:      order.ModeInstant, Channel: order.ChannelStation, Priority: order.PriorityNormal,
		AcceptBy: at.Add(24 * time.Hour), CompleteBy: at.Add(72 * time.Hour),
	}
}

func benchEvents() map[string]domain.Event {
	return map[string]domain.Event{
		"submitted":  benchSubmitted(),
		"dispatched": order.Dispatched{Member: "m-001"},
		"completed":  order.Completed{Member: "m-001", Note: "换了感应灯", Minutes: 40, OnTime: true},
	}
}

// BenchmarkSeal wraps one event in its envelope, encoding the event's data.
func BenchmarkSeal(b *testing.B) {
	for name, ev := range benchEvents() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := domain.Seal(order.AggregateType, benchOrder, 1, []domain.Event{ev}, []string{"0193a5c2-7f1e-7c3a-9a51-2b4f0d3c9e11"}, benchMeta); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEnvelopeEncode is the envelope's JSON as the event store writes it.
func BenchmarkEnvelopeEncode(b *testing.B) {
	for name, ev := range benchEvents() {
		env := sealOne(b, ev, 1)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				body, err := json.Marshal(&env)
				if err != nil {
					b.Fatal(err)
				}
				n = len(body)
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}

// BenchmarkEnvelopeDecode is reading a stored event: the envelope, then its data.
func BenchmarkEnvelopeDecode(b *testing.B) {
	for name, ev := range benchEvents() {
		body, err := json.Marshal(sealOne(b, ev, 1))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/envelope", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := domain.DecodeEnvelope(body); err != nil {
					b.Fatal(err)
				}
			}
		})
		env, err := domain.DecodeEnvelope(body)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/data", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := order.Events.Decode(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sealOne(tb testing.TB, ev domain.Event, version uint64) domain.Envelope {
	tb.Helper()
	envs, err := domain.Seal(order.AggregateType, benchOrder, version-1, []domain.Event{ev}, []string{fmt.Sprintf("ev-%d", version)}, benchMeta)
	if err != nil {
		tb.Fatal(err)
	}
	return envs[0]
}

// sliceLog is the smallest event store there is: one slice, for measuring the runner
// apart from any real store. It does not check ids; the store contract suite is for
// real stores.
type sliceLog struct {
	mu   sync.Mutex
	recs []domain.Recorded
	last map[string]uint64
}

func (l *sliceLog) Append(_ context.Context, aggType, aggID string, expected uint64, events []domain.Envelope) ([]uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := aggType + "/" + aggID
	if l.last[key] != expected {
		return nil, fmt.Errorf("append %s at %d: %w", key, expected, domain.ErrConflict)
	}
	seqs := make([]uint64, len(events))
	for i, e := range events {
		l.recs = append(l.recs, domain.Recorded{Envelope: e, Seq: uint64(len(l.recs) + 1)})
		seqs[i] = uint64(len(l.recs))
	}
	l.last[key] = seqs[len(seqs)-1]
	return seqs, nil
}

func (l *sliceLog) Load(_ context.Context, aggType, aggID string, after uint64) ([]domain.Recorded, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []domain.Recorded
	for _, r := range l.recs[min(after, uint64(len(l.recs))):] {
		if r.AggregateType == aggType && r.AggregateID == aggID {
			out = append(out, r)
		}
	}
	return out, nil
}

// BenchmarkRunnerExecute runs a note command on a cached order: the runner's own cost
// per command (decide, seal, append, evolve, cache), the store being a slice.
func BenchmarkRunnerExecute(b *testing.B) {
	ctx := context.Background()
	log := &sliceLog{last: map[string]uint64{}}
	ids := 0
	r := domain.NewRunner(log, order.Aggregate, func() string { ids++; return fmt.Sprintf("ev-%d", ids) })
	steward := order.Env{Actor: benchMeta.Actor, Now: benchMeta.Time, Catalog: order.DefaultCatalog()}
	submit := order.Submit{Number: "20261127-K3QZ7A", Lane: order.LaneRef{ID: "rouqiao-houxiang", Community: "taoyuan", Street: "dongcheng"},
		Category: "repair", Title: "楼道灯不亮了", Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}}
	if _, _, err := r.Execute(ctx, benchOrder, benchMeta, func(s domain.Snapshot[order.State]) ([]domain.Event, error) {
		return order.Decide(s.State, submit, steward)
	}); err != nil {
		b.Fatal(err)
	}
	note := order.Note{Text: "回访：居民说灯又闪了", Internal: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Execute(ctx, benchOrder, benchMeta, func(s domain.Snapshot[order.State]) ([]domain.Event, error) {
			return order.Decide(s.State, note, steward)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunnerFold is loading an order the runner does not hold: folding its stored
// events (decoding each event's data, applying it), by history length.
func BenchmarkRunnerFold(b *testing.B) {
	r := domain.NewRunner(&sliceLog{last: map[string]uint64{}}, order.Aggregate, func() string { return "" })
	for _, n := range []int{5, 100, 1000} {
		recs := make([]domain.Recorded, n)
		recs[0] = domain.Recorded{Envelope: roundTrip(b, sealOne(b, benchSubmitted(), 1)), Seq: 1}
		for i := 1; i < n; i++ {
			recs[i] = domain.Recorded{Envelope: roundTrip(b, sealOne(b, order.Noted{Text: "回访记录"}, uint64(i+1))), Seq: uint64(i + 1)}
		}
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				snap, err := r.Fold(domain.Snapshot[order.State]{ID: benchOrder}, recs)
				if err != nil || snap.Version != uint64(n) {
					b.Fatalf("version %d, %v", snap.Version, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// roundTrip returns env as read back from its JSON.
func roundTrip(tb testing.TB, env domain.Envelope) domain.Envelope {
	tb.Helper()
	body, err := json.Marshal(env)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := domain.DecodeEnvelope(body)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
