package report_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
)

// The actors.
var (
	steward  = domain.Actor{ID: "tok-steward", Name: "王芳", Role: domain.RoleSteward}
	resident = domain.Actor{ID: "resident", Name: "居民", Role: domain.RoleResident}
	system   = domain.Actor{ID: "system", Name: "系统", Role: domain.RoleSystem}
	admin    = domain.Actor{ID: "admin", Name: "admin", Role: domain.RoleAdmin}
)

func memberActor(id string) domain.Actor {
	return domain.Actor{ID: "tok-" + id, Role: domain.RoleMember, Member: id}
}

// step is one event of a history, at a fixed time.
type step struct {
	at      string // RFC 3339, UTC
	aggType string
	id      string
	actor   domain.Actor
	ev      domain.Event
}

// record seals the steps in time order (stable), with stream positions from 1.
func record(tb testing.TB, steps []step) []domain.Recorded {
	tb.Helper()
	type timed struct {
		at time.Time
		step
	}
	ts := make([]timed, len(steps))
	for i, s := range steps {
		at, err := time.Parse(time.RFC3339, s.at)
		if err != nil {
			tb.Fatalf("step %d: %v", i, err)
		}
		ts[i] = timed{at, s}
	}
	slices.SortStableFunc(ts, func(a, b timed) int { return a.at.Compare(b.at) })
	versions := map[string]uint64{}
	out := make([]domain.Recorded, len(ts))
	for i, s := range ts {
		key := s.aggType + "/" + s.id
		envs, err := domain.Seal(s.aggType, s.id, versions[key], []domain.Event{s.ev}, []string{fmt.Sprintf("ev-%06d", i+1)},
			domain.Meta{Actor: s.actor, Time: s.at, CorrelationID: "corr", CausationID: "cause"})
		if err != nil {
			tb.Fatal(err)
		}
		versions[key]++
		out[i] = domain.Recorded{Envelope: envs[0], Seq: uint64(i + 1)}
	}
	return out
}

func decode(tb testing.TB, rec domain.Recorded) domain.Event {
	tb.Helper()
	ev, err := projections.Events.Decode(rec.Envelope)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// lanes maps the scenario's lanes to their communities.
var lanes = map[string]string{"rouqiao-houxiang": "taoyuan", "kongyuan": "taoyuan", "wudongqiao": "yingchun"}

// submitted is a normal request of category at lane.
func submitted(laneID, category, title string) order.Submitted {
	street := "dongcheng"
	if lanes[laneID] == "yingchun" {
		street = "xicheng"
	}
	return order.Submitted{
		Number: "N-" + title, Lane: laneID, Community: lanes[laneID], Street: street,
		Category: category, Title: title, Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
		Mode: order.ModeInstant, Channel: order.ChannelStation, Priority: order.PriorityNormal,
	}
}

func ptr(f float64) *float64 { return &f }
