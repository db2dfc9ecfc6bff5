package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/member"
)

// RegisterMember registers a member. Their phone is sealed under their own key before
// it is written.
func (s *Service) RegisterMember(ctx context.Context, m domain.Meta, id string, cmd member.Register) (_ member.State, err error) {
	defer s.observe("member", "register", time.Now(), &err)
	return s.runMember(ctx, m, id, cmd)
}

// UpdateMember changes a member's profile, whole: name, community, phone, skills and
// teams.
func (s *Service) UpdateMember(ctx context.Context, m domain.Meta, id string, cmd member.Update) (_ member.State, err error) {
	defer s.observe("member", "update", time.Now(), &err)
	if !domain.ValidID(id) {
		return member.State{}, domain.Refuse(domain.KindNotFound, domain.CodeMemberNotFound, "no such member")
	}
	return s.runMember(ctx, m, id, cmd)
}

func (s *Service) runMember(ctx context.Context, m domain.Meta, id string, cmd member.Command) (member.State, error) {
	if !domain.ValidID(id) {
		return member.State{}, domain.Invalid("id", domain.IDRule)
	}
	snap, recs, err := s.members.Execute(ctx, id, m, func(snap domain.Snapshot[member.State]) ([]domain.Event, error) {
		st := snap.State
		if st.PhoneSealed != nil && m.Actor.Role == domain.RoleAdmin {
			phone, err := s.openPhone(ctx, st)
			if err != nil {
				return nil, err
			}
			st.Phone = phone
		}
		events, err := member.Decide(st, cmd, member.Env{Actor: m.Actor, Exists: snap.Exists()})
		if err != nil {
			return nil, err
		}
		return s.sealMember(ctx, id, events)
	})
	if err != nil {
		return member.State{}, err
	}
	return snap.State, s.applyAll(recs)
}

// sealMember replaces the plain phone in a member's new events by one sealed under the
// member's key, so that no reader of the log sees it.
func (s *Service) sealMember(ctx context.Context, id string, events []domain.Event) ([]domain.Event, error) {
	if s.cfg.Vault == nil {
		return events, nil
	}
	seal := func(p *member.Profile) error {
		if p.Phone == "" {
			return nil
		}
		sealed, err := s.cfg.Vault.SealMember(ctx, id, p.Phone)
		if err != nil {
			return err
		}
		p.Phone, p.PhoneSealed = "", sealed
		return nil
	}
	for i, ev := range events {
		var err error
		switch e := ev.(type) {
		case member.Registered:
			err = seal((*member.Profile)(&e))
			events[i] = e
		case member.Updated:
			err = seal((*member.Profile)(&e))
			events[i] = e
		}
		if err != nil {
			return nil, err
		}
	}
	return events, nil
}

// openPhone is a member's phone, opened from its seal: "" when they have none or it was
// erased.
func (s *Service) openPhone(ctx context.Context, m member.State) (string, error) {
	if m.PhoneSealed == nil {
		return m.Phone, nil
	}
	if s.cfg.Vault == nil {
		return "", nil
	}
	r, err := s.cfg.Vault.Open(ctx, m.PhoneSealed)
	if errors.Is(err, ErrErased) {
		return "", nil
	}
	return r.Phone, err
}

// MemberPhone is member m's phone as actor may see it (member.ShowsPhone): the number,
// and shown true; or "" and false for whoever may not see it.
func (s *Service) MemberPhone(ctx context.Context, a domain.Actor, m member.State) (phone string, shown bool, err error) {
	communityOf := func(id string) string {
		l, _ := s.Dir.Lane(id)
		return l.Community
	}
	if !member.ShowsPhone(a, m, communityOf) {
		return "", false, nil
	}
	phone, err = s.openPhone(ctx, m)
	return phone, err == nil, err
}

// EraseMemberPhone destroys the member's key (admin only): every phone of theirs in the
// log becomes unreadable, and the member shows with no phone until one is given again.
// The erasure is recorded as a resident's is, naming the key (MemberKey), not the phone.
func (s *Service) EraseMemberPhone(ctx context.Context, a domain.Actor, id string) (key string, err error) {
	defer s.observe("member", "erase_phone", time.Now(), &err)
	if a.Role != domain.RoleAdmin {
		return "", domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin erases a member's phone")
	}
	if !domain.ValidID(id) {
		return "", domain.Invalid("member", domain.IDRule)
	}
	// The member's own stream, not the directory: `redlane privacy erase` runs with no
	// directory loaded.
	if snap, err := s.members.Load(ctx, id); err != nil {
		return "", err
	} else if !snap.Exists() {
		return "", domain.Invalid("member", "no such member: "+id)
	}
	if s.cfg.Vault == nil {
		return "", domain.Errorf(domain.KindInternal, "no vault is configured")
	}
	if err := s.cfg.Vault.EraseMember(ctx, id); err != nil {
		return "", err
	}
	key = MemberKey(id)
	if err := s.recordErasure(ctx, a, key); err != nil {
		return key, fmt.Errorf("the member's phone is erased, but the record of it was not written: %w", err)
	}
	return key, nil
}
