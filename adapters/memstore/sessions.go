package memstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Sessions keeps sign-ins in this process's memory, for tests and demos: the same
// contract as the JetStream sessions (an id stands for a token id until it lapses or ends).
type Sessions struct {
	mu  sync.Mutex
	m   map[string]session
	ttl time.Duration
}

type session struct {
	token string
	until time.Time
}

// Start begins a session for the token with id tokenID and returns its id.
func (m *Sessions) Start(_ context.Context, tokenID string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) > 100_000 {
		m.m = map[string]session{}
	}
	m.m[id] = session{token: tokenID, until: time.Now().Add(m.ttl)}
	return id, nil
}

// Lookup returns the token id a session stands for, while it lasts.
func (m *Sessions) Lookup(_ context.Context, id string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[id]
	if !ok || time.Now().After(s.until) {
		return "", false, nil
	}
	return s.token, true, nil
}

// End ends a session at once.
func (m *Sessions) End(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// NewSessions returns an empty store whose sessions last ttl.
func NewSessions(ttl time.Duration) *Sessions {
	return &Sessions{m: map[string]session{}, ttl: ttl}
}
