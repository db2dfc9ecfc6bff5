package vault_test

import (
	"context"
	"errors"
	"testing"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/nats-io/nats.go/jetstream"

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

func TestVaultContract(t *testing.T) {
	vaulttest.Run(t, func(t *testing.T) service.Vault {
		_, nc := natstest.Start(t)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsvault.Open(context.Background(), js, []byte("pepper"), 1)
		if err != nil {
			t.Fatal(err)
		}
		return v
	})
}
