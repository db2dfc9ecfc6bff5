package jetstream

// Logs written before events were signed with Ed25519 carry an HMAC-SHA256 signature
// under one audit key that every writer shared (Redlane-Signature: hex, Redlane-Key: the
// first 8 hex digits of SHA-256("redlane-audit-key-id\x00" ‖ key), over
// "redlane-event-v1" and the length-prefixed subject, id and body). A process that still
// holds that key (DATA/audit.key, REDLANE_AUDIT_KEY) obeys such events, but only at
// positions before the log's first key event: from there on only Ed25519 counts, so the
// old shared key, which several machines held, cannot add anything to the log today.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/nats-io/nats.go"
)

// LegacyKey is the shared HMAC audit key of logs written before Ed25519.
type LegacyKey struct {
	key []byte
	id  string
}

// NewLegacyKey returns the legacy key; it must be at least 16 bytes, as it had to be.
func NewLegacyKey(key []byte) (*LegacyKey, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("legacy audit key: %d bytes, want at least 16", len(key))
	}
	sum := sha256.Sum256(append([]byte("redlane-audit-key-id\x00"), key...))
	return &LegacyKey{key: append([]byte(nil), key...), id: hex.EncodeToString(sum[:4])}, nil
}

// Sign returns an event's legacy signature (for tests that stage an old log).
func (l *LegacyKey) Sign(subject, id string, body []byte) (sig, keyID string) {
	return hex.EncodeToString(l.mac(subject, id, body)), l.id
}

func (l *LegacyKey) mac(subject, id string, body []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("redlane-event-v1"))
	for _, f := range [][]byte{[]byte(subject), []byte(id), body} {
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(f))))
		m.Write(f)
	}
	return m.Sum(nil)
}

// holds reports whether h carries this key's valid signature of the event.
func (l *LegacyKey) holds(h nats.Header, subject, id string, body []byte) bool {
	if h.Get(HeaderKey) != l.id {
		return false
	}
	got, err := hex.DecodeString(h.Get(HeaderSignature))
	return err == nil && hmac.Equal(got, l.mac(subject, id, body))
}

// AcceptLegacy makes the keyring obey events signed with the legacy key at positions
// below before (the log's first key event).
func (k *Keyring) AcceptLegacy(key *LegacyKey, before uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.legacy, k.legacyBefore = key, before
}

// CheckEventAt is CheckEvent for the event at position seq, which also accepts a legacy
// signature below the position AcceptLegacy gave.
func (k *Keyring) CheckEventAt(seq uint64, h nats.Header, subject, id string, body []byte) error {
	err := k.CheckEvent(h, subject, id, body)
	if err == nil {
		return nil
	}
	k.mu.RLock()
	legacy, before := k.legacy, k.legacyBefore
	k.mu.RUnlock()
	if legacy != nil && seq < before && legacy.holds(h, subject, id, body) {
		return nil
	}
	return err
}
