package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/erasure"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
)

// Vault keeps residents' keys outside the event stream and seals their personal details
// with them (crypto-shredding): destroying a resident's key erases them from every event
// that carries their details, while the rest of the history still replays.
type Vault interface {
	// Seal encrypts a requester's name and phone under the key of the resident with that
	// phone, making the key on first use.
	Seal(ctx context.Context, r order.Requester) (*order.Sealed, error)
	// Open decrypts sealed details; ErrErased when the resident's key is gone.
	Open(ctx context.Context, s *order.Sealed) (order.Requester, error)
	// Erase destroys the key of the resident with this phone and returns its id.
	Erase(ctx context.Context, phone string) (string, error)
	// Resident returns the key id of the resident with this phone.
	Resident(phone string) string
	// SealMember encrypts a member's phone (as a Requester with only Phone set) under
	// the member's own key, whose id is MemberKey(member), making the key on first use.
	// Open opens it.
	SealMember(ctx context.Context, member, phone string) (*order.Sealed, error)
	// EraseMember destroys the member's key: every phone of theirs in the log becomes
	// unreadable. A later SealMember makes a new key.
	EraseMember(ctx context.Context, member string) error
}

// MemberKey is the id of a member's key in the vault. Residents' key ids are hex
// digests, so the two never meet.
func MemberKey(member string) string { return "member-" + member }

// ErrErased means a resident's details were erased at their request.
var ErrErased = errors.New("the resident's details were erased")

// Erased is how erased details show.
var Erased = order.Requester{Name: "（已删除）", Phone: "（已删除）"}

// Requester returns an order's requester, opening sealed details; erased details show as
// Erased and erased is true.
func (s *Service) Requester(ctx context.Context, st order.State) (r order.Requester, erased bool, err error) {
	if st.Sealed == nil {
		return st.Requester, false, nil
	}
	if s.cfg.Vault == nil {
		return Erased, true, nil
	}
	memo := openedFrom(ctx)
	if r, ok := memo.get(st.Sealed); ok {
		return r, false, nil
	}
	r, err = s.cfg.Vault.Open(ctx, st.Sealed)
	if errors.Is(err, ErrErased) {
		return Erased, true, nil
	}
	if err == nil {
		memo.put(st.Sealed, r)
	}
	return r, false, err
}

// ScheduleRequester returns a schedule's requester, opening sealed details.
func (s *Service) ScheduleRequester(ctx context.Context, st schedule.State) (order.Requester, bool, error) {
	return s.Requester(ctx, order.State{Requester: st.Requester, Sealed: st.Sealed})
}

// EraseResident destroys the key of the resident with this phone: every order and
// schedule they placed keeps its history, with their name and phone unreadable.
func (s *Service) EraseResident(ctx context.Context, a domain.Actor, phone string) (_ string, err error) {
	defer s.observe("resident", "erase", time.Now(), &err)
	if a.Role != domain.RoleAdmin {
		return "", domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin erases a resident")
	}
	if s.cfg.Vault == nil {
		return "", domain.Errorf(domain.KindInternal, "no vault is configured")
	}
	if strings.TrimSpace(phone) == "" {
		return "", domain.Invalid("phone", "is required")
	}
	resident, err := s.cfg.Vault.Erase(ctx, phone)
	if err != nil {
		return "", err
	}
	if err := s.recordErasure(ctx, a, resident); err != nil {
		return resident, fmt.Errorf("the resident is erased, but the record of it was not written: %w", err)
	}
	return resident, nil
}

// recordErasure records that a key was destroyed: when and by whom, and the key's id
// only (a resident's digest, or a member's key).
func (s *Service) recordErasure(ctx context.Context, a domain.Actor, key string) error {
	_, _, err := s.erasures.ExecuteNew(ctx, s.cfg.NewID(), s.Meta(a, ""), func(snap domain.Snapshot[erasure.State]) ([]domain.Event, error) {
		return erasure.Decide(snap.State, erasure.Erase{Resident: key}, erasure.Env{Actor: a, Exists: snap.Exists()})
	})
	return err
}

