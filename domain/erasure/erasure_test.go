package erasure_test

import (
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/erasure"
)

func TestDecide(t *testing.T) {
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	for _, c := range []struct {
		name   string
		exists bool
		cmd    erasure.Erase
		by     domain.Actor
		kind   domain.Kind
	}{
		{"an admin records an erasure", false, erasure.Erase{Resident: "5f1c"}, admin, 0},
		{"a steward may not", false, erasure.Erase{Resident: "5f1c"}, domain.Actor{Role: domain.RoleSteward}, domain.KindForbidden},
		{"the resident is required", false, erasure.Erase{}, admin, domain.KindInvalid},
		{"recorded twice", true, erasure.Erase{Resident: "5f1c"}, admin, domain.KindConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, err := erasure.Decide(erasure.State{}, c.cmd, erasure.Env{Actor: c.by, Exists: c.exists})
			if c.kind != 0 {
				if domain.KindOf(err) != c.kind || len(evs) != 0 {
					t.Fatalf("got %v, %v; want refused %v", evs, err, c.kind)
				}
				return
			}
			if err != nil || len(evs) != 1 || evs[0].(erasure.Erased).Resident != "5f1c" {
				t.Fatalf("got %v, %v", evs, err)
			}
		})
	}
}
