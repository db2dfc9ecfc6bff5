package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// CredentialsBucket holds accounts' password hashes. Readers may not read it, and the
// hashes never go into the event stream.
const CredentialsBucket = "REDLANE_CREDENTIALS"

// Credentials keeps accounts' password hashes (bcrypt) in NATS KV: service.Credentials.
type Credentials struct {
	kv jetstream.KeyValue
}

// OpenCredentials opens (creating when needed) the credentials bucket.
func OpenCredentials(ctx context.Context, js jetstream.JetStream, replicas int) (*Credentials, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: CredentialsBucket, Description: "Redlane's accounts: account id → bcrypt hash of the password",
		History: 1, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", CredentialsBucket, err)
	}
	return &Credentials{kv: kv}, nil
}

// SetPasswordHash stores an account's password hash, replacing any before.
func (c *Credentials) SetPasswordHash(ctx context.Context, account string, hash []byte) error {
	if _, err := c.kv.Put(ctx, "account."+account, hash); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	return nil
}

// PasswordHash returns an account's password hash, or nil when it has none.
func (c *Credentials) PasswordHash(ctx context.Context, account string) ([]byte, error) {
	e, err := c.kv.Get(ctx, "account."+account)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return e.Value(), nil
}
