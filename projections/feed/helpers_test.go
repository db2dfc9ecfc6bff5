package feed_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
)

// t0 is when the histories begin; nothing here reads the clock.
var t0 = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

// The actors.
var (
	steward  = domain.Actor{ID: "tok-steward", Name: "王芳", Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}}
	member1  = domain.Actor{ID: "tok-m1", Name: "李明", Role: domain.RoleMember, Member: "m-001"}
	resident = domain.Actor{ID: "resident", Name: "张阿姨", Role: domain.RoleResident} // a misbehaving writer naming the resident
	system   = domain.Actor{ID: "system", Name: "系统", Role: domain.RoleSystem}
	admin    = domain.Actor{ID: "admin", Name: "admin", Role: domain.RoleAdmin}
)

// history builds sealed, recorded events with increasing stream positions and times a
// minute apart.
type history struct {
	tb       testing.TB
	seq      uint64
	versions map[string]uint64
	recs     []domain.Recorded
}

func newHistory(tb testing.TB) *history {
	return &history{tb: tb, versions: map[string]uint64{}}
}

func (h *history) at() time.Time { return t0.Add(time.Duration(h.seq) * time.Minute) }

// add appends one event of the aggregate aggType/id by actor and returns its record.
func (h *history) add(aggType, id string, actor domain.Actor, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	return h.addAt(aggType, id, actor, h.at(), ev)
}

func (h *history) addAt(aggType, id string, actor domain.Actor, at time.Time, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	h.seq++
	key := aggType + "/" + id
	envs, err := domain.Seal(aggType, id, h.versions[key], []domain.Event{ev}, []string{fmt.Sprintf("ev-%06d", h.seq)},
		domain.Meta{Actor: actor, Time: at, CorrelationID: "corr", CausationID: "cause"})
	if err != nil {
		h.tb.Fatal(err)
	}
	h.versions[key]++
	rec := domain.Recorded{Envelope: envs[0], Seq: h.seq}
	h.recs = append(h.recs, rec)
	return rec
}

func (h *history) order(id string, actor domain.Actor, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	return h.add(order.AggregateType, id, actor, ev)
}

// decode turns a record back into its event, as the runner does.
func decode(tb testing.TB, rec domain.Recorded) domain.Event {
	tb.Helper()
	ev, err := projections.Events.Decode(rec.Envelope)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// setup is the context most tests start from: two lanes of taoyuan, two members, and
// orders o-repair, o-errand and o-consult submitted at 柔桥后巷.
func setup(h *history) {
	h.add(lane.AggregateType, "rouqiao-houxiang", admin, lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"})
	h.add(lane.AggregateType, "kongyuan", admin, lane.Registered{Name: "孔园", Community: "taoyuan", Street: "dongcheng"})
	h.add(member.AggregateType, "m-001", admin, member.Registered{Name: "李明", Community: "taoyuan", Teams: []string{"红色方舟"}})
	h.add(member.AggregateType, "m-002", admin, member.Registered{Name: "赵强", Community: "taoyuan"})
	h.order("o-repair", resident, submitted("repair", "楼道灯不亮了"))
	h.order("o-errand", resident, submitted("errand", "代缴水电费"))
	h.order("o-consult", resident, submitted("consultation", "社保怎么续交"))
}

// submitted is a normal request at 柔桥后巷 from 张阿姨, by the station.
func submitted(category, title string) order.Submitted {
	return order.Submitted{
		Number: "20261127-K3QZ7A", Lane: "rouqiao-houxiang", Community: "taoyuan", Street: "dongcheng",
		Category: category, Title: title, Description: "三单元二楼，张阿姨家门口，电话13812345678",
		Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
		Mode:      order.ModeInstant, Channel: order.ChannelStation, Priority: order.PriorityNormal,
		AcceptBy: t0.Add(24 * time.Hour), CompleteBy: t0.Add(72 * time.Hour),
	}
}
