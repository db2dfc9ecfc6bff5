package httpapi

import (
	"net/http"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/category"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
)

type tokenRequest struct {
	Role        domain.Role `json:"role"`
	Lanes       []string    `json:"lanes"`
	Member      string      `json:"member"`
	Communities []string    `json:"communities"`
	Streets     []string    `json:"streets"`
	Name        string      `json:"name"`
}

func (a *API) issueToken(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin issues tokens")
	}
	var req tokenRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	id, secret, err := a.svc.IssueToken(r.Context(), a.meta(r, actor), access.Issue{Role: req.Role, Lanes: req.Lanes, Member: req.Member, Name: req.Name,
		Communities: req.Communities, Streets: req.Streets})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "token": secret, "role": req.Role, "lanes": req.Lanes, "member": req.Member, "name": req.Name,
		"communities": orEmpty(req.Communities), "streets": orEmpty(req.Streets)})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin revokes tokens")
	}
	if err == nil {
		err = a.svc.RevokeToken(r.Context(), a.meta(r, actor), r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type laneRequest struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Community string      `json:"community"`
	Street    string      `json:"street"`
	Station   string      `json:"station"`
	Address   string      `json:"address"`
	Point     *lane.Point `json:"point"`
}

func (a *API) registerLane(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin manages lanes")
	}
	var req laneRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	l, err := a.svc.RegisterLane(r.Context(), a.meta(r, actor), req.ID, lane.Register{Name: req.Name, Community: req.Community, Street: req.Street, Station: req.Station, Address: req.Address, Point: req.Point})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, l)
}

// laneView is a lane as the API lists it: with the names of its community and street,
// when they are registered places.
type laneView struct {
	lane.State
	CommunityName string `json:"community_name,omitempty"`
	StreetName    string `json:"street_name,omitempty"`
}

func (a *API) listLanes(w http.ResponseWriter, r *http.Request) {
	if _, err := a.actor(r); err != nil {
		a.fail(w, r, err)
		return
	}
	lanes := a.svc.Dir.Lanes()
	out := make([]laneView, len(lanes))
	for i, l := range lanes {
		out[i].State = l
		out[i].CommunityName, _ = a.svc.Dir.CommunityName(l.Community)
		out[i].StreetName, _ = a.svc.Dir.StreetName(l.Street)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

type streetRequest struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (a *API) registerStreet(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin manages streets")
	}
	var req streetRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.svc.RegisterStreet(r.Context(), a.meta(r, actor), req.ID, street.Register{Name: req.Name})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s)
}

func (a *API) listStreets(w http.ResponseWriter, r *http.Request) {
	if _, err := a.actor(r); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": a.svc.Dir.Streets()})
}

type communityRequest struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Street string `json:"street"`
}

func (a *API) registerCommunity(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin manages communities")
	}
	var req communityRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.svc.RegisterCommunity(r.Context(), a.meta(r, actor), req.ID, community.Register{Name: req.Name, Street: req.Street})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (a *API) listCommunities(w http.ResponseWriter, r *http.Request) {
	if _, err := a.actor(r); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": a.svc.Dir.Communities()})
}

type memberRequest struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Community string   `json:"community"`
	Phone     string   `json:"phone"`
	Skills    []string `json:"skills"`
	Teams     []string `json:"teams"`
}

func (req memberRequest) profile() member.Profile {
	return member.Profile{Name: req.Name, Community: req.Community, Phone: req.Phone, Skills: req.Skills, Teams: req.Teams}
}

// memberView is a member as the API shows them: the phone only to those who may see it
// (member.ShowsPhone), never its seal.
type memberView struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Community     string   `json:"community"`
	CommunityName string   `json:"community_name,omitempty"`
	Phone         string   `json:"phone,omitempty"`
	Skills        []string `json:"skills"`
	Teams         []string `json:"teams"`
	Active        bool     `json:"active"`
}

