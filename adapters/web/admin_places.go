package web

import (
	"net/http"
	"strings"

	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/place"
	"github.com/redlane/redlane/domain/street"
)

// The admin's places: street offices, their communities, and the lanes (one station
// each) in those.

// idHint says what an id may be.
const idHint = "英文字母、数字、- 或 _，登记后不能修改，例如 dongcheng"

func (h *handler) streetForm(id, name string) *adminForm {
	return &adminForm{ID: "street-form", Title: "登记街道", Action: "/admin/streets", Submit: "登记街道", Fields: []formField{
		textField("id", "编号", id).required().max(64).hint(idHint),
		textField("name", "名称", name).required().max(place.MaxName).placeholder("东城街道"),
	}}
}

func (h *handler) streetsPage(r *http.Request, s *session, form *adminForm) adminPage {
	p := h.adminBase(r, s, "街道")
	p.Form, p.ListTitle, p.Empty = form, "已登记的街道", "还没有登记街道。"
	communities := map[string]int{}
	for _, c := range h.svc.Dir.Communities() {
		communities[c.Street]++
	}
	streets, pg := page(r, h.svc.Dir.Streets())
	for _, st := range streets {
		p.Rows = append(p.Rows, adminRow{ID: st.ID, Title: nameOr(st.Name, st.ID), Facts: []fact{
			{Label: "编号", Value: st.ID},
			{Label: "社区", Value: itoaInt(communities[st.ID]) + " 个", Href: "/admin/communities?street=" + st.ID},
		}})
	}
	p.Pager = pg
	return p
}

func (h *handler) adminStreets(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	h.adminRender(w, http.StatusOK, h.streetsPage(r, &s, h.streetForm("", "")))
}

