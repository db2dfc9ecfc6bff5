// Package randhist drives random but valid order histories through the service, for
// property tests of the views: whatever the sequence of commands, views rebuilt from the
// log must equal the views kept live.
package randhist

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// District is what Seed registered.
type District struct {
	Lanes    []lane.State
	Members  []member.State
	Stewards map[string]domain.Actor // by lane
	Orders   []string
}

// Seed registers two communities with lanes and members.
func Seed(ctx context.Context, svc *service.Service) (*District, error) {
	m := svc.Meta(service.Admin, "")
	d := &District{Stewards: map[string]domain.Actor{}}
	for _, l := range []struct{ id, name, community, street string }{
		{"rouqiao-houxiang", "柔桥后巷", "taoyuan", "dongcheng"},
		{"kongyuan", "孔园", "taoyuan", "dongcheng"},
		{"wudongqiao", "五洞桥", "yingchun", "xicheng"},
	} {
		st, err := svc.RegisterLane(ctx, m, l.id, lane.Register{Name: l.name, Community: l.community, Street: l.street})
		if err != nil {
			return nil, err
		}
		d.Lanes = append(d.Lanes, st)
		d.Stewards[l.id] = domain.Actor{ID: "steward-" + l.id, Name: "管家" + l.name, Role: domain.RoleSteward, Lanes: []string{l.id}}
	}
	for i, c := range []string{"taoyuan", "taoyuan", "taoyuan", "yingchun", "yingchun"} {
		id := fmt.Sprintf("m-%03d", i+1)
		st, err := svc.RegisterMember(ctx, m, id, member.Register{Name: fmt.Sprintf("党员%d", i+1), Community: c, Teams: []string{[]string{"红色方舟", "护航者"}[i%2]}})
		if err != nil {
			return nil, err
		}
		d.Members = append(d.Members, st)
	}
	return d, nil
}

// Step issues one random command: a new order, or an action on an existing one.
// Refused commands are part of the game and are not errors; only failures are.
func (d *District) Step(ctx context.Context, svc *service.Service, rng *rand.Rand) error {
	if len(d.Orders) == 0 || rng.IntN(5) == 0 {
		l := d.Lanes[rng.IntN(len(d.Lanes))]
		snap, _, err := svc.Submit(ctx, svc.Meta(service.Resident, ""), service.SubmitRequest{
			LaneID: l.ID,
			Submit: order.Submit{
				Category: []string{"repair", "medical", "errand", "dispute", "city"}[rng.IntN(5)],
				Title:    fmt.Sprintf("诉求%d", len(d.Orders)+1), Description: "随机生成",
				Requester: order.Requester{Name: "居民", Phone: "13800001111"},
				Priority:  []order.Priority{order.PriorityNormal, order.PriorityUrgent}[rng.IntN(2)],
			},
		})
		if err != nil {
			return err
		}
		d.Orders = append(d.Orders, snap.ID)
		return nil
	}
	id := d.Orders[rng.IntN(len(d.Orders))]
	snap, err := svc.Order(ctx, id)
	if err != nil {
		return err
	}
	s := snap.State
	steward := d.Stewards[s.Lane]
	mem := d.Members[rng.IntN(len(d.Members))]
	memberActor := func(id string) domain.Actor {
		return domain.Actor{ID: "tok-" + id, Role: domain.RoleMember, Member: id}
	}
	yes, no := true, false
	var actor domain.Actor
	var cmd order.Command
	switch rng.IntN(12) {
	case 0, 1:
		actor, cmd = steward, order.Dispatch{Member: order.MemberRef{ID: mem.ID}}
	case 2:
		actor, cmd = memberActor(mem.ID), order.Claim{}
	case 3, 4:
		actor, cmd = memberActor(s.Assignee), order.Accept{}
	case 5:
		actor, cmd = memberActor(s.Assignee), order.Decline{Reason: "没空"}
	case 6, 7:
		actor, cmd = memberActor(s.Assignee), order.Complete{Note: "已办结", Minutes: 10 + rng.IntN(90)}
	case 8:
		solved := &yes
		if rng.IntN(4) == 0 {
			solved = &no
		}
		actor, cmd = service.Resident, order.Rate{Solved: solved, Stars: 1 + rng.IntN(5), Comment: "好"}
	case 9:
		actor, cmd = steward, order.Escalate{Level: order.LevelCommunity, Reason: "需要协调"}
	case 10:
		actor, cmd = steward, order.Note{Text: "回访", Internal: rng.IntN(2) == 0}
	default:
		if rng.IntN(2) == 0 {
			actor, cmd = steward, order.Reopen{Reason: "居民反映未解决"}
		} else {
			actor, cmd = steward, order.Cancel{Reason: "重复提交"}
		}
	}
	_, err = svc.Act(ctx, svc.Meta(actor, ""), id, cmd, 0)
	switch domain.KindOf(err) {
	case domain.KindInternal:
		if err != nil {
			return err
		}
	}
	return nil
}
