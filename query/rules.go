// Package query is Redlane's read side, beside the command side (package service): the
// rules by which what the views hold is read, written once — who may read which order,
// "overdue as of now", the call-back list — and the index through which a lane's backlog
// and the order search are paged however many orders a district holds.
//
// It does no I/O: an adapter feeds the index the backlog view's documents (a watch on
// the view's bucket) and callers pass the moment they read as of.
package query

import (
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
)

// PastDue reports whether a live order has passed a deadline of its current cycle that
// it has not met, as of now, whether or not the system has marked it yet.
func PastDue(it backlog.Item, now time.Time) bool {
	switch it.Status {
	case order.StatusOpen, order.StatusDispatched:
		return now.After(it.AcceptBy) || now.After(it.CompleteBy)
	case order.StatusAccepted:
		return now.After(it.CompleteBy)
	}
	return false
}

// Overdue reports whether an order is overdue as of now: marked so, or past due.
func Overdue(it backlog.Item, now time.Time) bool {
	return it.Overdue || PastDue(it, now)
}

// DueDeadlines lists the deadlines of a live order's current cycle that have passed by
// now unmet: the accept deadline while nobody has accepted, the completion deadline
// until the order is completed.
func DueDeadlines(it backlog.Item, now time.Time) []order.DeadlineKind {
	var out []order.DeadlineKind
	switch it.Status {
	case order.StatusOpen, order.StatusDispatched:
		if now.After(it.AcceptBy) {
			out = append(out, order.DeadlineAccept)
		}
		if now.After(it.CompleteBy) {
			out = append(out, order.DeadlineComplete)
		}
	case order.StatusAccepted:
		if now.After(it.CompleteBy) {
			out = append(out, order.DeadlineComplete)
		}
	}
	return out
}

// AwaitingCallback reports whether a completed order has waited for its rating longer
// than after: it then leaves the working list for the call-back list (回访), where a
// steward rings the resident for the rating.
func AwaitingCallback(it backlog.Item, now time.Time, after time.Duration) bool {
	return it.Status == order.StatusCompleted && it.CompletedAt != nil && after > 0 && !now.Before(it.CompletedAt.Add(after))
}

// Place is where an order is and whose it is: what the read rules look at. Reached is
// the highest level it was ever escalated to ("" or lane: never).
type Place struct {
	Lane, Community, Street, Assignee string
	Reached                           order.Level
}

// PlaceOf is where the order in s is and whose it is.
func PlaceOf(s order.State) Place {
	return Place{Lane: s.Lane, Community: s.Community, Street: s.Street, Assignee: s.Assignee, Reached: s.Reached}
}

// MayRead reports whether actor may read an order at place. memberCommunity is the
// community of the actor's member, when the actor is one ("" otherwise). Admins,
// auditors, hotline operators and residents (by receipt) read any order; a steward the
// orders of the lanes they keep; a member the orders dispatched to them and those of
// their own community; community staff the orders of their communities that are or
// were escalated to the community (or beyond), street staff those of their streets that
// are or were escalated to the street.
func MayRead(actor domain.Actor, p Place, memberCommunity string) bool {
	switch actor.Role {
	case domain.RoleAdmin, domain.RoleAuditor, domain.RoleOperator, domain.RoleResident:
		return true
	case domain.RoleSteward:
		return actor.StewardOf(p.Lane)
	case domain.RoleMember:
		if actor.Member == "" {
			return false
		}
		return actor.Member == p.Assignee || (memberCommunity != "" && memberCommunity == p.Community)
	case domain.RoleCommunity:
		return actor.CommunityStaffOf(p.Community) && p.Reached.AtLeast(order.LevelCommunity)
	case domain.RoleStreet:
		return actor.StreetStaffOf(p.Street) && p.Reached.AtLeast(order.LevelStreet)
	}
	return false
}

// SeesPhone reports whether actor sees the requester's whole phone number of an order at
// place in status: the lane's stewards always; the member it is dispatched to or accepted
// by while it is in their hands. Everyone else sees it masked (138****5678).
func SeesPhone(actor domain.Actor, p Place, status order.Status) bool {
	if actor.Role == domain.RoleSteward && actor.StewardOf(p.Lane) {
		return true
	}
	inHand := status == order.StatusDispatched || status == order.StatusAccepted
	return actor.Role == domain.RoleMember && actor.Member != "" && actor.Member == p.Assignee && inHand
}

// MaySearch reports whether actor may search orders at all: the people who work with
// many orders (each then finds only what MayRead lets them). Residents find theirs by
// receipt; members see theirs on their task page.
func MaySearch(actor domain.Actor) bool {
	switch actor.Role {
	case domain.RoleAdmin, domain.RoleAuditor, domain.RoleOperator, domain.RoleSteward, domain.RoleCommunity, domain.RoleStreet:
		return true
	}
	return false
}

// MayListEscalations reports whether actor may list the orders escalated to level, and
// which communities and streets the listing is held to (nil: any): admins and auditors
// list every level everywhere; community staff the community level in their
// communities; street staff the street level in their streets (never nil for them, so
// an office bound to nothing lists nothing).
func MayListEscalations(actor domain.Actor, level order.Level) (ok bool, communities, streets []string) {
	switch actor.Role {
	case domain.RoleAdmin, domain.RoleAuditor:
		return true, nil, nil
	case domain.RoleCommunity:
		return level == order.LevelCommunity, append([]string{}, actor.Communities...), nil
	case domain.RoleStreet:
		return level == order.LevelStreet, nil, append([]string{}, actor.Streets...)
	}
	return false, nil, nil
}
