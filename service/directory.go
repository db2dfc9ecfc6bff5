package service

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/campaign"
	"github.com/redlane/redlane/domain/category"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/query"
)

// Directory is an in-memory index of places (streets, communities, lanes), members and
// access tokens, folded from their events: it answers listings and names, and looks
// tokens up by digest. It is fed both by this
// process's own appends (so a write is visible at once) and by a follower of the log (so
// writes from other processes arrive too); applying an event twice is harmless.
type Directory struct {
	mu        sync.RWMutex
	lanes     map[string]entry[lane.State]
	members   map[string]entry[member.State]
	tokens    map[string]entry[access.State]
	byHash    map[string]string // token digest → token id
	accounts  map[string]string // username → account (token) id
	schedules map[string]entry[schedule.State]
	campaigns map[string]entry[campaign.State]
	// categories are the categories admins defined, which override or add to the
	// default catalogue.
	categories map[string]entry[category.State]

	streets     map[string]entry[street.State]
	communities map[string]entry[community.State]
}

type entry[S any] struct {
	state S
	seq   uint64
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{
		lanes:    map[string]entry[lane.State]{},
		members:  map[string]entry[member.State]{},
		tokens:   map[string]entry[access.State]{},
		byHash:   map[string]string{},
		accounts: map[string]string{},

		schedules: map[string]entry[schedule.State]{},
		campaigns: map[string]entry[campaign.State]{},

		categories: map[string]entry[category.State]{},

		streets:     map[string]entry[street.State]{},
		communities: map[string]entry[community.State]{},
	}
}

// DirectoryTypes are the aggregate types a Directory follows.
var DirectoryTypes = []string{lane.AggregateType, member.AggregateType, access.AggregateType, schedule.AggregateType, campaign.AggregateType, category.AggregateType,
	street.AggregateType, community.AggregateType}

// Apply folds one stored event in. Events at or below what the directory has seen for
// that aggregate are ignored, so replays and redeliveries are harmless.
func (d *Directory) Apply(rec domain.Recorded) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := rec.AggregateID
	switch rec.AggregateType {
	case lane.AggregateType:
		return applyTo(d.lanes, id, rec, lane.Aggregate)
	case member.AggregateType:
		return applyTo(d.members, id, rec, member.Aggregate)
	case schedule.AggregateType:
		return applyTo(d.schedules, id, rec, schedule.Aggregate)
	case campaign.AggregateType:
		return applyTo(d.campaigns, id, rec, campaign.Aggregate)
	case category.AggregateType:
		return applyTo(d.categories, id, rec, category.Aggregate)
	case street.AggregateType:
		return applyTo(d.streets, id, rec, street.Aggregate)
	case community.AggregateType:
		return applyTo(d.communities, id, rec, community.Aggregate)
	case access.AggregateType:
		if err := applyTo(d.tokens, id, rec, access.Aggregate); err != nil {
			return err
		}
		t := d.tokens[id].state
		d.byHash[t.Issued.Hash] = id
		if t.Issued.Username != "" {
			d.accounts[t.Issued.Username] = id
		}
	}
	return nil
}

func applyTo[S any](m map[string]entry[S], id string, rec domain.Recorded, agg domain.Aggregate[S]) error {
	e := m[id]
	if rec.Seq <= e.seq {
		return nil
	}
	ev, err := agg.Registry.Decode(rec.Envelope)
	if err != nil {
		return err
	}
	m[id] = entry[S]{state: agg.Evolve(e.state, ev, rec.Envelope), seq: rec.Seq}
	return nil
}

// Account returns the account named username.
func (d *Directory) Account(username string) (access.State, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.accounts[username]
	if !ok {
		return access.State{}, false
	}
	return d.tokens[id].state, true
}

// Accounts lists the accounts, by username.
func (d *Directory) Accounts() []access.State {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]access.State, 0, len(d.accounts))
	for _, id := range d.accounts {
		out = append(out, d.tokens[id].state)
	}
	slices.SortFunc(out, func(a, b access.State) int { return strings.Compare(a.Issued.Username, b.Issued.Username) })
	return out
}

// Lane returns a lane by id.
func (d *Directory) Lane(id string) (lane.State, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.lanes[id]
	return e.state, ok
}

