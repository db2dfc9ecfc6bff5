package jetstream

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
	"github.com/redlane/redlane/domain"
)

func benchStore(b *testing.B, syncAlways bool) *Store {
	b.Helper()
	srv := natstest.StartServer(b, natsserver.Config{DataDir: b.TempDir(), Host: "127.0.0.1", Port: -1, SyncAlways: syncAlways})
	return open(b, natstest.Connect(b, srv))
}

// aggs is a round robin of aggregates, each appended to at its current position.
type aggs struct {
	ids  []string
	last []uint64
	ver  []uint64
}

func newAggs(n int) *aggs {
	a := &aggs{ids: make([]string, n), last: make([]uint64, n), ver: make([]uint64, n)}
	for i := range a.ids {
		a.ids[i] = storetest.NewID()
	}
	return a
}

func benchAppend(b *testing.B, s *Store, perAppend int, publish func(ctx context.Context, subj string, expected uint64, envs []domain.Envelope) ([]uint64, error)) {
	ctx := context.Background()
	a := newAggs(1000)
	envs := make([][]domain.Envelope, b.N)
	for i := range envs {
		k := i % len(a.ids)
		envs[i] = storetest.Seal(b, "order", a.ids[k], a.ver[k], perAppend)
		a.ver[k] += uint64(perAppend)
	}
	b.ResetTimer()
	for i := range b.N {
		k := i % len(a.ids)
		seqs, err := publish(ctx, a.ids[k], a.last[k], envs[i])
		if err != nil {
			b.Fatal(err)
		}
		a.last[k] = seqs[len(seqs)-1]
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/append")
}

func BenchmarkAppendOne(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run("sync_always="+strconv.FormatBool(sync), func(b *testing.B) {
			s := benchStore(b, sync)
			benchAppend(b, s, 1, func(ctx context.Context, id string, expected uint64, envs []domain.Envelope) ([]uint64, error) {
				return s.Append(ctx, "order", id, expected, envs)
			})
		})
	}
	// The floor on this machine: a plain publish of the same body, no headers, no checks.
	b.Run("plain_publish_floor", func(b *testing.B) {
		s := benchStore(b, false)
		benchAppend(b, s, 1, func(ctx context.Context, id string, _ uint64, envs []domain.Envelope) ([]uint64, error) {
			data, _ := json.Marshal(&envs[0])
			ack, err := s.js.Publish(ctx, s.Subject("order", id), data)
			if err != nil {
				return nil, err
			}
			return []uint64{ack.Sequence}, nil
		})
	})
}

func BenchmarkAppendBatch3(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run("sync_always="+strconv.FormatBool(sync), func(b *testing.B) {
			s := benchStore(b, sync)
			benchAppend(b, s, 3, func(ctx context.Context, id string, expected uint64, envs []domain.Envelope) ([]uint64, error) {
				return s.Append(ctx, "order", id, expected, envs)
			})
		})
	}
	// The alternative not taken: wait for the server's ack of the first message.
	b.Run("ack_first", func(b *testing.B) {
		s := benchStore(b, false)
		benchAppend(b, s, 3, func(ctx context.Context, id string, expected uint64, envs []domain.Envelope) ([]uint64, error) {
			msgs := make([]*nats.Msg, len(envs))
			for i := range envs {
				data, _ := json.Marshal(&envs[i])
				msgs[i] = &nats.Msg{Subject: s.Subject("order", id), Data: data, Header: nats.Header{jetstream.MsgIDHeader: {envs[i].ID}}}
			}
			msgs[0].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expected, 10))
			ack, err := jetstreamext.PublishMsgBatch(ctx, s.js, msgs)
			if err != nil {
				return nil, err
			}
			return []uint64{ack.Sequence}, nil
		})
	})
}

// BenchmarkLoadInterleaved loads aggregates of 10 events from a stream where 500
// aggregates were written round robin, so each aggregate's events are spread out.
func BenchmarkLoadInterleaved(b *testing.B) {
	const nAggs, perAgg = 500, 10
	s := benchStore(b, false)
	ctx := context.Background()
	a := newAggs(nAggs)
	for range perAgg {
		for k, id := range a.ids {
			seqs, err := s.Append(ctx, "order", id, a.last[k], storetest.Seal(b, "order", id, a.ver[k], 1))
			if err != nil {
				b.Fatal(err)
			}
			a.last[k] = seqs[0]
			a.ver[k]++
		}
	}
	// after returns the position to load after: 0 (all), the one before last, or last.
	cases := []struct {
		name  string
		after func(k int) uint64
		want  int
	}{
		{"all_10", func(int) uint64 { return 0 }, perAgg},
		{"last_1", func(k int) uint64 { return a.last[k] - nAggs }, 1},
		{"last_3", func(k int) uint64 { return a.last[k] - 3*nAggs }, 3},
		{"none_new", func(k int) uint64 { return a.last[k] }, 0},
	}
	loaders := []struct {
		name string
		load func(id string, after uint64) (int, error)
	}{
		{"store", func(id string, after uint64) (int, error) {
			recs, err := s.Load(ctx, "order", id, after)
			return len(recs), err
		}},
		{"direct_get_without_last_check", func(id string, after uint64) (int, error) {
			n := 0
			err := s.scan(ctx, s.Subject("order", id), after+1, 0, 0, 0, func(*nats.Msg, uint64) error { n++; return nil })
			return n, err
		}},
		{"ordered_consumer", func(id string, after uint64) (int, error) {
			return loadOrdered(ctx, s, s.Subject("order", id), after)
		}},
	}
	for _, c := range cases {
		for _, l := range loaders {
			b.Run(c.name+"/"+l.name, func(b *testing.B) {
				i := 0
				for b.Loop() {
					k := i % nAggs
					i++
					n, err := l.load(a.ids[k], c.after(k))
					if err != nil || n != c.want {
						b.Fatalf("loaded %d events, want %d (%v)", n, c.want, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/load")
			})
		}
	}
}

// loadOrdered is the read path not taken: an ordered consumer filtered on the subject.
func loadOrdered(ctx context.Context, s *Store, subj string, after uint64) (int, error) {
	last, err := s.stream.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		return 0, err
	}
	if last.Sequence <= after {
		return 0, nil
	}
	cons, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subj},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	})
	if err != nil {
		return 0, err
	}
	defer func() { _ = s.stream.DeleteConsumer(ctx, cons.CachedInfo().Name) }()
	n := 0
	for {
		batch, err := cons.Fetch(scanBatch)
		if err != nil {
			return n, err
		}
		for msg := range batch.Messages() {
			md, err := msg.Metadata()
			if err != nil {
				return n, err
			}
			if _, err := domain.DecodeEnvelope(msg.Data()); err != nil {
				return n, err
			}
			n++
			if md.Sequence.Stream >= last.Sequence {
				return n, nil
			}
		}
		if batch.Error() != nil {
			return n, batch.Error()
		}
	}
}

// BenchmarkReadAll replays a stream of 5000 events with ReadAll.
func BenchmarkReadAll(b *testing.B) {
	s := benchStore(b, false)
	ctx := context.Background()
	for range 5000 / 5 {
		id := storetest.NewID()
		if _, err := s.Append(ctx, "order", id, 0, storetest.Seal(b, "order", id, 0, 5)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		n := 0
		if err := s.ReadAll(ctx, 1, func(domain.Recorded) error { n++; return nil }); err != nil || n != 5000 {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/5000, "ns/event")
}