func (h *handler) adminStreetCreate(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	id, name := strings.TrimSpace(r.PostForm.Get("id")), r.PostForm.Get("name")
	if _, err := h.svc.RegisterStreet(r.Context(), h.meta(s.Actor), id, street.Register{Name: name}); err != nil {
		p := h.streetsPage(r, &s, h.streetForm(id, name))
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/streets?ok=street", http.StatusSeeOther)
}

// streetOptions are the registered streets, to pick from.
func (h *handler) streetOptions() []option {
	var out []option
	for _, st := range h.svc.Dir.Streets() {
		out = append(out, option{Value: st.ID, Label: nameOr(st.Name, st.ID)})
	}
	return out
}

// communityOptions are the registered communities, to pick from, each with its street.
func (h *handler) communityOptions() []option {
	var out []option
	for _, c := range h.svc.Dir.Communities() {
		label := nameOr(c.Name, c.ID)
		if name, ok := h.svc.Dir.StreetName(c.Street); ok {
			label += "（" + name + "）"
		}
		out = append(out, option{Value: c.ID, Label: label})
	}
	return out
}

func (h *handler) communityForm(id, name, streetID string) *adminForm {
	return &adminForm{ID: "community-form", Title: "登记社区", Action: "/admin/communities", Submit: "登记社区", Fields: []formField{
		textField("id", "编号", id).required().max(64).hint(idHint),
		textField("name", "名称", name).required().max(place.MaxName).placeholder("塔苑社区"),
		picker("street", "所属街道", h.streetOptions(), false, streetID).required(),
	}}
}

func (h *handler) communitiesPage(r *http.Request, s *session, form *adminForm) adminPage {
	p := h.adminBase(r, s, "社区")
	p.Form, p.ListTitle, p.Empty = form, "已登记的社区", "还没有登记社区。"
	lanes := map[string]int{}
	for _, l := range h.svc.Dir.Lanes() {
		lanes[l.Community]++
	}
	all := h.svc.Dir.Communities()
	if st := r.URL.Query().Get("street"); st != "" {
		var in []community.State
		for _, c := range all {
			if c.Street == st {
				in = append(in, c)
			}
		}
		all, p.ListTitle = in, h.streetName(st)+"的社区"
	}
	communities, pg := page(r, all)
	for _, c := range communities {
		p.Rows = append(p.Rows, adminRow{ID: c.ID, Title: nameOr(c.Name, c.ID), Facts: []fact{
			{Label: "编号", Value: c.ID},
			{Label: "街道", Value: h.streetName(c.Street)},
			{Label: "街巷", Value: itoaInt(lanes[c.ID]) + " 条", Href: "/admin/lanes?community=" + c.ID},
		}})
	}
	p.Pager = pg
	return p
}

func (h *handler) adminCommunities(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	h.adminRender(w, http.StatusOK, h.communitiesPage(r, &s, h.communityForm("", "", r.URL.Query().Get("street"))))
}

func (h *handler) adminCommunityCreate(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	id, name, st := get("id"), r.PostForm.Get("name"), get("street")
	if _, err := h.svc.RegisterCommunity(r.Context(), h.meta(s.Actor), id, community.Register{Name: name, Street: st}); err != nil {
		p := h.communitiesPage(r, &s, h.communityForm(id, name, st))
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/communities?ok=community", http.StatusSeeOther)
}

// laneInput is what the lane form holds.
type laneInput struct {
	ID, Name, Community, Street, Station, Address string
}

func (h *handler) laneForm(in laneInput) *adminForm {
	return &adminForm{ID: "lane-form", Title: "登记街巷", Action: "/admin/lanes", Submit: "登记街巷", Fields: []formField{
		textField("id", "编号", in.ID).required().max(64).hint(idHint),
		textField("name", "名称", in.Name).required().max(place.MaxName).placeholder("柔桥后巷"),
		picker("community", "所属社区", h.communityOptions(), false, in.Community).required(),
		picker("street", "所属街道", h.streetOptions(), false, in.Street).required().hint("须与社区所属街道一致"),
		textField("station", "服务驿站", in.Station).max(place.MaxName).placeholder("柔桥后巷驿站"),
		textField("address", "驿站地址", in.Address).max(lane.MaxAddress).placeholder("柔桥后巷 12 号"),
	}}
}

func (h *handler) lanesPage(r *http.Request, s *session, form *adminForm) adminPage {
	p := h.adminBase(r, s, "街巷")
	p.Form, p.ListTitle, p.Empty = form, "已登记的街巷", "还没有登记街巷。"
	all := h.svc.Dir.Lanes()
	if c := r.URL.Query().Get("community"); c != "" {
		var in []lane.State
		for _, l := range all {
			if l.Community == c {
				in = append(in, l)
			}
		}
		all, p.ListTitle = in, h.communityName(c)+"的街巷"
	}
	lanes, pg := page(r, all)
	for _, l := range lanes {
		row := adminRow{ID: l.ID, Title: nameOr(l.Name, l.ID), Facts: []fact{
			{Label: "编号", Value: l.ID},
			{Label: "社区", Value: h.communityName(l.Community) + " · " + h.streetName(l.Street)},
		}}
		if l.Station != "" {
			row.Facts = append(row.Facts, fact{Label: "驿站", Value: l.Station})
		}
		if l.Address != "" {
			row.Facts = append(row.Facts, fact{Label: "地址", Value: l.Address})
		}
		row.Facts = append(row.Facts, fact{Label: "终端", Value: "驿站终端页面", Href: "/screen/" + l.ID})
		p.Rows = append(p.Rows, row)
	}
	p.Pager = pg
	return p
}

func (h *handler) adminLanes(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	in := laneInput{Community: r.URL.Query().Get("community")}
	if c, ok := h.svc.Dir.Community(in.Community); ok {
		in.Street = c.Street
	}
	h.adminRender(w, http.StatusOK, h.lanesPage(r, &s, h.laneForm(in)))
}

func (h *handler) adminLaneCreate(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	get := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	in := laneInput{ID: get("id"), Name: r.PostForm.Get("name"), Community: get("community"), Street: get("street"),
		Station: r.PostForm.Get("station"), Address: r.PostForm.Get("address")}
	_, err := h.svc.RegisterLane(r.Context(), h.meta(s.Actor), in.ID, lane.Register{Name: in.Name, Community: in.Community,
		Street: in.Street, Station: in.Station, Address: in.Address})
	if err != nil {
		p := h.lanesPage(r, &s, h.laneForm(in))
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/lanes?ok=lane", http.StatusSeeOther)
}
