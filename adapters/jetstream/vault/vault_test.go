package vault_test

import (
	"context"
	"errors"
	"testing"
	"time"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/vaulttest"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// TestErasureFindsThePersonHoweverThePhoneWasWritten: a resident who gave their number
// as +86 139 1234 5678 is forgotten when erased as 13912345678, and the other way round.
func TestErasureFindsThePersonHoweverThePhoneWasWritten(t *testing.T) {
	_, nc := natstest.Start(t)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	vault, err := jsvault.Open(ctx, js, []byte("pepper"), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ given, erased string }{
		{"+86 139 1234 5678", "13912345678"},
		{"137-1234-5678", "+86 13712345678"},
	} {
		sealed, err := vault.Seal(ctx, order.Requester{Name: "赵秀兰", Phone: c.given})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := vault.Open(ctx, sealed); err != nil || r.Phone != c.given {
			t.Fatalf("open before erasure: %v %v", r, err)
		}
		if _, err := vault.Erase(ctx, c.erased); err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Open(ctx, sealed); !errors.Is(err, service.ErrErased) {
			t.Errorf("given %q, erased %q: open says %v, want erased", c.given, c.erased, err)
		}
	}
}

// openVault opens a vault on a connection of its own to srv, its keys cached (as serve
// runs it) when cached is set.
func openVault(tb testing.TB, srv *natsserver.Server, cached bool) *jsvault.Vault {
	tb.Helper()
	js, err := jetstream.New(natstest.Connect(tb, srv))
	if err != nil {
		tb.Fatal(err)
	}
	v, err := jsvault.Open(context.Background(), js, []byte("pepper"), 1)
	if err != nil {
		tb.Fatal(err)
	}
	if cached {
		if err := v.CacheKeys(tb.Context(), jsvault.KeyCacheConfig{}); err != nil {
			tb.Fatal(err)
		}
	}
	return v
}

func TestVaultContract(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(map[bool]string{false: "bucket", true: "cached"}[cached], func(t *testing.T) {
			vaulttest.Run(t, func(t *testing.T) service.Vault {
				srv, _ := natstest.Start(t)
				return openVault(t, srv, cached)
			})
		})
	}
}

// Two serving processes share the bucket: what one erases, the other's cache forgets.
func TestKeyCacheForgetsWhatAnotherProcessErases(t *testing.T) {
	srv, _ := natstest.Start(t)
	a, b := openVault(t, srv, false), openVault(t, srv, false)
	watch, stop := context.WithCancel(t.Context())
	if err := a.CacheKeys(watch, jsvault.KeyCacheConfig{}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	who := order.Requester{Name: "张阿姨", Phone: "13800000001"}
	sealed, err := a.Seal(ctx, who)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got, err := a.Open(ctx, sealed); err != nil || got != who {
			t.Fatalf("open: %v, %v", got, err)
		}
	}
	if a.CachedKeyReads() == 0 {
		t.Fatal("three opens of one requester: none answered from memory")
	}
	if _, err := b.Erase(ctx, who.Phone); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := a.Open(ctx, sealed)
		if errors.Is(err, service.ErrErased) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process erased the key; this one still opens the details")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// With the watch gone, nothing is answered from memory.
	stop()
	other := order.Requester{Name: "李先生", Phone: "13900000002"}
	s2, err := a.Seal(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); a.KeysCached(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the watch's context ended; the cache is still on")
		}
	}
	hits := a.CachedKeyReads()
	for range 3 {
		if _, err := a.Open(ctx, s2); err != nil {
			t.Fatal(err)
		}
	}
	if a.CachedKeyReads() != hits {
		t.Error("the watch ended, yet keys were still read from memory")
	}
}

// BenchmarkOpen is what opening a requester's sealed details costs a command's reply:
// a read of the key from the bucket, or (cached) from memory.
func BenchmarkOpen(b *testing.B) {
	for _, cached := range []bool{false, true} {
		name := "bucket"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			srv, _ := natstest.Start(b)
			v := openVault(b, srv, cached)
			sealed, err := v.Seal(b.Context(), order.Requester{Name: "张阿姨", Phone: "13800000001"})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.Open(b.Context(), sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
