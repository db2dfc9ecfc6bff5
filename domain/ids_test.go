package domain_test

import (
	"strings"
	"testing"

	"github.com/redlane/redlane/domain"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"accepts a single letter", "a", true},
		{"accepts letters digits dash and underscore", "Lane-07_b", true},
		{"accepts a UUID", "0193f2a4-7c1e-7d3a-9b2e-4f5a6b7c8d9e", true},
		{"accepts 64 characters", strings.Repeat("x", 64), true},
		{"refuses empty", "", false},
		{"refuses 65 characters", strings.Repeat("x", 65), false},
		{"refuses a dot, a NATS token separator", "a.b", false},
		{"refuses the NATS wildcard star", "a*", false},
		{"refuses the NATS wildcard gt", ">", false},
		{"refuses a space", "a b", false},
		{"refuses a slash", "order/1", false},
		{"refuses Chinese", "柔桥后巷", false},
		{"refuses a NUL byte", "a\x00", false},
		{"refuses a trailing newline", "a\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestRoleValid(t *testing.T) {
	tests := []struct {
		role domain.Role
		want bool
	}{
		{domain.RoleAdmin, true},
		{domain.RoleSteward, true},
		{domain.RoleMember, true},
		{domain.RoleOperator, true},
		{domain.RoleAuditor, true},
		{domain.RoleResident, false},
		{domain.RoleSystem, false},
		{"", false},
		{"root", false},
	}
	for _, tt := range tests {
		name := "refuses " + string(tt.role)
		if tt.want {
			name = "issues " + string(tt.role)
		}
		t.Run(name, func(t *testing.T) {
			if got := tt.role.Valid(); got != tt.want {
				t.Errorf("Role(%q).Valid() = %v, want %v", tt.role, got, tt.want)
			}
		})
	}
}

func TestActorStewardOf(t *testing.T) {
	tests := []struct {
		name  string
		actor domain.Actor
		lane  string
		want  bool
	}{
		{"steward of the lane", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"l1"}}, "l1", true},
		{"steward of several lanes", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"l0", "l1"}}, "l1", true},
		{"steward of another lane", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"l2"}}, "l1", false},
		{"steward of no lane", domain.Actor{Role: domain.RoleSteward}, "l1", false},
		{"admin listing the lane is no steward", domain.Actor{Role: domain.RoleAdmin, Lanes: []string{"l1"}}, "l1", false},
		{"empty lane is nobody's", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"l1"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.actor.StewardOf(tt.lane); got != tt.want {
				t.Errorf("StewardOf(%q) = %v, want %v", tt.lane, got, tt.want)
			}
		})
	}
}
