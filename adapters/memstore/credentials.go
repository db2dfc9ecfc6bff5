package memstore

import (
	"context"
	"sync"
)

// Credentials keeps accounts' password hashes in memory: service.Credentials for tests
// and demos.
type Credentials struct {
	mu     sync.Mutex
	hashes map[string][]byte
}

// NewCredentials returns an empty credentials store.
func NewCredentials() *Credentials { return &Credentials{hashes: map[string][]byte{}} }

// SetPasswordHash stores an account's password hash.
func (c *Credentials) SetPasswordHash(_ context.Context, account string, hash []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hashes[account] = append([]byte(nil), hash...)
	return nil
}

// PasswordHash returns an account's password hash, or nil.
func (c *Credentials) PasswordHash(_ context.Context, account string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hashes[account], nil
}
