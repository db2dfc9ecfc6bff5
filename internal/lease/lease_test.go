package lease_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/internal/lease"
)

func TestOneHolderAtATime(t *testing.T) {
	_, nc := natstest.Start(t)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "LEASES"})
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 300 * time.Millisecond
	a, err := lease.Acquire(ctx, kv, "view.x", "a", ttl)
	if err != nil || a == nil {
		t.Fatalf("a free lease was not taken: %v", err)
	}
	if b, err := lease.Acquire(ctx, kv, "view.x", "b", ttl); err != nil || b != nil {
		t.Fatalf("b took a held lease: %v", err)
	}
	again, err := lease.Acquire(ctx, kv, "view.x", "a", ttl)
	if err != nil || again == nil {
		t.Fatalf("the holder could not take its own lease again: %v", err)
	}
	// a stops renewing: once it runs out, b takes it, and a's renewal fails.
	time.Sleep(ttl + 50*time.Millisecond)
	b, err := lease.Acquire(ctx, kv, "view.x", "b", ttl)
	if err != nil || b == nil {
		t.Fatalf("b did not take a lapsed lease: %v", err)
	}
	if err := again.Renew(ctx); err == nil {
		t.Fatal("a renewed a lease b holds")
	}
	// b hands it back: c takes it at once.
	b.Release()
	if c, err := lease.Acquire(ctx, kv, "view.x", "c", ttl); err != nil || c == nil {
		t.Fatalf("c did not take a released lease: %v", err)
	}
}
