package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/campaign"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
)

// DefineSchedule sets up a periodic service.
func (s *Service) DefineSchedule(ctx context.Context, m domain.Meta, id string, cmd schedule.Define) (_ schedule.State, err error) {
	defer s.observe("schedule", "define", time.Now(), &err)
	if !domain.ValidID(id) {
		return schedule.State{}, domain.Invalid("id", domain.IDRule)
	}
	if _, ok := s.Dir.Lane(cmd.Lane); cmd.Lane != "" && !ok {
		return schedule.State{}, domain.Invalid("lane", "no such lane: "+cmd.Lane)
	}
	snap, recs, err := s.schedules.Execute(ctx, id, m, func(snap domain.Snapshot[schedule.State]) ([]domain.Event, error) {
		events, err := schedule.Decide(snap.State, cmd, schedule.Env{Actor: m.Actor, Exists: snap.Exists(), Catalog: s.Catalog(), Now: m.Time})
		if err != nil {
			return nil, err
		}
		return s.sealEvents(ctx, events)
	})
	if err != nil {
		return schedule.State{}, err
	}
	return snap.State, s.applyAll(recs)
}

// CancelSchedule stops a periodic service.
func (s *Service) CancelSchedule(ctx context.Context, m domain.Meta, id, reason string) (err error) {
	defer s.observe("schedule", "cancel", time.Now(), &err)
	if !domain.ValidID(id) {
		return domain.Refuse(domain.KindNotFound, domain.CodeScheduleNotFound, "no such schedule")
	}
	_, recs, err := s.schedules.Execute(ctx, id, m, func(snap domain.Snapshot[schedule.State]) ([]domain.Event, error) {
		return schedule.Decide(snap.State, schedule.Cancel{Reason: reason}, schedule.Env{Actor: m.Actor, Exists: snap.Exists()})
	})
	if err != nil {
		return err
	}
	return s.applyAll(recs)
}

// LaunchCampaign begins a thematic campaign.
func (s *Service) LaunchCampaign(ctx context.Context, m domain.Meta, id string, cmd campaign.Launch) (_ campaign.State, err error) {
	defer s.observe("campaign", "launch", time.Now(), &err)
	if !domain.ValidID(id) {
		return campaign.State{}, domain.Invalid("id", domain.IDRule)
	}
	snap, recs, err := s.campaigns.Execute(ctx, id, m, func(snap domain.Snapshot[campaign.State]) ([]domain.Event, error) {
		return campaign.Decide(snap.State, cmd, campaign.Env{Actor: m.Actor, Exists: snap.Exists(), Catalog: s.Catalog()})
	})
	if err != nil {
		return campaign.State{}, err
	}
	return snap.State, s.applyAll(recs)
}

// EndCampaign ends a thematic campaign early.
func (s *Service) EndCampaign(ctx context.Context, m domain.Meta, id, reason string) (err error) {
	defer s.observe("campaign", "end", time.Now(), &err)
	if !domain.ValidID(id) {
		return domain.Refuse(domain.KindNotFound, domain.CodeCampaignNotFound, "no such campaign")
	}
	_, recs, err := s.campaigns.Execute(ctx, id, m, func(snap domain.Snapshot[campaign.State]) ([]domain.Event, error) {
		return campaign.Decide(snap.State, campaign.End{Reason: reason}, campaign.Env{Actor: m.Actor, Exists: snap.Exists()})
	})
	if err != nil {
		return err
	}
	return s.applyAll(recs)
}

// themeFor returns the theme of the first active campaign covering an order.
func (s *Service) themeFor(community, category string, at time.Time) string {
	cat, _ := s.Catalog().Lookup(category)
	for _, c := range s.Dir.Campaigns() {
		if c.Covers(community, cat.Code, at, s.cfg.Loc) {
			return c.Theme
		}
	}
	return ""
}

// scheduleSpace namespaces the ids of orders that schedules produce.
var scheduleSpace = uuid.MustParse("0b6a3c1e-2f4d-4e8a-9c7b-5d1e3f2a4b6c")