// sealEvents replaces plain requester details in new events by sealed ones, and takes
// the requester's name and phone out of free text, so that no personal detail is
// written in the clear.
func (s *Service) sealEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	if s.cfg.Vault == nil {
		return events, nil
	}
	for i, ev := range events {
		switch e := ev.(type) {
		case order.Submitted:
			if e.Requester == (order.Requester{}) {
				continue
			}
			sealed, err := s.cfg.Vault.Seal(ctx, e.Requester)
			if err != nil {
				return nil, err
			}
			openedFrom(ctx).put(sealed, e.Requester) // the answer shows what was just sealed
			e.Title, e.Description = redact(e.Title, e.Requester), redact(e.Description, e.Requester)
			e.Requester, e.Sealed = order.Requester{}, sealed
			events[i] = e
		case schedule.Defined:
			if e.Requester == (order.Requester{}) {
				continue
			}
			sealed, err := s.cfg.Vault.Seal(ctx, e.Requester)
			if err != nil {
				return nil, err
			}
			e.Title, e.Description = redact(e.Title, e.Requester), redact(e.Description, e.Requester)
			e.Requester, e.Sealed = order.Requester{}, sealed
			events[i] = e
		}
	}
	return events, nil
}

// redactActs takes the order's requester's name and phone out of the free text of the
// events an action makes (notes, reasons, comments), as submissions' titles are: a
// member who writes "called 张阿姨 on 13812345678" leaves nothing an erasure would miss.
func (s *Service) redactActs(ctx context.Context, st order.State, events []domain.Event) ([]domain.Event, error) {
	if s.cfg.Vault == nil || st.Sealed == nil {
		return events, nil
	}
	var r order.Requester
	opened := false
	text := func(t string) (string, error) {
		if t == "" {
			return t, nil
		}
		if !opened {
			var erased bool
			var err error
			if r, erased, err = s.Requester(ctx, st); err != nil {
				return t, err
			}
			if erased {
				r = order.Requester{}
			}
			opened = true
		}
		if r == (order.Requester{}) {
			return t, nil
		}
		return redact(t, r), nil
	}
	var err error
	for i, ev := range events {
		switch e := ev.(type) {
		case order.Noted:
			e.Text, err = text(e.Text)
			events[i] = e
		case order.Declined:
			e.Reason, err = text(e.Reason)
			events[i] = e
		case order.Completed:
			e.Note, err = text(e.Note)
			events[i] = e
		case order.Rated:
			e.Comment, err = text(e.Comment)
			events[i] = e
		case order.Cancelled:
			e.Reason, err = text(e.Reason)
			events[i] = e
		case order.Reassigned:
			e.Reason, err = text(e.Reason)
			events[i] = e
		case order.Escalated:
			e.Reason, err = text(e.Reason)
			events[i] = e
		case order.Reopened:
			e.Reason, err = text(e.Reason)
			events[i] = e
		case order.Returned:
			e.Reason, err = text(e.Reason)
			events[i] = e
		}
		if err != nil {
			return nil, err
		}
	}
	return events, nil
}

// redact takes a requester's name and phone out of text.
func redact(text string, r order.Requester) string {
	if name := strings.TrimSpace(r.Name); len([]rune(name)) >= 2 {
		text = strings.ReplaceAll(text, name, "居民")
	}
	digits := strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, r.Phone)
	if len(digits) >= 5 {
		text = redactNumber(text, order.PhoneKey(r.Phone))
		text = strings.ReplaceAll(text, strings.TrimSpace(r.Phone), order.MaskPhone(digits))
		text = strings.ReplaceAll(text, digits, order.MaskPhone(digits))
	}
	return text
}

// redactNumber masks every number in text that is the phone whose key is key, however
// it is written there (+86 138 1234 5678, 138-1234-5678, …).
func redactNumber(text, key string) string {
	if len(key) < 5 {
		return text
	}
	isPart := func(c byte) bool { return c >= '0' && c <= '9' || c == '+' || c == '-' || c == ' ' }
	var b strings.Builder
	for i := 0; i < len(text); {
		if text[i] < '0' && text[i] != '+' || text[i] > '9' {
			b.WriteByte(text[i])
			i++
			continue
		}
		j := i
		for j < len(text) && isPart(text[j]) {
			j++
		}
		run := text[i:j]
		trimmed := strings.TrimRight(run, " -")
		if order.PhoneKey(trimmed) == key {
			b.WriteString(order.MaskPhone(key))
			b.WriteString(run[len(trimmed):])
		} else {
			b.WriteString(run)
		}
		if j == i {
			b.WriteByte(text[i])
			j++
		}
		i = j
	}
	return b.String()
}
