// Package vault keeps what never goes on the event log, in NATS KV buckets that Redlane's
// NATS readers are denied: the residents' keys (the privacy vault, crypto-shredding),
// the secrets every process shares (the receipt key, the residents' pepper), sign-in
// sessions and accounts' password hashes.
package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// VaultBucket holds residents' keys, one per resident, outside the event stream. Keys
// are erased with a purge, which leaves no earlier value behind. Permanent.
const VaultBucket = "REDLANE_RESIDENT_KEYS"

// Vault is the service.Vault on a NATS KV bucket: a resident is known by a keyed digest
// of their phone number, and their name and phone are sealed with AES-256-GCM under a
// key of their own.
type Vault struct {
	kv     jetstream.KeyValue
	stream jetstream.Stream
	pepper []byte
	cache  keyCache // off until CacheKeys
}

var _ service.Vault = (*Vault)(nil)

// Open opens (creating) the key bucket. pepper keys the digest that names
// residents, so a phone number cannot be recovered from a key's name.
func Open(ctx context.Context, js jetstream.JetStream, pepper []byte, replicas int) (*Vault, error) {
	// The bucket's stream is made by hand: erasing overwrites a key's message, which
	// the streams that key-value buckets make for themselves deny for good.
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: "KV_" + VaultBucket, Description: "Redlane residents' keys (crypto-shredding)",
		Subjects: []string{"$KV." + VaultBucket + ".>"}, MaxMsgsPerSubject: 1, Discard: jetstream.DiscardNew,
		Storage: jetstream.FileStorage, Replicas: max(replicas, 1), AllowRollup: true, DenyDelete: false,
		AllowDirect: true, Duplicates: 2 * time.Minute, MaxMsgs: -1, MaxBytes: -1, MaxMsgSize: -1, MaxConsumers: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	kv, err := js.KeyValue(ctx, VaultBucket)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return &Vault{kv: kv, stream: st, pepper: pepper}, nil
}

// Resident returns the id of the resident with this phone, however it is written.
func (v *Vault) Resident(phone string) string { return service.ResidentID(v.pepper, phone) }

func rawDigits(phone string) string {
	out := make([]byte, 0, len(phone))
	for i := 0; i < len(phone); i++ {
		if c := phone[i]; c >= '0' && c <= '9' {
			out = append(out, c)
		}
	}
	return string(out)
}

func (v *Vault) key(ctx context.Context, resident string, create bool) ([]byte, error) {
	name := "resident." + resident
	now := time.Now()
	if k, ok := v.cache.get(name, now); ok {
		return k, nil
	}
	epoch := v.cache.start()
	e, err := v.kv.Get(ctx, name)
	if err == nil {
		v.cache.put(name, e.Value(), epoch, now)
		return e.Value(), nil
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if !create {
		return nil, service.ErrErased
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if _, err := v.kv.Create(ctx, name, k); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return v.key(ctx, resident, false) // another writer made it first
		}
		return nil, fmt.Errorf("vault: %w", err)
	}
	v.cache.put(name, k, epoch, now)
	return k, nil
}

// Seal encrypts a requester under their resident's key.
func (v *Vault) Seal(ctx context.Context, r order.Requester) (*order.Sealed, error) {
	resident := v.Resident(r.Phone)
	key, err := v.key(ctx, resident, true)
	if err != nil {
		return nil, err
	}
	return service.SealWith(key, resident, r)
}

// Open decrypts sealed details, or reports service.ErrErased when the key is gone (or
// was replaced after an erasure).
func (v *Vault) Open(ctx context.Context, s *order.Sealed) (order.Requester, error) {
	key, err := v.key(ctx, s.Resident, false)
	if err != nil {
		return order.Requester{}, err
	}
	return service.OpenWith(key, s)
}

// Erase destroys the resident's key: its message is overwritten on disk (a secure
// delete), and a purge marker stands in its place.
func (v *Vault) Erase(ctx context.Context, phone string) (string, error) {
	// Keys made before numbers were normalised are named by all the digits given.
	if old := service.ResidentOfDigits(v.pepper, rawDigits(phone)); old != v.Resident(phone) {
		if _, err := v.erase(ctx, old); err != nil {
			return "", err
		}
	}
	return v.erase(ctx, v.Resident(phone))
}

func (v *Vault) erase(ctx context.Context, resident string) (string, error) {
	name := "resident." + resident
	v.cache.forget(name)
	defer v.cache.forget(name) // and anything read while erasing
	e, err := v.kv.Get(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return resident, nil // nothing to erase, or erased already
	case err != nil:
		return "", fmt.Errorf("vault: erase: %w", err)
	}
	if err := v.stream.SecureDeleteMsg(ctx, e.Revision()); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", fmt.Errorf("vault: erase: %w", err)
	}
	if err := v.kv.Purge(ctx, name); err != nil {
		return "", fmt.Errorf("vault: erase: %w", err)
	}
	return resident, nil
}

// SealMember encrypts a member's phone under the member's own key.
func (v *Vault) SealMember(ctx context.Context, member, phone string) (*order.Sealed, error) {
	id := service.MemberKey(member)
	key, err := v.key(ctx, id, true)
	if err != nil {
		return nil, err
	}
	return service.SealWith(key, id, order.Requester{Phone: phone})
}

// EraseMember destroys the member's key, as Erase does a resident's.
func (v *Vault) EraseMember(ctx context.Context, member string) error {
	_, err := v.erase(ctx, service.MemberKey(member))
	return err
}
