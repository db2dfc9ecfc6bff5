// Package vaulttest is the contract every privacy vault (service.Vault) keeps, run by
// each implementation's tests: a sealed requester opens to what was sealed and hides
// it; a resident is one person however their phone is written; erasure makes every
// seal of theirs unreadable and no one else's; a later seal of theirs gets a new key.
package vaulttest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// Run runs the contract against vaults newVault makes, a fresh one for each case.
func Run(t *testing.T, newVault func(t *testing.T) service.Vault) {
	ctx := context.Background()
	seal := func(t *testing.T, v service.Vault, r order.Requester) *order.Sealed {
		t.Helper()
		s, err := v.Seal(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	open := func(t *testing.T, v service.Vault, s *order.Sealed, want order.Requester) {
		t.Helper()
		got, err := v.Open(ctx, s)
		if err != nil || got != want {
			t.Fatalf("Open = %+v, %v; want %+v", got, err, want)
		}
	}
	erased := func(t *testing.T, v service.Vault, s *order.Sealed) {
		t.Helper()
		if got, err := v.Open(ctx, s); !errors.Is(err, service.ErrErased) {
			t.Fatalf("Open after erasure = %+v, %v; want ErrErased", got, err)
		}
	}
	zhang := order.Requester{Name: "张阿姨", Phone: "13812345678"}
	zhao := order.Requester{Name: "赵秀兰", Phone: "+86 139 1234 5678"}

	t.Run("sealed details open and are hidden", func(t *testing.T) {
		v := newVault(t)
		s := seal(t, v, zhang)
		if s.Resident != v.Resident(zhang.Phone) {
			t.Errorf("sealed under %q, the resident is %q", s.Resident, v.Resident(zhang.Phone))
		}
		for _, plain := range []string{zhang.Name, zhang.Phone, "5678"} {
			if bytes.Contains(s.Box, []byte(plain)) || bytes.Contains([]byte(s.Resident), []byte(plain)) {
				t.Errorf("the seal shows %q", plain)
			}
		}
		open(t, v, s, zhang)
		if again := seal(t, v, zhang); bytes.Equal(again.Box, s.Box) {
			t.Error("two seals of the same details are the same bytes")
		}
	})
	t.Run("one resident however the phone is written", func(t *testing.T) {
		v := newVault(t)
		for _, p := range []string{"13912345678", "+86 139 1234 5678", "139-1234-5678", "+8613912345678"} {
			if v.Resident(p) != v.Resident(zhao.Phone) {
				t.Errorf("%q is another resident than %q", p, zhao.Phone)
			}
		}
		if v.Resident(zhang.Phone) == v.Resident(zhao.Phone) {
			t.Error("two phones are one resident")
		}
	})
	t.Run("erasure forgets one resident only", func(t *testing.T) {
		v := newVault(t)
		first, second, other := seal(t, v, zhao), seal(t, v, order.Requester{Name: "赵秀兰", Phone: "13912345678"}), seal(t, v, zhang)
		id, err := v.Erase(ctx, "139-1234-5678")
		if err != nil {
			t.Fatal(err)
		}
		if id != v.Resident(zhao.Phone) {
			t.Errorf("Erase answered %q, the resident is %q", id, v.Resident(zhao.Phone))
		}
		erased(t, v, first)
		erased(t, v, second)
		open(t, v, other, zhang)
		if _, err := v.Erase(ctx, zhao.Phone); err != nil {
			t.Errorf("erasing again: %v", err)
		}
		if _, err := v.Erase(ctx, "13700000000"); err != nil {
			t.Errorf("erasing someone never sealed: %v", err)
		}
		// Coming back later, the resident is sealed under a new key; the old seals stay
		// unreadable.
		later := seal(t, v, zhao)
		open(t, v, later, zhao)
		erased(t, v, first)
	})
	t.Run("a tampered seal does not open", func(t *testing.T) {
		v := newVault(t)
		s := seal(t, v, zhang)
		bad := *s
		bad.Box = append([]byte(nil), s.Box...)
		bad.Box[len(bad.Box)-1] ^= 1
		if _, err := v.Open(ctx, &bad); err == nil {
			t.Error("a changed box opened")
		}
		moved := *s
		moved.Resident = v.Resident(zhao.Phone)
		seal(t, v, zhao) // that resident has a key
		if _, err := v.Open(ctx, &moved); err == nil {
			t.Error("a box opened under another resident's key")
		}
	})
	t.Run("a member's phone seals under their own key and is erased alone", func(t *testing.T) {
		v := newVault(t)
		mine, err := v.SealMember(ctx, "m-001", "13800001111")
		if err != nil {
			t.Fatal(err)
		}
		if mine.Resident != service.MemberKey("m-001") {
			t.Errorf("sealed under %q, want the member's key %q", mine.Resident, service.MemberKey("m-001"))
		}
		if bytes.Contains(mine.Box, []byte("1111")) {
			t.Error("the seal shows the phone")
		}
		theirs, err := v.SealMember(ctx, "m-002", "13800002222")
		if err != nil {
			t.Fatal(err)
		}
		resident := seal(t, v, order.Requester{Name: "李明", Phone: "13800001111"})
		open(t, v, mine, order.Requester{Phone: "13800001111"})
		if err := v.EraseMember(ctx, "m-001"); err != nil {
			t.Fatal(err)
		}
		erased(t, v, mine)
		open(t, v, theirs, order.Requester{Phone: "13800002222"})
		open(t, v, resident, order.Requester{Name: "李明", Phone: "13800001111"})
		if err := v.EraseMember(ctx, "m-001"); err != nil {
			t.Errorf("erasing again: %v", err)
		}
	})
}
