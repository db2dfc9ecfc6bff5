package service

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/redlane/redlane/domain/order"
)

// What every Vault does the same way, whatever keeps the keys: name a resident by a
// keyed digest of their phone, and seal their details with AES-256-GCM under their
// own key, the resident's id bound in as associated data.

// ResidentID is the id of the resident with this phone (order.PhoneKey: however it is
// written), keyed by pepper so that the id tells nothing of the number.
func ResidentID(pepper []byte, phone string) string {
	return residentOfKey(pepper, order.PhoneKey(phone))
}

func residentOfKey(pepper []byte, key string) string {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte("resident:" + key))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// ResidentOfDigits is ResidentID of a phone's raw digits, as keys were named before
// numbers were normalised.
func ResidentOfDigits(pepper []byte, digits string) string { return residentOfKey(pepper, digits) }

// SealWith encrypts r under key, for resident.
func SealWith(key []byte, resident string, r order.Requester) (*order.Sealed, error) {
	aead, err := gcm(key)
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

// OpenWith decrypts s with key, or reports ErrErased when key is not the one it was
// sealed with (the resident's key was destroyed, and perhaps made again since).
func OpenWith(key []byte, s *order.Sealed) (order.Requester, error) {
	aead, err := gcm(key)
	if err != nil {
		return order.Requester{}, err
	}
	if len(s.Nonce) != aead.NonceSize() {
		return order.Requester{}, ErrErased
	}
	plain, err := aead.Open(nil, s.Nonce, s.Box, []byte(s.Resident))
	if err != nil {
		return order.Requester{}, ErrErased
	}
	var r order.Requester
	if err := json.Unmarshal(plain, &r); err != nil {
		return order.Requester{}, fmt.Errorf("vault: %w", err)
	}
	return r, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