// ProduceDue submits the orders of every occurrence of every active schedule up to now
// that has none yet. Each occurrence's order id follows from the schedule and the
// occurrence, so however often this runs, in however many processes, an occurrence
// yields exactly one order. It returns how many orders it submitted.
func (s *Service) ProduceDue(ctx context.Context, now time.Time) (int, error) {
	made := 0
	for _, sch := range s.Dir.Schedules() {
		// Only the last MaxCatchUp: a schedule's work per tick is bounded.
		for _, at := range sch.Occurrences(now.Add(-schedule.MaxCatchUp), now, s.cfg.Loc) {
			key := schedule.OccurrenceKey(sch.ID, at)
			id := uuid.NewSHA1(scheduleSpace, []byte(key)).String()
			if snap, err := s.Orders.Load(ctx, id); err != nil {
				return made, err
			} else if snap.Exists() {
				continue
			}
			l, ok := s.Dir.Lane(sch.Lane)
			if !ok {
				continue
			}
			requester, erased, err := s.ScheduleRequester(ctx, sch)
			if err != nil {
				return made, err
			}
			if erased {
				continue // the resident asked to be forgotten: nothing to visit
			}
			theme := sch.Theme
			if theme == "" {
				theme = s.themeFor(l.Community, sch.Category, at)
			}
			m := s.Meta(System, "")
			m.CorrelationID, m.CausationID = id, "schedule/"+sch.ID
			env := order.Env{Actor: System, Now: m.Time, Catalog: s.Catalog(), Rules: *s.cfg.Rules}
			cmd := order.Submit{
				Number: s.number(id), Lane: order.LaneRef{ID: l.ID, Community: l.Community, Street: l.Street},
				Category: sch.Category, Title: sch.Title, Description: sch.Description, Requester: requester,
				Mode: order.ModePeriodic, Channel: order.ChannelStation, Priority: sch.Priority,
				Theme: theme, Schedule: key,
			}
			_, recs, err := s.Orders.Execute(ctx, id, m, func(snap domain.Snapshot[order.State]) ([]domain.Event, error) {
				if snap.Exists() {
					return nil, nil // another process made it first
				}
				events, err := order.Decide(snap.State, cmd, env)
				if err != nil {
					return nil, err
				}
				return s.sealEvents(ctx, events)
			})
			if err != nil {
				return made, fmt.Errorf("schedule %s at %s: %w", sch.ID, at.Format(time.RFC3339), err)
			}
			made += len(recs)
		}
	}
	return made, nil
}

// LiveOrders lists the live orders of each lane, as the backlog view holds them
// (query.Index does).
type LiveOrders interface {
	LiveLanes() []string
	Live(lane string) []backlog.Order
}

// CheckDeadlines marks overdue every live order whose deadline has passed by now, as
// the system. The order decides: a deadline already marked is not marked again, so the
// overdue event is recorded exactly once however often this runs, in however many
// processes. It finds candidates among the live orders and returns how many events it
// recorded.
func (s *Service) CheckDeadlines(ctx context.Context, live LiveOrders, now time.Time) (int, error) {
	recorded := 0
	for _, l := range live.LiveLanes() {
		for _, it := range live.Live(l) {
			for _, d := range query.DueDeadlines(it.Item, now) {
				n, err := s.markOverdue(ctx, it.ID, d, now)
				if err != nil {
					return recorded, err
				}
				recorded += n
			}
		}
	}
	return recorded, nil
}

func (s *Service) markOverdue(ctx context.Context, id string, d order.DeadlineKind, now time.Time) (_ int, err error) {
	defer s.observe("order", "mark_overdue", time.Now(), &err)
	m := s.Meta(System, "")
	m.Time = now
	env := order.Env{Actor: System, Now: now, Catalog: s.Catalog(), Rules: *s.cfg.Rules}
	_, recs, err := s.Orders.Execute(ctx, id, m, func(snap domain.Snapshot[order.State]) ([]domain.Event, error) {
		return order.Decide(snap.State, order.MarkOverdue{Deadline: d}, env)
	})
	if err != nil && domain.KindOf(err) != domain.KindInternal {
		return 0, nil // the order moved on meanwhile
	}
	return len(recs), err
}

// RunDesk runs the desk's clockwork until ctx ends: every interval it records passed
// deadlines and produces due periodic orders. Errors are reported to report and do not
// stop it.
func (s *Service) RunDesk(ctx context.Context, views LiveOrders, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		now := s.Now()
		if _, err := s.ProduceDue(ctx, now); err != nil && !errors.Is(err, context.Canceled) {
			report(err)
		}
		if _, err := s.CheckDeadlines(ctx, views, now); err != nil && !errors.Is(err, context.Canceled) {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
