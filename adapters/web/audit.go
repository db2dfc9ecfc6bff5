package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/query"
)

// auditEvent is one stored event as the audit page shows it.
type auditEvent struct {
	Seq, Version           uint64
	Time                   string
	Actor, ActorID, Role   string
	Type, TypeCode         string
	Data                   string
	ID, Correlation, Cause string
	Rejected               string // set when Redlane did not sign it: shown, never as fact
	Summary                string // what happened, in words (zh-CN), as the linkage feed words it
	Detail                 []detail
}

// detail is one fact of an event, named in Chinese: 原因, 备注, 用时 ….
type detail struct{ Name, Value string }

type auditPage struct {
	base
	Order     orderView
	Events    []auditEvent
	FullPhone bool
}

func (h *handler) audit(w http.ResponseWriter, r *http.Request) {
	s, ok := h.require(w, r, domain.RoleAuditor, domain.RoleSteward)
	if !ok {
		return
	}
	snap, err := h.svc.Order(r.Context(), h.orderID(r.PathValue("id")))
	if err == nil && s.Actor.Role == domain.RoleSteward && !s.Actor.StewardOf(snap.State.Lane) {
		err = domain.Refuse(domain.KindForbidden, domain.CodeReadNotAllowed, "only auditors and the lane's stewards read an order's events")
	}
	var recs []domain.Recorded
	if err == nil {
		recs, err = h.svc.History(r.Context(), snap.ID)
	}
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	st := snap.State
	full := query.SeesPhone(s.Actor, query.Place{Lane: st.Lane, Community: st.Community, Assignee: st.Assignee}, st.Status)
	p := auditPage{base: h.base(r, &s, "工单历史 "+snap.State.Number), Order: h.orderView(r.Context(), snap, full), FullPhone: full}
	story := query.Story(recs, h.svc.StoryNames(st.Lane, recs), full)
	for i, rec := range recs {
		data := rec.Data
		if !full {
			data = query.MaskRequesterPhone(data)
		}
		p.Events = append(p.Events, auditEvent{
			Seq: rec.Seq, Version: rec.Version, Time: shanghaiSeconds(rec.Time),
			Actor: nameOr(rec.ActorName, rec.Actor), ActorID: rec.Actor, Role: roleName(rec.Role),
			Type: eventName(rec.Type), TypeCode: rec.Type, Data: prettyJSON(data),
			ID: rec.ID, Correlation: rec.CorrelationID, Cause: rec.CausationID, Rejected: rec.Rejected,
			Summary: story[i].Summary, Detail: h.details(data),
		})
	}
	h.render(w, http.StatusOK, "audit", p)
}

// auditLookup takes an order id from the auditor's home and goes to its history.
func (h *handler) auditLookup(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.require(w, r, domain.RoleAuditor, domain.RoleSteward); !ok {
		return
	}
	id := strings.TrimSpace(r.URL.Query().Get("order"))
	if !domain.ValidID(id) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/audit/orders/"+id, http.StatusSeeOther)
}

type homePage struct {
	base
	Auditor bool
	Entries []entryView
	Lanes   []option
}

// roleHome is the home of roles without a page of their own: auditors (a lookup and
// the latest linkage messages, each leading to its order's history) and admins.
func (h *handler) roleHome(w http.ResponseWriter, r *http.Request, s session) {
	p := homePage{base: h.base(r, &s, "首页"), Auditor: s.Actor.Role == domain.RoleAuditor}
	if p.Auditor {
		entries, err := h.views.Feed(r.Context(), feed.Query{Limit: 30})
		if err != nil {
			h.failErr(w, r, &s, err)
			return
		}
		for i := len(entries) - 1; i >= 0; i-- {
			p.Entries = append(p.Entries, entryOf(entries[i]))
		}
	}
	for _, l := range h.svc.Dir.Lanes() {
		p.Lanes = append(p.Lanes, option{Value: l.ID, Label: nameOr(l.Name, l.ID)})
	}
	h.render(w, http.StatusOK, "home", p)
}

// detailNames are the Chinese names of the facts events carry that a reader wants beside
// the summary; others stay in the raw data.
var detailNames = []struct{ key, name string }{
	{"reason", "原因"}, {"note", "办结说明"}, {"text", "备注"}, {"minutes", "用时（分钟）"},
	{"stars", "评分（星）"}, {"comment", "居民评价"}, {"solved", "问题已解决"}, {"level", "上报到"},
	{"member", "党员"}, {"from", "原党员"}, {"on_time", "按时"}, {"deadline", "超时环节"},
}

// details picks an event's facts out of its data, worded in Chinese.
func (h *handler) details(data []byte) []detail {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	var out []detail
	for _, d := range detailNames {
		v, ok := m[d.key]
		if !ok {
			continue
		}
		var text string
		switch x := v.(type) {
		case string:
			text = x
			switch d.key {
			case "member", "from":
				text = h.memberName(x)
			case "level":
				text = levelName(order.Level(x))
			case "deadline":
				text = deadlineName(order.DeadlineKind(x))
			}
		case bool:
			text = map[bool]string{true: "是", false: "否"}[x]
		case float64:
			text = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			continue
		}
		if text != "" {
			out = append(out, detail{d.name, text})
		}
	}
	return out
}
