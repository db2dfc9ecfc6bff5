package service_test

import (
	"context"
	"testing"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// BenchmarkRequesterReply is what answering a note on a resident's order does with its
// requester: open the sealed details to take them out of the note, then again to show
// them (the vault on an embedded server), within one command's context.
func BenchmarkRequesterReply(b *testing.B) {
	ctx := context.Background()
	_, nc := natstest.Start(b)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	vault, err := jsvault.Open(ctx, js, []byte("bench pepper, thirty-two bytes.."), 1)
	if err != nil {
		b.Fatal(err)
	}
	svc := service.New(service.Config{Vault: vault, Catalog: order.DefaultCatalog()})
	sealed, err := vault.Seal(ctx, order.Requester{Name: "张阿姨", Phone: "13912345678"})
	if err != nil {
		b.Fatal(err)
	}
	st := order.State{Sealed: sealed}
	b.ReportAllocs()
	for b.Loop() {
		cmd := service.WithOpened(ctx)
		for range 2 {
			if r, _, err := svc.Requester(cmd, st); err != nil || r.Name != "张阿姨" {
				b.Fatal(r, err)
			}
		}
	}
}
