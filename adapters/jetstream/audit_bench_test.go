package jetstream_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
	"github.com/redlane/redlane/domain"
)

// BenchmarkSignEvent is the cost signing adds to an append: one HMAC over a typical
// envelope, in the writer's own goroutine.
func BenchmarkSignEvent(b *testing.B) {
	s := auditKey
	env := storetest.Seal(b, "order", storetest.NewID(), 0, 1)[0]
	env.Data = json.RawMessage(`{"number":"20261127-K3QZ7A","lane":"rouqiao-houxiang","community":"taoyuan","street":"dongcheng","category":"repair","title":"楼道灯不亮了","description":"三单元二楼的感应灯坏了","requester":{"name":"张阿姨","phone":"13812345678"},"mode":"instant","channel":"station","priority":"normal","accept_by":"2026-11-28T02:15:04Z","complete_by":"2026-11-30T02:15:04Z"}`)
	body, _ := json.Marshal(env)
	subject := "redlane.events.order." + env.AggregateID
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = s.SignEvent(subject, env.ID, body)
	}
}

// BenchmarkAppendSigned compares appends with and without signing on one embedded
// server (no fsync), one writer.
func BenchmarkAppendSigned(b *testing.B) {
	signer := auditKey
	for _, c := range []struct {
		name   string
		signer *jsstore.Signer
	}{{"unsigned", nil}, {"signed", signer}} {
		b.Run(c.name, func(b *testing.B) {
			srv := natstest.StartServer(b, natsserver.Config{DataDir: b.TempDir(), Host: "127.0.0.1", Port: -1})
			js, err := jetstream.New(natstest.Connect(b, srv))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			store, err := jsstore.Open(ctx, js, jsstore.Config{Signer: c.signer})
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, 256)
			last := make([]uint64, len(ids))
			envs := make([][]domain.Envelope, b.N)
			for i := range ids {
				ids[i] = storetest.NewID()
			}
			for i := range envs {
				k := i % len(ids)
				envs[i] = storetest.Seal(b, "order", ids[k], uint64(i/len(ids)), 1)
			}
			b.ResetTimer()
			for i := range b.N {
				k := i % len(ids)
				seqs, err := store.Append(ctx, "order", ids[k], last[k], envs[i])
				if err != nil {
					b.Fatal(err)
				}
				last[k] = seqs[0]
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/append")
		})
	}
}
