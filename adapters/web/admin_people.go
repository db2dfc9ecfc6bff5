package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/redlane/redlane/domain/member"
)

// The admin's people: members (党员) with their phones, skills and teams, and the teams
// as their members make them.

// memberInput is what the member form holds.
type memberInput struct {
	ID, Name, Community, Phone string
	Skills                     []string
	Teams                      string // as typed: 红色方舟、护航者
}

func (in memberInput) profile() member.Profile {
	return member.Profile{Name: in.Name, Community: in.Community, Phone: in.Phone, Skills: in.Skills, Teams: splitList(in.Teams)}
}

func memberInputOf(form url.Values) memberInput {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	return memberInput{ID: get("id"), Name: form.Get("name"), Community: get("community"), Phone: get("phone"),
		Skills: values(form, "skills"), Teams: form.Get("teams")}
}

// skillOptions are the skills the catalogue's categories ask for, then any other skill
// the member has, so that a change keeps it.
func (h *handler) skillOptions(has []string) []option {
	var codes []string
	for _, c := range h.svc.Catalog().All() {
		for _, s := range c.Skills {
			if !slices.Contains(codes, s) {
				codes = append(codes, s)
			}
		}
	}
	for _, s := range has {
		if !slices.Contains(codes, s) {
			codes = append(codes, s)
		}
	}
	out := make([]option, len(codes))
	for i, s := range codes {
		out[i] = option{Value: s, Label: skillName(s), Selected: slices.Contains(has, s)}
	}
	return out
}

// knownTeams are the teams members are in, the district's own first.
func (h *handler) knownTeams() []string {
	teams := []string{"红色方舟", "护航者", "红心特快"}
	for _, t := range teamsOf(h.svc.Dir.Members()) {
		if !slices.Contains(teams, t.Name) {
			teams = append(teams, t.Name)
		}
	}
	return teams
}

func (h *handler) memberForm(in memberInput, edit bool) *adminForm {
	f := &adminForm{ID: "member-form", Title: "登记党员", Action: "/admin/members", Submit: "登记党员"}
	id := textField("id", "编号", in.ID).required().max(64).hint("英文字母、数字、- 或 _，例如 m-001")
	if edit {
		f.Title, f.Action, f.Submit, f.Cancel = "修改党员信息", "/admin/members/"+in.ID, "保存", "/admin/members"
		id = id.typed("readonly").hint("编号不能修改")
		id.Required = false
	}
	f.Fields = []formField{
		id,
		textField("name", "姓名", in.Name).required().max(50).placeholder("李明"),
		picker("community", "所属社区", h.communityOptions(), false, in.Community).required(),
		textField("phone", "手机", in.Phone).typed("tel").placeholder("13800001111").hint("只有管理员、本人和本社区的驿站管家能看到"),
		{Name: "skills", Label: "技能", Type: "checkboxes", Options: h.skillOptions(in.Skills)},
		textField("teams", "服务队", in.Teams).max(400).placeholder("红色方舟、护航者").hint("多个用顿号或逗号分开；现有：" + strings.Join(h.knownTeams(), "、")),
	}
	f.Fields[3].Autocomplete, f.Fields[3].Max = "off", 30
	return f
}

func (h *handler) membersPage(r *http.Request, s *session, form *adminForm) (adminPage, error) {
	p := h.adminBase(r, s, "党员")
	p.Form, p.ListTitle, p.Empty = form, "在册党员", "还没有登记党员。"
	all := h.svc.Dir.Members()
	q := r.URL.Query()
	if c := q.Get("community"); c != "" {
		all = slices.DeleteFunc(all, func(m member.State) bool { return m.Community != c })
		p.ListTitle = h.communityName(c) + "的党员"
	}
	if t := q.Get("team"); t != "" {
		all = slices.DeleteFunc(all, func(m member.State) bool { return !slices.Contains(m.Teams, t) })
		p.ListTitle = t + "的党员"
	}
	members, pg := page(r, all)
	for _, m := range members {
		phone, _, err := h.svc.MemberPhone(r.Context(), s.Actor, m)
		if err != nil {
			return p, err
		}
		row := adminRow{ID: m.ID, Title: nameOr(m.Name, m.ID), Edit: "/admin/members/" + m.ID, Facts: []fact{
			{Label: "编号", Value: m.ID},
			{Label: "社区", Value: h.communityName(m.Community)},
			{Label: "手机", Value: nameOr(phone, "—")},
		}}
		if !m.Active {
			row.Badge, row.Muted = "已退出", true
		}
		if len(m.Skills) > 0 {
			names := make([]string, len(m.Skills))
			for i, sk := range m.Skills {
				names[i] = skillName(sk)
			}
			row.Facts = append(row.Facts, fact{Label: "技能", Value: strings.Join(names, "、")})
		}
		if len(m.Teams) > 0 {
			row.Facts = append(row.Facts, fact{Label: "服务队", Value: strings.Join(m.Teams, "、")})
		}
		p.Rows = append(p.Rows, row)
	}
	p.Pager = pg
	return p, nil
}