func (a *API) viewMember(r *http.Request, actor domain.Actor, m member.State) (memberView, error) {
	v := memberView{ID: m.ID, Name: m.Name, Community: m.Community, Skills: m.Skills, Teams: m.Teams, Active: m.Active}
	v.CommunityName, _ = a.svc.Dir.CommunityName(m.Community)
	if v.Skills == nil {
		v.Skills = []string{}
	}
	if v.Teams == nil {
		v.Teams = []string{}
	}
	var err error
	v.Phone, _, err = a.svc.MemberPhone(r.Context(), actor, m)
	return v, err
}

func (a *API) registerMember(w http.ResponseWriter, r *http.Request) {
	actor, err := a.admin(r, "manages members")
	var req memberRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	var m member.State
	if err == nil {
		m, err = a.svc.RegisterMember(r.Context(), a.meta(r, actor), req.ID, member.Register(req.profile()))
	}
	a.answerMember(w, r, actor, http.StatusCreated, m, err)
}

// updateMember answers PUT /api/v1/members/{id} (admin): the member's profile, whole;
// what is left out (a phone, skills, teams) is gone.
func (a *API) updateMember(w http.ResponseWriter, r *http.Request) {
	actor, err := a.admin(r, "manages members")
	var req memberRequest
	if err == nil {
		err = readBody(w, r, &req)
	}
	if err == nil && req.ID != "" && req.ID != r.PathValue("id") {
		err = domain.Invalid("id", "must be the id in the path")
	}
	var m member.State
	if err == nil {
		m, err = a.svc.UpdateMember(r.Context(), a.meta(r, actor), r.PathValue("id"), member.Update(req.profile()))
	}
	a.answerMember(w, r, actor, http.StatusOK, m, err)
}

func (a *API) answerMember(w http.ResponseWriter, r *http.Request, actor domain.Actor, status int, m member.State, err error) {
	var v memberView
	if err == nil {
		v, err = a.viewMember(r, actor, m)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	members := a.svc.Dir.Members()
	out := make([]memberView, len(members))
	for i, m := range members {
		if out[i], err = a.viewMember(r, actor, m); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// categoryView is a category as the API shows it: its deadlines in minutes, its
// questions as intake asks them.
type categoryView struct {
	Code      string             `json:"code"`
	Name      string             `json:"name"`
	Skills    []string           `json:"skills"`
	Normal    category.Deadlines `json:"normal"`
	Urgent    category.Deadlines `json:"urgent"`
	Questions []order.Question   `json:"questions"`
}

func viewOfCategory(c order.Category) categoryView {
	minutes := func(d order.Deadlines) category.Deadlines {
		return category.Deadlines{AcceptMinutes: int(d.Accept / time.Minute), CompleteMinutes: int(d.Complete / time.Minute)}
	}
	v := categoryView{Code: c.Code, Name: c.Name, Skills: c.Skills, Normal: minutes(c.Normal), Urgent: minutes(c.Urgent), Questions: c.Questions}
	if v.Skills == nil {
		v.Skills = []string{}
	}
	if v.Questions == nil {
		v.Questions = []order.Question{}
	}
	return v
}

func (a *API) listCategories(w http.ResponseWriter, r *http.Request) {
	items := []categoryView{}
	for _, c := range a.svc.Catalog().All() {
		items = append(items, viewOfCategory(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// defineCategory defines a category, or changes one, whole: what is left out is gone
// (zero deadlines are the defaults).
func (a *API) defineCategory(w http.ResponseWriter, r *http.Request) {
	actor, err := a.actor(r)
	if err == nil {
		err = forbidUnless(actor.Role == domain.RoleAdmin, domain.CodeAdminOnly, "only an admin manages categories")
	}
	var req category.Define
	if err == nil {
		err = readBody(w, r, &req)
	}
	var c order.Category
	if err == nil {
		c, err = a.svc.DefineCategory(r.Context(), a.meta(r, actor), r.PathValue("code"), req)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOfCategory(c))
}
