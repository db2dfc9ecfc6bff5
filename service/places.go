package service

import (
	"context"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/street"
)

// RegisterStreet registers a street office.
func (s *Service) RegisterStreet(ctx context.Context, m domain.Meta, id string, cmd street.Register) (_ street.State, err error) {
	defer s.observe("street", "register", time.Now(), &err)
	return s.runStreet(ctx, m, id, cmd)
}

// RenameStreet changes a street office's name.
func (s *Service) RenameStreet(ctx context.Context, m domain.Meta, id string, cmd street.Rename) (_ street.State, err error) {
	defer s.observe("street", "rename", time.Now(), &err)
	if !domain.ValidID(id) {
		return street.State{}, domain.Refuse(domain.KindNotFound, domain.CodeStreetNotFound, "no such street")
	}
	return s.runStreet(ctx, m, id, cmd)
}

func (s *Service) runStreet(ctx context.Context, m domain.Meta, id string, cmd street.Command) (street.State, error) {
	if !domain.ValidID(id) {
		return street.State{}, domain.Invalid("id", domain.IDRule)
	}
	snap, recs, err := s.streets.Execute(ctx, id, m, func(snap domain.Snapshot[street.State]) ([]domain.Event, error) {
		return street.Decide(snap.State, cmd, street.Env{Actor: m.Actor, Exists: snap.Exists()})
	})
	if err != nil {
		return street.State{}, err
	}
	return snap.State, s.applyAll(recs)
}

// RegisterCommunity registers a community in a registered street office.
func (s *Service) RegisterCommunity(ctx context.Context, m domain.Meta, id string, cmd community.Register) (_ community.State, err error) {
	defer s.observe("community", "register", time.Now(), &err)
	_, known := s.Dir.Street(cmd.Street)
	return s.runCommunity(ctx, m, id, cmd, known)
}

// RenameCommunity changes a community's name.
func (s *Service) RenameCommunity(ctx context.Context, m domain.Meta, id string, cmd community.Rename) (_ community.State, err error) {
	defer s.observe("community", "rename", time.Now(), &err)
	if !domain.ValidID(id) {
		return community.State{}, domain.Refuse(domain.KindNotFound, domain.CodeCommunityNotFound, "no such community")
	}
	return s.runCommunity(ctx, m, id, cmd, false)
}

func (s *Service) runCommunity(ctx context.Context, m domain.Meta, id string, cmd community.Command, streetKnown bool) (community.State, error) {
	if !domain.ValidID(id) {
		return community.State{}, domain.Invalid("id", domain.IDRule)
	}
	snap, recs, err := s.communities.Execute(ctx, id, m, func(snap domain.Snapshot[community.State]) ([]domain.Event, error) {
		return community.Decide(snap.State, cmd, community.Env{Actor: m.Actor, Exists: snap.Exists(), StreetExists: streetKnown})
	})
	if err != nil {
		return community.State{}, err
	}
	return snap.State, s.applyAll(recs)
}

// communityStreet is the street of a registered community, or "" when the community is
// not registered (lanes may name communities from before places had names).
func (s *Service) communityStreet(id string) string {
	c, _ := s.Dir.Community(id)
	return c.Street
}
