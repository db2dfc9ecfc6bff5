package memstore

import (
	"context"
	"crypto/rand"
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
func (v *Vault) Resident(phone string) string { return service.ResidentID(v.pepper, phone) }

// key is a resident's key, made when create and none is kept.
func (v *Vault) key(resident string, create bool) ([]byte, error) {
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
	return key, nil
}

// Seal encrypts a requester under their resident's key, making it on first use.
func (v *Vault) Seal(_ context.Context, r order.Requester) (*order.Sealed, error) {
	resident := v.Resident(r.Phone)
	key, err := v.key(resident, true)
	if err != nil {
		return nil, err
	}
	return service.SealWith(key, resident, r)
}

// Open decrypts sealed details, or reports service.ErrErased when the key is gone or
// was made again after an erasure.
func (v *Vault) Open(_ context.Context, s *order.Sealed) (order.Requester, error) {
	key, err := v.key(s.Resident, false)
	if err != nil {
		return order.Requester{}, err
	}
	return service.OpenWith(key, s)
}

// Erase forgets the key of the resident with this phone and returns their id.
func (v *Vault) Erase(_ context.Context, phone string) (string, error) {
	resident := v.Resident(phone)
	v.mu.Lock()
	delete(v.keys, resident)
	v.mu.Unlock()
	return resident, nil
}

// SealMember encrypts a member's phone under the member's own key, making it on first
// use.
func (v *Vault) SealMember(_ context.Context, member, phone string) (*order.Sealed, error) {
	id := service.MemberKey(member)
	key, err := v.key(id, true)
	if err != nil {
		return nil, err
	}
	return service.SealWith(key, id, order.Requester{Phone: phone})
}

// EraseMember forgets the member's key.
func (v *Vault) EraseMember(_ context.Context, member string) error {
	v.mu.Lock()
	delete(v.keys, service.MemberKey(member))
	v.mu.Unlock()
	return nil
}