func (h *handler) adminMembers(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	p, err := h.membersPage(r, &s, h.memberForm(memberInput{Community: r.URL.Query().Get("community")}, false))
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	h.adminRender(w, http.StatusOK, p)
}

func (h *handler) adminMemberCreate(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	in := memberInputOf(r.PostForm)
	_, err := h.svc.RegisterMember(r.Context(), h.meta(s.Actor), in.ID, member.Register(in.profile()))
	if err != nil {
		p, perr := h.membersPage(r, &s, h.memberForm(in, false))
		if perr != nil {
			h.failErr(w, r, &s, perr)
			return
		}
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/members?ok=member", http.StatusSeeOther)
}

// memberEditPage is the page that changes member id: its form, and the erasure of the
// member's phone.
func (h *handler) memberEditPage(r *http.Request, s *session, form *adminForm) adminPage {
	p := h.adminBase(r, s, "修改党员信息")
	p.Form = form
	id := form.field("id").Value
	p.ListTitle = "销毁手机号"
	p.Rows = []adminRow{{ID: id, Title: "销毁这位党员的手机号", Facts: []fact{
		{Label: "说明", Value: "手机号加密保存，销毁密钥后，所有历史记录中的这个号码都无法再读出；以后可重新填写。"}},
		Actions: []rowAction{{Action: "/admin/members/" + url.PathEscape(id) + "/erase-phone", Label: "销毁手机号", Danger: true}}}}
	return p
}

func (h *handler) adminMemberErasePhone(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	if _, err := h.svc.EraseMemberPhone(r.Context(), s.Actor, r.PathValue("id")); err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	http.Redirect(w, r, "/admin/members?ok=erased", http.StatusSeeOther)
}

func (h *handler) adminMemberEdit(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	m, found := h.svc.Dir.Member(r.PathValue("id"))
	if !found {
		h.fail(w, r, &s, problem{Status: http.StatusNotFound, Title: "找不到这位党员"})
		return
	}
	phone, _, err := h.svc.MemberPhone(r.Context(), s.Actor, m)
	if err != nil {
		h.failErr(w, r, &s, err)
		return
	}
	in := memberInput{ID: m.ID, Name: m.Name, Community: m.Community, Phone: phone, Skills: m.Skills, Teams: strings.Join(m.Teams, "、")}
	h.adminRender(w, http.StatusOK, h.memberEditPage(r, &s, h.memberForm(in, true)))
}

func (h *handler) adminMemberUpdate(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	in := memberInputOf(r.PostForm)
	in.ID = r.PathValue("id")
	if _, err := h.svc.UpdateMember(r.Context(), h.meta(s.Actor), in.ID, member.Update(in.profile())); err != nil {
		p := h.memberEditPage(r, &s, h.memberForm(in, true))
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/members?ok=member-up", http.StatusSeeOther)
}

// team is a team as its members make it.
type team struct {
	Name    string
	Members []member.State
}

// teamsOf gathers the teams members are in: the largest first, then by name.
func teamsOf(members []member.State) []team {
	byName := map[string]*team{}
	var out []*team
	for _, m := range members {
		for _, t := range m.Teams {
			if byName[t] == nil {
				byName[t] = &team{Name: t}
				out = append(out, byName[t])
			}
			byName[t].Members = append(byName[t].Members, m)
		}
	}
	slices.SortFunc(out, func(a, b *team) int {
		return cmp.Or(cmp.Compare(len(b.Members), len(a.Members)), strings.Compare(a.Name, b.Name))
	})
	teams := make([]team, len(out))
	for i, t := range out {
		teams[i] = *t
	}
	return teams
}

// teamShown is how many of a team's members its entry names.
const teamShown = 12

func (h *handler) adminTeams(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	p := h.adminBase(r, &s, "服务队")
	p.Intro = "党员加入哪支服务队，在党员信息里填写（服务队一栏）。"
	p.ListTitle, p.Empty = "服务队和队员", "还没有党员加入服务队。"
	teams, pg := page(r, teamsOf(h.svc.Dir.Members()))
	for _, t := range teams {
		var names []string
		for i, m := range t.Members {
			if i == teamShown {
				names = append(names, "等")
				break
			}
			names = append(names, nameOr(m.Name, m.ID))
		}
		p.Rows = append(p.Rows, adminRow{ID: t.Name, Title: t.Name, Facts: []fact{
			{Label: "人数", Value: strconv.Itoa(len(t.Members)) + " 名", Href: "/admin/members?team=" + url.QueryEscape(t.Name)},
			{Label: "队员", Value: strings.Join(names, "、")},
		}})
	}
	p.Pager = pg
	h.adminRender(w, http.StatusOK, p)
}
