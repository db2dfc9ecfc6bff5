package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// The texts every order of the bench carries, so that Redlane's events and the raw
// baseline's bodies are the same size.
const (
	title       = "楼道灯不亮了"
	description = "三单元二楼的感应灯坏了，晚上上下楼看不见"
	doneNote    = "换了感应灯"
	comment     = "很及时"
)

type benchLane struct{ id, community, street string }

// district is the bench's lanes, members and tokens.
type district struct {
	lanes   []benchLane
	members map[string][]string // by community
	steward domain.Actor        // of every lane
	// Bearer secrets for the HTTP API.
	operatorToken, stewardToken string
	memberTokens                map[string]string
	phones                      []string // residents
}

var benchLanes = []struct {
	id string
	lane.Register
}{
	{"rouqiao-houxiang", lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"}},
	{"kongyuan", lane.Register{Name: "孔园", Community: "taoyuan", Street: "dongcheng", Station: "孔园驿站"}},
	{"wudongqiao", lane.Register{Name: "五洞桥", Community: "yingchun", Street: "xicheng", Station: "五洞桥驿站"}},
}

var benchMembers = []struct {
	id string
	member.Register
}{
	{"m-001", member.Register{Name: "李明", Community: "taoyuan", Skills: []string{"repair", "electrical"}, Teams: []string{"红色方舟"}}},
	{"m-002", member.Register{Name: "陈静", Community: "taoyuan", Skills: []string{"counselling"}, Teams: []string{"姐妹帮帮团"}}},
	{"m-003", member.Register{Name: "王律师", Community: "yingchun", Skills: []string{"legal"}, Teams: []string{"红心特快"}}},
	{"m-004", member.Register{Name: "赵消防", Community: "yingchun", Skills: []string{"repair"}, Teams: []string{"护航者"}}},
}

// seed registers the district through svc and issues the tokens the HTTP clients use.
func seed(ctx context.Context, svc *service.Service) (*district, error) {
	m := svc.Meta(service.Admin, "")
	d := &district{members: map[string][]string{}, memberTokens: map[string]string{}}
	var all []string
	for _, l := range benchLanes {
		if _, err := svc.RegisterLane(ctx, m, l.id, l.Register); err != nil {
			return nil, fmt.Errorf("lane %s: %w", l.id, err)
		}
		d.lanes = append(d.lanes, benchLane{l.id, l.Community, l.Street})
		all = append(all, l.id)
	}
	for _, mem := range benchMembers {
		if _, err := svc.RegisterMember(ctx, m, mem.id, mem.Register); err != nil {
			return nil, fmt.Errorf("member %s: %w", mem.id, err)
		}
		d.members[mem.Community] = append(d.members[mem.Community], mem.id)
	}
	d.steward = domain.Actor{ID: "steward", Name: "王芳", Role: domain.RoleSteward, Lanes: all}
	issue := func(t access.Issue) (string, error) {
		_, secret, err := svc.IssueToken(ctx, m, t)
		return secret, err
	}
	var err error
	if d.stewardToken, err = issue(access.Issue{Role: domain.RoleSteward, Lanes: all, Name: "王芳"}); err != nil {
		return nil, err
	}
	if d.operatorToken, err = issue(access.Issue{Role: domain.RoleOperator, Name: "96345 热线"}); err != nil {
		return nil, err
	}
	for _, mem := range benchMembers {
		if d.memberTokens[mem.id], err = issue(access.Issue{Role: domain.RoleMember, Member: mem.id, Name: mem.Name}); err != nil {
			return nil, err
		}
	}
	for i := range 1000 {
		d.phones = append(d.phones, fmt.Sprintf("138%08d", 10_000_000+i*7919%90_000_000))
	}
	return d, nil
}

// worker is what one bench worker acts as: on one lane, dispatching to one member.
func (d *district) worker(w int) (benchLane, string) {
	l := d.lanes[w%len(d.lanes)]
	ms := d.members[l.community]
	return l, ms[(w/len(d.lanes))%len(ms)]
}

func memberActor(id string) domain.Actor {
	return domain.Actor{ID: "tok-" + id, Name: id, Role: domain.RoleMember, Member: id}
}

// runnerLife is a worker's op that lives orders through the service, one command per
// call: submit, dispatch, accept, complete, rate.
func runnerLife(svc *service.Service, d *district, w int) op {
	l, mem := d.worker(w)
	step, n := 0, 0
	var id string
	yes := true
	return func(ctx context.Context) error {
		var err error
		switch step {
		case 0:
			var snap domain.Snapshot[order.State]
			snap, _, err = svc.Submit(ctx, svc.Meta(service.Resident, ""), service.SubmitRequest{
				LaneID: l.id,
				Submit: order.Submit{
					Category: "repair", Title: title, Description: description,
					Requester: order.Requester{Name: "张阿姨", Phone: d.phones[(w*131+n)%len(d.phones)]},
					Mode:      order.ModeInstant, Channel: order.ChannelStation, Priority: order.PriorityNormal,
				},
			})
			id = snap.ID
			n++
		case 1:
			_, err = svc.Act(ctx, svc.Meta(d.steward, ""), id, order.Dispatch{Member: order.MemberRef{ID: mem}}, 0)
		case 2:
			_, err = svc.Act(ctx, svc.Meta(memberActor(mem), ""), id, order.Accept{}, 0)
		case 3:
			_, err = svc.Act(ctx, svc.Meta(memberActor(mem), ""), id, order.Complete{Note: doneNote, Minutes: 40}, 0)
		case 4:
			_, err = svc.Act(ctx, svc.Meta(service.Resident, ""), id, order.Rate{Solved: &yes, Stars: 5, Comment: comment}, 0)
		}
		step = (step + 1) % 5
		return err
	}
}

// noteOn is a worker's op that adds notes to one existing order.
func noteOn(svc *service.Service, d *district, id string) op {
	return func(ctx context.Context) error {
		_, err := svc.Act(ctx, svc.Meta(d.steward, ""), id, order.Note{Text: "回访：居民说灯又闪了", Internal: true}, 0)
		return err
	}
}

// lives makes valid order histories as sealed envelopes, for filling a stream fast.
type lives struct {
	d      *district
	rng    *rand.Rand
	t      time.Time
	sealed []*order.Sealed // requesters, sealed once each
	n      int
}

func newLives(d *district, sealed []*order.Sealed, seed uint64) *lives {
	return &lives{d: d, rng: rand.New(rand.NewPCG(seed, 42)), t: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), sealed: sealed}
}

