package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SessionsBucket holds the pages' sign-ins. Readers may not read it (internal/app/access.go).
const SessionsBucket = "REDLANE_SESSIONS"

// Sessions keeps the pages' sign-ins in NATS KV, so that every process knows them and a
// restart signs nobody out. The browser holds a random session id; the bucket holds,
// under the id's SHA-256, which token signed in and when. An entry lapses after the
// bucket's TTL (the session's lifetime); signing out deletes it at once, and revoking the
// token ends every session made with it (the token is checked on every request).
type Sessions struct {
	kv jetstream.KeyValue
}

type sessionEntry struct {
	Token   string    `json:"token"` // the token's id, never its secret
	Started time.Time `json:"started"`
}

// OpenSessions opens (creating when needed) the sessions bucket; ttl is how long a
// sign-in lasts.
func OpenSessions(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (*Sessions, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: SessionsBucket, Description: "Redlane's page sign-ins: session id digest → token id",
		History: 1, TTL: ttl, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", SessionsBucket, err)
	}
	return &Sessions{kv: kv}, nil
}

// sessionKey is where a session id's entry is: its digest, so that the bucket alone
// gives nobody a cookie.
func sessionKey(id string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 32 {
		return "", false
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), true
}

// Start begins a session for the token with id tokenID and returns the session's id.
func (s *Sessions) Start(ctx context.Context, tokenID string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	key, _ := sessionKey(id)
	v, _ := json.Marshal(sessionEntry{Token: tokenID, Started: time.Now().UTC()})
	if _, err := s.kv.Create(ctx, key, v); err != nil {
		return "", fmt.Errorf("start a session: %w", err)
	}
	return id, nil
}

// Lookup returns the token id a session stands for; ok is false for an unknown, ended
// or lapsed session, or anything that is no session id.
func (s *Sessions) Lookup(ctx context.Context, id string) (tokenID string, ok bool, err error) {
	key, valid := sessionKey(id)
	if !valid {
		return "", false, nil
	}
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var v sessionEntry
	if err := json.Unmarshal(e.Value(), &v); err != nil || v.Token == "" {
		return "", false, nil
	}
	return v.Token, true, nil
}

// End ends a session at once (signing out).
func (s *Sessions) End(ctx context.Context, id string) error {
	key, valid := sessionKey(id)
	if !valid {
		return nil
	}
	if err := s.kv.Purge(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	return nil
}
