package domain

import "slices"

// Role is what an access token lets its holder do.
type Role string

// The roles. Resident and System are never issued as tokens: a resident proves a receipt,
// and the system acts on deadlines and schedules.
const (
	RoleAdmin    Role = "admin"
	RoleSteward  Role = "steward"
	RoleMember   Role = "member"
	RoleOperator Role = "operator"
	RoleAuditor  Role = "auditor"
	// RoleCommunity is community staff (社区): bound to communities, they take the orders
	// their lanes escalate to the community.
	RoleCommunity Role = "community"
	// RoleStreet is street-office staff (街道): bound to streets, they take the orders
	// escalated to the street office.
	RoleStreet   Role = "street"
	RoleResident Role = "resident"
	RoleSystem   Role = "system"
)

// Valid reports whether r may be issued as a token.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleSteward, RoleMember, RoleOperator, RoleAuditor, RoleCommunity, RoleStreet:
		return true
	}
	return false
}

// Actor is who issues a command: a token's holder, a resident with a receipt, or the system.
type Actor struct {
	ID     string   // token id, "resident" or "system"
	Name   string   // shown in histories
	Role   Role     //
	Lanes  []string // a steward's lanes
	Member string   // a member token's member id
	// Communities are a community token's communities; Streets a street token's streets.
	Communities []string
	Streets     []string
}

// StewardOf reports whether the actor is a steward of lane.
func (a Actor) StewardOf(lane string) bool {
	return a.Role == RoleSteward && slices.Contains(a.Lanes, lane)
}

// CommunityStaffOf reports whether the actor is community staff of community.
func (a Actor) CommunityStaffOf(community string) bool {
	return a.Role == RoleCommunity && community != "" && slices.Contains(a.Communities, community)
}

// StreetStaffOf reports whether the actor is street-office staff of street.
func (a Actor) StreetStaffOf(street string) bool {
	return a.Role == RoleStreet && street != "" && slices.Contains(a.Streets, street)
}
