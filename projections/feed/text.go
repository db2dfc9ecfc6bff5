package feed

import (
	"strconv"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
)

// categoryNames maps category codes to their Chinese names, from the default catalogue.
var categoryNames = func() map[string]string {
	m := map[string]string{}
	for _, c := range order.DefaultCatalog().All() {
		m[c.Code] = c.Name
	}
	return m
}()

func categoryName(code string) string {
	if n, ok := categoryNames[code]; ok {
		return n
	}
	return code
}

// communityName is how a community is called: the name it was registered with, else
// (a community from before places had names) its id with 社区.
func (v *View) communityName(id string) string {
	if p, ok := v.communities[id]; ok && p.Name != "" {
		return p.Name
	}
	return CommunityByID(id)
}

// CommunityByID calls a community that has no registered name by its id: taoyuan社区.
// Everything that shows a community falls back to it.
func CommunityByID(id string) string {
	if id == "" {
		return "社区"
	}
	if strings.HasSuffix(id, "社区") {
		return id
	}
	return id + "社区"
}

// escalatedTo names where an order went up to: its community's or street's name, when
// registered, else the level.
func (v *View) escalatedTo(level order.Level, o *orderDoc) string {
	if level == order.LevelStreet {
		if p, ok := v.streets[o.Street]; ok && p.Name != "" {
			return p.Name
		}
		return "街道"
	}
	if p, ok := v.communities[o.Community]; ok && p.Name != "" {
		return p.Name
	}
	return "社区"
}

// stationName is the station of a lane as the feed knows it: its station's name, else the
// lane's name with 驿站, else the lane's id.
func (v *View) stationName(id string) string {
	if l, ok := v.lanes[id]; ok {
		return stationOf(l.Station, l.Name, id)
	}
	return stationOf("", "", id)
}

func stationOf(station, name, id string) string {
	switch {
	case station != "":
		return station
	case name != "":
		return name + "驿站"
	case id != "":
		return id + "驿站"
	}
	return "驿站"
}

// memberName is 党员 and the member's name (or id when the view has not seen them).
func (v *View) memberName(id string) string {
	if m, ok := v.members[id]; ok && m.Name != "" {
		return "党员" + m.Name
	}
	return "党员" + id
}

// actorName says who acted, from the envelope. Only stewards and members are named:
// a resident is never named on the feed, whatever the envelope says.
func actorName(env domain.Envelope) string {
	switch env.Role {
	case domain.RoleSteward:
		return "驿站管家" + env.ActorName
	case domain.RoleMember:
		return "党员" + env.ActorName
	case domain.RoleAdmin:
		return "管理员"
	case domain.RoleOperator:
		return "接线员"
	case domain.RoleSystem:
		return "系统"
	case domain.RoleResident:
		return "居民"
	}
	return "工作人员"
}

func quote(title string) string { return "「" + title + "」" }

// text writes the message of an event; o is the order for order events, id the
// aggregate's id.
func (v *View) text(rec domain.Recorded, ev domain.Event, o *orderDoc, id string) string {
	var t string
	if o != nil {
		t = quote(o.Title)
	}
	switch e := ev.(type) {
	case order.Submitted:
		detail := categoryName(o.Category)
		if e.Priority == order.PriorityUrgent {
			detail += "，加急"
		}
		station := v.stationName(o.Lane)
		var where string
		switch e.Channel {
		case order.ChannelHotline:
			where = "通过96345热线向" + station
		case order.ChannelTerminal:
			where = "通过智慧党建终端向" + station
		case order.ChannelWeb:
			where = "在网上向" + station
		case order.ChannelOpen311:
			where = "通过Open311应用向" + station
		default:
			where = "在" + station
		}
		return "居民" + where + "提出诉求" + t + "（" + detail + "）"
	case order.Dispatched:
		return actorName(rec.Envelope) + "将" + t + "派给" + v.memberName(e.Member)
	case order.Reassigned:
		return actorName(rec.Envelope) + "将" + t + "改派给" + v.memberName(e.Member)
	case order.Claimed:
		return v.memberName(e.Member) + "领办了" + t + late(e.OnTime, "（已超过接单时限）")
	case order.Accepted:
		return v.memberName(e.Member) + "接单" + t + late(e.OnTime, "（已超过接单时限）")
	case order.Declined:
		// The public screen does not name who handed it back: that is the station's business.
		return t + "已退回驿站，等待重新派单"
	case order.Completed:
		s := v.memberName(e.Member) + "办结了" + t
		if e.Minutes > 0 {
			s += "，服务" + strconv.Itoa(e.Minutes) + "分钟"
		}
		return s + late(e.OnTime, "（超时办结）")
	case order.Rated:
		if !e.Solved {
			return "居民评价" + t + "：问题未解决，转为重办"
		}
		return "居民评价" + t + "：问题已解决，" + strconv.Itoa(e.Stars) + "星"
	case order.Cancelled:
		return t + "已撤销"
	case order.Escalated:
		return t + "已上报至" + v.escalatedTo(e.Level, o) + "（街道兜底）"
	case order.Returned:
		to := "街巷驿站"
		if e.Level != order.LevelLane {
			to = v.escalatedTo(e.Level, o)
		}
		return t + "已由" + v.escalatedTo(e.From, o) + "退回" + to + "办理"
	case order.Reopened:
		return t + "转为重办"
	case order.Noted:
		return actorName(rec.Envelope) + "更新了" + t + "的办理进展"
	case order.MarkedOverdue:
		switch e.Deadline {
		case order.DeadlineAccept:
			return t + "超时未接单"
		case order.DeadlineComplete:
			return t + "超时未办结"
		}
		return t + "已超时"
	case lane.Registered:
		return "新驿站" + quote(stationOf(e.Station, e.Name, id)) + "在" + v.communityName(e.Community) + "启用"
	case lane.Updated:
		return "驿站" + quote(stationOf(e.Station, e.Name, id)) + "信息已更新"
	case member.Registered:
		belongs := v.communityName(e.Community)
		if len(e.Teams) > 0 {
			belongs = strings.Join(e.Teams, "、")
		}
		return "党员" + nameOr(e.Name, id) + "加入服务，所属：" + belongs
	case member.Updated:
		return "党员" + nameOr(e.Name, id) + "的服务信息已更新"
	case member.Retired:
		return v.memberName(id) + "退出服务"
	}
	return ""
}

func late(onTime bool, s string) string {
	if onTime {
		return ""
	}
	return s
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