// Member returns a member by id.
func (d *Directory) Member(id string) (member.State, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.members[id]
	return e.state, ok
}

// TokenByHash returns the token whose secret has this digest.
func (d *Directory) TokenByHash(hash string) (access.State, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.byHash[hash]
	if !ok {
		return access.State{}, false
	}
	return d.tokens[id].state, true
}

// Token returns a token by its id.
func (d *Directory) Token(id string) (access.State, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t, ok := d.tokens[id]
	if !ok {
		return access.State{}, false
	}
	return t.state, true
}

// Lanes lists lanes by id.
func (d *Directory) Lanes() []lane.State {
	return sorted(d, d.lanes, func(s lane.State) string { return s.ID })
}

// Members lists members by id.
func (d *Directory) Members() []member.State {
	return sorted(d, d.members, func(s member.State) string { return s.ID })
}

func sorted[S any](d *Directory, m map[string]entry[S], key func(S) string) []S {
	d.mu.RLock()
	out := make([]S, 0, len(m))
	for _, e := range m {
		out = append(out, e.state)
	}
	d.mu.RUnlock()
	slices.SortFunc(out, func(a, b S) int { return cmp.Compare(key(a), key(b)) })
	return out
}

// Schedules lists periodic schedules by id.
func (d *Directory) Schedules() []schedule.State {
	return sorted(d, d.schedules, func(s schedule.State) string { return s.ID })
}

// Campaigns lists thematic campaigns by id.
func (d *Directory) Campaigns() []campaign.State {
	return sorted(d, d.campaigns, func(s campaign.State) string { return s.ID })
}

// Categories lists the categories admins defined, by code, as the catalogue holds them.
func (d *Directory) Categories() []order.Category {
	states := sorted(d, d.categories, func(s category.State) string { return s.Code })
	out := make([]order.Category, len(states))
	for i, s := range states {
		out[i] = s.Category()
	}
	return out
}

// StoryNames are the lane's and the members' names an order's story is worded with,
// from the directory.
func (s *Service) StoryNames(laneID string, recs []domain.Recorded) query.StoryNames {
	names := query.StoryNames{Members: map[string]member.Profile{}}
	if l, ok := s.Dir.Lane(laneID); ok {
		names.Lane, names.Place = l.ID, lane.Registered{Name: l.Name, Community: l.Community, Street: l.Street, Station: l.Station}
		names.CommunityName, _ = s.Dir.CommunityName(l.Community)
		names.StreetName, _ = s.Dir.StreetName(l.Street)
	}
	for _, id := range query.StoryMembers(recs) {
		if m, ok := s.Dir.Member(id); ok {
			names.Members[id] = m.Profile
		}
	}
	return names
}

// Street returns a street office by id.
func (d *Directory) Street(id string) (street.State, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.streets[id]
	return e.state, ok
}

// Community returns a community by id.
func (d *Directory) Community(id string) (community.State, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.communities[id]
	return e.state, ok
}

// Streets lists street offices by id.
func (d *Directory) Streets() []street.State {
	return sorted(d, d.streets, func(s street.State) string { return s.ID })
}

// Communities lists communities by id.
func (d *Directory) Communities() []community.State {
	return sorted(d, d.communities, func(s community.State) string { return s.ID })
}

// StreetName returns the name of a registered street office; ok is false when the
// street is not registered.
func (d *Directory) StreetName(id string) (name string, ok bool) {
	s, ok := d.Street(id)
	return s.Name, ok && s.Name != ""
}

// CommunityName returns the name of a registered community; ok is false when the
// community is not registered.
func (d *Directory) CommunityName(id string) (name string, ok bool) {
	c, ok := d.Community(id)
	return c.Name, ok && c.Name != ""
}

// Tokens lists the tokens that are not people's accounts (kiosks, scripts, hotline
// tools), oldest first: their ids are UUIDv7s.
func (d *Directory) Tokens() []access.State {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]access.State, 0, len(d.tokens)-len(d.accounts))
	for _, e := range d.tokens {
		if e.state.Issued.Username == "" {
			out = append(out, e.state)
		}
	}
	slices.SortFunc(out, func(a, b access.State) int { return strings.Compare(a.ID, b.ID) })
	return out
}