// standard returns the events of one order's usual life: submitted, dispatched,
// accepted, completed and rated, as the bench's commands write them.
func (g *lives) standard() ([]domain.Envelope, error) { return g.life(0) }

// next returns the events of one order's life, of a kind picked at random as a real
// district has them: most go the usual way; some are declined, rated unsolved and
// redone, cancelled, or noted and escalated.
func (g *lives) next() ([]domain.Envelope, error) {
	k := g.rng.IntN(100)
	switch {
	case k < 70:
		return g.life(0)
	case k < 80:
		return g.life(1)
	case k < 88:
		return g.life(2)
	case k < 95:
		return g.life(3)
	default:
		return g.life(4)
	}
}

func (g *lives) life(kind int) ([]domain.Envelope, error) {
	g.n++
	l := g.d.lanes[g.rng.IntN(len(g.d.lanes))]
	ms := g.d.members[l.community]
	mem, other := ms[g.rng.IntN(len(ms))], ms[g.rng.IntN(len(ms))]
	g.t = g.t.Add(time.Duration(5+g.rng.IntN(20)) * time.Second)
	at := g.t
	cat, _ := order.DefaultCatalog().Lookup("repair")
	dl := cat.DeadlinesFor(order.PriorityNormal)
	id := newID()
	resident := service.Resident
	sub := order.Submitted{
		Number: at.Format("20060102") + "-" + fmt.Sprintf("%06X", g.n%0xFFFFFF), Lane: l.id, Community: l.community, Street: l.street,
		Category: "repair", Title: title, Description: description,
		Mode: order.ModeInstant, Channel: order.ChannelStation, Priority: order.PriorityNormal,
		AcceptBy: at.Add(dl.Accept), CompleteBy: at.Add(dl.Complete),
	}
	if len(g.sealed) > 0 {
		sub.Sealed = g.sealed[g.n%len(g.sealed)]
	} else {
		sub.Requester = order.Requester{Name: "张阿姨", Phone: g.d.phones[g.n%len(g.d.phones)]}
	}
	type step struct {
		who domain.Actor
		ev  domain.Event
	}
	steps := []step{{resident, sub}}
	add := func(who domain.Actor, ev domain.Event) { steps = append(steps, step{who, ev}) }
	st := g.d.steward
	stars := 3 + g.rng.IntN(3)
	switch kind {
	case 0: // the usual life
		add(st, order.Dispatched{Member: mem})
		add(memberActor(mem), order.Accepted{Member: mem, OnTime: true})
		add(memberActor(mem), order.Completed{Member: mem, Note: doneNote, Minutes: 40, OnTime: true})
		add(resident, order.Rated{Member: mem, Solved: true, Stars: 5, Comment: comment})
	case 1: // declined, then dispatched to another
		add(st, order.Dispatched{Member: mem})
		add(memberActor(mem), order.Declined{Member: mem, Reason: "今天不在社区"})
		add(st, order.Dispatched{Member: other})
		add(memberActor(other), order.Accepted{Member: other, OnTime: true})
		add(memberActor(other), order.Completed{Member: other, Note: doneNote, Minutes: 55, OnTime: true})
		add(resident, order.Rated{Member: other, Solved: true, Stars: stars, Comment: comment})
	case 2: // claimed, rated unsolved, redone
		add(memberActor(mem), order.Claimed{Member: mem, OnTime: true})
		add(memberActor(mem), order.Completed{Member: mem, Note: doneNote, Minutes: 30, OnTime: true})
		add(resident, order.Rated{Member: mem, Solved: false, Stars: 2, Comment: "灯还是不亮", AcceptBy: at.Add(dl.Accept + time.Hour), CompleteBy: at.Add(dl.Complete + time.Hour)})
		add(memberActor(mem), order.Claimed{Member: mem, OnTime: true})
		add(memberActor(mem), order.Completed{Member: mem, Note: "换了线路", Minutes: 90, OnTime: false})
		add(resident, order.Rated{Member: mem, Solved: true, Stars: stars, Comment: comment})
	case 3: // cancelled
		add(resident, order.Cancelled{Reason: "自己修好了"})
	case 4: // noted and escalated
		add(st, order.Noted{Text: "需要物业配合", Internal: true})
		add(st, order.Escalated{Level: order.LevelCommunity, Reason: "需要协调物业"})
		add(st, order.Dispatched{Member: mem})
		add(memberActor(mem), order.Accepted{Member: mem, OnTime: false})
		add(memberActor(mem), order.Completed{Member: mem, Note: doneNote, Minutes: 120, OnTime: false})
		add(resident, order.Rated{Member: mem, Solved: true, Stars: stars})
	}
	out := make([]domain.Envelope, 0, len(steps))
	for i, s := range steps {
		corr := newID()
		envs, err := domain.Seal(order.AggregateType, id, uint64(i), []domain.Event{s.ev}, []string{newID()},
			domain.Meta{Actor: s.who, Time: at.Add(time.Duration(i) * 17 * time.Minute), CorrelationID: corr, CausationID: corr})
		if err != nil {
			return nil, err
		}
		out = append(out, envs...)
	}
	return out, nil
}

// history returns an order submitted and then noted until it has n events.
func (g *lives) history(n int) ([]domain.Envelope, error) {
	first, err := g.life(3)
	if err != nil {
		return nil, err
	}
	out := first[:1]
	sub := out[0]
	for i := 1; i < n; i++ {
		corr := newID()
		envs, err := domain.Seal(order.AggregateType, sub.AggregateID, uint64(i), []domain.Event{order.Noted{Text: "回访记录", Internal: i%2 == 0}}, []string{newID()},
			domain.Meta{Actor: g.d.steward, Time: sub.Time.Add(time.Duration(i) * time.Minute), CorrelationID: corr, CausationID: corr})
		if err != nil {
			return nil, err
		}
		out = append(out, envs...)
	}
	return out, nil
}
