package memstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// Vault is an in-memory privacy vault (service.Vault) for tests and demos: residents'
// keys in a map, their details sealed with AES-256-GCM under them, a key forgotten on
// erasure. It keeps the JetStream vault's contract (adapters/vaulttest).
type Vault struct {
	mu     sync.Mutex
	pepper []byte
	keys   map[string][]byte // resident -> key
}

// NewVault returns an empty vault whose resident ids are keyed digests under pepper.
func NewVault(pepper []byte) *Vault {
	return &Vault{pepper: append([]byte(nil), pepper...), keys: map[string][]byte{}}
}

// Resident returns the id of the resident with this phone, however it is written.
func (v *Vault) Resident(phone string) string {
	m := hmac.New(sha256.New, v.pepper)
	m.Write([]byte("resident:" + order.PhoneKey(phone)))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func (v *Vault) aead(resident string, create bool) (cipher.AEAD, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := v.keys[resident]
	if key == nil {
		if !create {
			return nil, service.ErrErased
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		v.keys[resident] = key
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts a requester under their resident's key, making it on first use.
func (v *Vault) Seal(_ context.Context, r order.Requester) (*order.Sealed, error) {
	resident := v.Resident(r.Phone)
	aead, err := v.aead(resident, true)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &order.Sealed{Resident: resident, Nonce: nonce, Box: aead.Seal(nil, nonce, plain, []byte(resident))}, nil
}

// Open decrypts sealed details, or reports service.ErrErased when the key is gone or
// was made again after an erasure.
func (v *Vault) Open(_ context.Context, s *order.Sealed) (order.Requester, error) {
	aead, err := v.aead(s.Resident, false)
	if err != nil {
		return order.Requester{}, err
	}
	if len(s.Nonce) != aead.NonceSize() {
		return order.Requester{}, service.ErrErased
	}
	plain, err := aead.Open(nil, s.Nonce, s.Box, []byte(s.Resident))
	if err != nil {
		return order.Requester{}, service.ErrErased
	}
	var r order.Requester
	if err := json.Unmarshal(plain, &r); err != nil {
		return order.Requester{}, fmt.Errorf("vault: %w", err)
	}
	return r, nil
}

// Erase forgets the key of the resident with this phone and returns their id.
func (v *Vault) Erase(_ context.Context, phone string) (string, error) {
	resident := v.Resident(phone)
	v.mu.Lock()
	delete(v.keys, resident)
	v.mu.Unlock()
	return resident, nil
}
