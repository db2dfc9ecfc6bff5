package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// SecretsBucket holds the secrets every Redlane process shares (the receipt key, the
// residents' pepper). Only the service's NATS user may read it.
const SecretsBucket = "REDLANE_SECRETS"

// SharedSecret returns the named secret from the REDLANE_SECRETS key-value bucket,
// creating it from fresh when it is absent. Every process on one NATS system gets the
// same bytes: the first to create it wins.
func SharedSecret(ctx context.Context, js jetstream.JetStream, name string, fresh func() []byte, replicas int) ([]byte, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: SecretsBucket, Description: "Redlane's shared secrets (receipt key)",
		History: 1, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("secrets bucket: %w", err)
	}
	if e, err := kv.Get(ctx, name); err == nil {
		return e.Value(), nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if _, err := kv.Create(ctx, name, fresh()); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	e, err := kv.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return e.Value(), nil
}
