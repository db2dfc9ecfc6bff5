package order_test

import (
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// lifeStep is one command of an order's usual life with who issues it.
type lifeStep struct {
	name string
	who  domain.Actor
	cmd  order.Command
}

// usualLife is the life "redlane bench" drives: submit, dispatch, accept, complete, rate.
func usualLife() []lifeStep {
	yes := true
	return []lifeStep{
		{"submit", resident, submitCmd()},
		{"dispatch", laneSteward, order.Dispatch{Member: ref1}},
		{"accept", member1, order.Accept{}},
		{"complete", member1, order.Complete{Note: "换了水管", Minutes: 40}},
		{"rate", resident, order.Rate{Solved: &yes, Stars: 5, Comment: "很及时"}},
	}
}

// BenchmarkDecide decides each command of the usual life against the state before it.
func BenchmarkDecide(b *testing.B) {
	var s order.State
	for i, step := range usualLife() {
		env := order.Env{Actor: step.who, Now: defaultNow, Catalog: catalog}
		events, err := order.Decide(s, step.cmd, env)
		if err != nil || len(events) != 1 {
			b.Fatalf("%s: %v %v", step.name, events, err)
		}
		before := s
		b.Run(step.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := order.Decide(before, step.cmd, env); err != nil {
					b.Fatal(err)
				}
			}
		})
		s = order.Evolve(s, events[0], domain.Envelope{AggregateID: "o-1", Version: uint64(i + 1), Time: defaultNow})
	}
}

// BenchmarkEvolve folds the usual life's five events, already decoded, into a state.
func BenchmarkEvolve(b *testing.B) {
	events, envs := decidedLife(b)
	b.ReportAllocs()
	for b.Loop() {
		var s order.State
		for i, ev := range events {
			s = order.Evolve(s, ev, envs[i])
		}
		if s.Status != order.StatusClosed {
			b.Fatalf("status %s", s.Status)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}

// BenchmarkDecodeAndEvolve is loading an order from stored envelopes: each event's data
// decoded through the registry, then applied.
func BenchmarkDecodeAndEvolve(b *testing.B) {
	_, envs := decidedLife(b)
	b.ReportAllocs()
	for b.Loop() {
		var s order.State
		for _, env := range envs {
			ev, err := order.Events.Decode(env)
			if err != nil {
				b.Fatal(err)
			}
			s = order.Evolve(s, ev, env)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(envs)), "ns/event")
}

// decidedLife decides the usual life and returns its events and their envelopes.
func decidedLife(tb testing.TB) ([]domain.Event, []domain.Envelope) {
	tb.Helper()
	var s order.State
	var events []domain.Event
	var envs []domain.Envelope
	for i, step := range usualLife() {
		now := defaultNow.Add(time.Duration(i) * time.Minute)
		evs, err := order.Decide(s, step.cmd, order.Env{Actor: step.who, Now: now, Catalog: catalog})
		if err != nil || len(evs) != 1 {
			tb.Fatalf("%s: %v %v", step.name, evs, err)
		}
		env := sealed(tb, uint64(i), evs[0], now)
		s = order.Evolve(s, evs[0], env)
		events, envs = append(events, evs[0]), append(envs, env)
	}
	return events, envs
}
