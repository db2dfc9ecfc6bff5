// Package access is an access token: who may do what through the API. A person's
// account is a token with a username, whose sessions begin with a password check; its
// password's hash is kept outside the log (service.Credentials).
//
// Business rules:
//  1. Only an admin issues or revokes tokens and accounts.
//  2. A steward token is bound to one or more lanes, a member token to one member, a
//     community token to one or more communities and a street token to one or more
//     streets; other roles are bound to nothing. Each place is named once.
//  3. The secret is never stored: only its SHA-256 digest is in the event.
//  4. A revoked token stays revoked; a revoked account signs nobody in.
//  5. A username is lower-case letters, digits, '.', '_' or '-', 3 to 32 of them,
//     starting with a letter or digit, and names one account for good.
package access

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/redlane/redlane/domain"
)

// AggregateType is the token's aggregate type. Permanent.
const AggregateType = "token"

// Wire names of the token's events. Permanent.
const (
	TypeIssued  = "redlane.token.issued.v1"
	TypeRevoked = "redlane.token.revoked.v1"
)

// Issued: an admin issued a token.
type Issued struct {
	Role   domain.Role `json:"role"`
	Lanes  []string    `json:"lanes,omitempty"`
	Member string      `json:"member,omitempty"`
	// Communities bind a community token; Streets a street token.
	Communities []string `json:"communities,omitempty"`
	Streets     []string `json:"streets,omitempty"`
	Name        string   `json:"name"`
	Hash        string   `json:"hash"` // hex SHA-256 of the secret
	// Username makes the token a person's account, signed in with a password.
	Username string `json:"username,omitempty"`
}

// ValidUsername reports whether u may name an account (rule 5).
func ValidUsername(u string) bool {
	if len(u) < 3 || len(u) > 32 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// AccountID is the id of the account named username: one account per username, for
// good, because a second issue under the same id is refused (rule 5). An id may not hold
// '.' (it is a token of the account's subject), so a username's dots are written D:
// usernames are lower-case, so the upper-case D names a dot and nothing else.
func AccountID(username string) string { return "acct-" + strings.ReplaceAll(username, ".", "D") }

// Revoked: an admin revoked a token.
type Revoked struct{}

// EventType names the event on the wire.
func (Issued) EventType() string { return TypeIssued }

// EventType names the event on the wire.
func (Revoked) EventType() string { return TypeRevoked }

// Events is the registry of the token's event types.
var Events = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Def[Issued](), domain.Def[Revoked]())
	return r
}()

// State is a token as its events have made it.
type State struct {
	ID      string
	Issued  Issued
	Revoked bool
}

// Issue asks for a token. The caller has checked that the lanes, member, communities
// and streets exist.
type Issue Issued

// Revoke withdraws a token.
type Revoke struct{}

// Command is any of the token's commands.
type Command interface{ isCommand() }

func (Issue) isCommand()  {}
func (Revoke) isCommand() {}

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor  domain.Actor
	Exists bool // whether the token has been issued: its stream has events
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Rule 1 holds for every command; each command's own rules are in its function.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleAdmin {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages tokens")
	}
	switch c := cmd.(type) {
	case Issue:
		return decideIssue(s, c, env)
	case Revoke:
		return decideRevoke(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown token command %T", cmd)
}

// decideIssue enforces rules 2, 3 and 5: a steward token is bound to lanes, a member
// token to a member, a community token to communities, a street token to streets, others
// to nothing; only the secret's digest is recorded, once per token; a username is well
// formed and taken once.
func decideIssue(s State, c Issue, env Env) ([]domain.Event, error) {
	var v domain.Validator
	v.Check(c.Role.Valid(), "role", "must be admin, steward, member, operator, auditor, community or street")
	v.Check(c.Role != domain.RoleSteward || len(c.Lanes) > 0, "lanes", "a steward token needs at least one lane")
	v.Check(c.Role == domain.RoleSteward || len(c.Lanes) == 0, "lanes", "only steward tokens are bound to lanes")
	v.Check(c.Role != domain.RoleMember || c.Member != "", "member", "a member token needs a member id")
	v.Check(c.Role == domain.RoleMember || c.Member == "", "member", "only member tokens are bound to a member")
	v.Check(c.Role != domain.RoleCommunity || len(c.Communities) > 0, "communities", "a community token needs at least one community")
	v.Check(c.Role == domain.RoleCommunity || len(c.Communities) == 0, "communities", "only community tokens are bound to communities")
	v.Check(c.Role != domain.RoleStreet || len(c.Streets) > 0, "streets", "a street token needs at least one street")
	v.Check(c.Role == domain.RoleStreet || len(c.Streets) == 0, "streets", "only street tokens are bound to streets")
	_, hexErr := hex.DecodeString(c.Hash)
	v.Check(len(c.Hash) == 64 && hexErr == nil, "hash", "must be a hex SHA-256 digest")
	for i, l := range c.Lanes {
		v.Check(domain.ValidID(l) && !slices.Contains(c.Lanes[:i], l), fmt.Sprintf("lanes[%d]", i), "must be a lane id, given once")
	}
	for i, cm := range c.Communities {
		v.Check(domain.ValidID(cm) && !slices.Contains(c.Communities[:i], cm), fmt.Sprintf("communities[%d]", i), "must be a community id, given once")
	}
	for i, st := range c.Streets {
		v.Check(domain.ValidID(st) && !slices.Contains(c.Streets[:i], st), fmt.Sprintf("streets[%d]", i), "must be a street id, given once")
	}
	v.Check(c.Member == "" || domain.ValidID(c.Member), "member", domain.IDRule)
	v.Check(len([]rune(strings.TrimSpace(c.Name))) <= 50, "name", "is too long")
	v.Check(c.Username == "" || ValidUsername(c.Username), "username", "must be 3 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if env.Exists && c.Username != "" {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeAccountExists, "the username %s is taken", c.Username)
	}
	if env.Exists {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeTokenExists, "token %s already exists", s.ID)
	}
	c.Name = strings.TrimSpace(c.Name)
	return []domain.Event{Issued(c)}, nil
}

// decideRevoke enforces rule 4: an issued token is revoked once and stays revoked;
// revoking it again changes nothing.
func decideRevoke(s State, _ Revoke, env Env) ([]domain.Event, error) {
	if !env.Exists {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeTokenNotFound, "no such token")
	}
	if s.Revoked {
		return nil, nil
	}
	return []domain.Event{Revoked{}}, nil
}

// Evolve applies a token event.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	switch e := ev.(type) {
	case Issued:
		s.Issued = e
	case Revoked:
		s.Revoked = true
	}
	return s
}

// Aggregate describes the token to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
