package jetstream

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
)

// TestClusterLosesNothingAndKnowsWhenItCannotWrite appends to a three-replica stream on
// a three-member cluster while one member is stopped and started again: every
// acknowledged append is stored afterwards. Then two members stop: Writable must say so
// within seconds, and say the stream is writable again once they are back.
func TestClusterLosesNothingAndKnowsWhenItCannotWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a three-member cluster; skipped with -short")
	}
	c := natstest.StartCluster(t, 3)
	js, err := jetstream.New(c.Connect(t), jetstream.WithDefaultTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	s, err := Open(ctx, js, Config{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Writable(ctx); err != nil {
		t.Fatalf("a healthy cluster: %v", err)
	}

	// Writers append new aggregates, one or three events each, until told to stop.
	var mu sync.Mutex
	acked := map[string]int{} // aggregate id → events acknowledged
	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id, n := storetest.NewID(), 1+2*((w+i)%2)
				sent.Add(1)
				actx, cancel := context.WithTimeout(ctx, 3*time.Second)
				_, err := s.Append(actx, "order", id, 0, storetest.Seal(t, "order", id, 0, n))
				cancel()
				if err != nil {
					failed.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				mu.Lock()
				acked[id] = n
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	c.Stop(1)
	time.Sleep(2 * time.Second)
	mu.Lock()
	during := len(acked)
	mu.Unlock()
	time.Sleep(time.Second)
	c.Start(1)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) <= during {
		t.Errorf("no append was acknowledged in the second after the first %d with a member down", during)
	}
	found := 0
	for id, n := range acked {
		recs, err := s.Load(ctx, "order", id, 0)
		if err != nil {
			t.Fatalf("load %s: %v", id, err)
		}
		if len(recs) != n {
			t.Errorf("aggregate %s: %d events stored, %d acknowledged", id, len(recs), n)
			continue
		}
		found++
	}
	t.Logf("one member down: %d appends sent, %d acknowledged, %d failed, %d found", sent.Load(), len(acked), failed.Load(), found)

	c.Stop(0)
	c.Stop(2)
	start := time.Now()
	for s.Writable(ctx) == nil {
		if time.Since(start) > 5*time.Second {
			t.Fatal("Writable still nil 5s after two of three members stopped")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("Writable reported the lost quorum after %s: %v", time.Since(start).Round(10*time.Millisecond), s.Writable(ctx))
	c.Start(0)
	c.Start(2)
	start = time.Now()
	for {
		err := s.Writable(ctx)
		if err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("not writable 30s after the members returned: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("writable again %s after the members returned", time.Since(start).Round(10*time.Millisecond))
	id := storetest.NewID()
	if _, err := s.Append(ctx, "order", id, 0, storetest.Seal(t, "order", id, 0, 1)); err != nil {
		t.Fatalf("append once writable again: %v", err)
	}
}
