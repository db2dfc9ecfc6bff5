package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/service"
)

// The admin's access pages: people's accounts (username and password) and tokens for
// kiosks, terminals and hotline tools.

// pickableRoles are the roles an account or a token may be given, as the picker lists
// them.
var pickableRoles = []domain.Role{domain.RoleSteward, domain.RoleMember, domain.RoleCommunity, domain.RoleStreet,
	domain.RoleOperator, domain.RoleAuditor, domain.RoleAdmin}

func roleOptions() []option {
	out := make([]option, len(pickableRoles))
	for i, r := range pickableRoles {
		out[i] = option{Value: string(r), Label: roleName(r)}
	}
	return out
}

// laneOptions are the lanes, to pick a steward's from.
func (h *handler) laneOptions() []option {
	var out []option
	for _, l := range h.svc.Dir.Lanes() {
		out = append(out, option{Value: l.ID, Label: nameOr(l.Name, l.ID) + "（" + h.communityName(l.Community) + "）"})
	}
	return out
}

// memberOptions are the active members, to bind a member's account or token to.
func (h *handler) memberOptions() []option {
	var out []option
	for _, m := range h.svc.Dir.Members() {
		if m.Active {
			out = append(out, option{Value: m.ID, Label: nameOr(m.Name, m.ID) + "（" + h.communityName(m.Community) + "）" + m.ID})
		}
	}
	return out
}

// bindingInput is what an account or token is given: a role, and the lanes, member,
// communities or streets it is bound to.
type bindingInput struct {
	Name, Role, Member   string
	Lanes                []string
	Communities, Streets []string
}

func (in bindingInput) issue() access.Issue {
	return access.Issue{Role: domain.Role(in.Role), Lanes: in.Lanes, Member: in.Member, Name: in.Name,
		Communities: in.Communities, Streets: in.Streets}
}

func bindingOf(form url.Values) bindingInput {
	return bindingInput{Name: strings.TrimSpace(form.Get("name")), Role: strings.TrimSpace(form.Get("role")),
		Member: strings.TrimSpace(form.Get("member")), Lanes: values(form, "lanes"),
		Communities: values(form, "communities"), Streets: values(form, "streets")}
}

func (h *handler) bindingFields(in bindingInput) []formField {
	return []formField{
		picker("role", "角色", roleOptions(), false, in.Role).required(),
		picker("lanes", "负责的街巷", h.laneOptions(), true, in.Lanes...).hint("驿站管家必选，可多选；其他角色不选").forRole(domain.RoleSteward),
		picker("member", "对应的党员", h.memberOptions(), false, in.Member).hint("党员账号必选；其他角色不选").forRole(domain.RoleMember),
		picker("communities", "负责的社区", h.communityOptions(), true, in.Communities...).hint("社区账号必选，可多选；其他角色不选").forRole(domain.RoleCommunity),
		picker("streets", "负责的街道", h.streetOptions(), true, in.Streets...).hint("街道账号必选，可多选；其他角色不选").forRole(domain.RoleStreet),
	}
}

// bindingFacts describe what an account or token is bound to.
func (h *handler) bindingFacts(t access.State) []fact {
	facts := []fact{{Label: "角色", Value: roleName(t.Issued.Role)}}
	if len(t.Issued.Lanes) > 0 {
		names := make([]string, len(t.Issued.Lanes))
		for i, l := range t.Issued.Lanes {
			names[i] = h.laneName(l)
		}
		facts = append(facts, fact{Label: "街巷", Value: strings.Join(names, "、")})
	}
	if t.Issued.Member != "" {
		facts = append(facts, fact{Label: "党员", Value: h.memberName(t.Issued.Member) + "（" + t.Issued.Member + "）"})
	}
	if len(t.Issued.Communities) > 0 {
		names := make([]string, len(t.Issued.Communities))
		for i, c := range t.Issued.Communities {
			names[i] = h.communityName(c)
		}
		facts = append(facts, fact{Label: "社区", Value: strings.Join(names, "、")})
	}
	if len(t.Issued.Streets) > 0 {
		names := make([]string, len(t.Issued.Streets))
		for i, s := range t.Issued.Streets {
			names[i] = h.streetName(s)
		}
		facts = append(facts, fact{Label: "街道", Value: strings.Join(names, "、")})
	}
	return facts
}

type accountInput struct {
	Username, Password string
	bindingInput
}

func (h *handler) accountForm(in accountInput) *adminForm {
	f := &adminForm{ID: "account-form", Title: "开通账号", Action: "/admin/accounts", Submit: "开通账号", Fields: []formField{
		textField("username", "用户名", in.Username).required().max(32).hint("3 到 32 位小写字母、数字或 . _ -，例如 wangfang"),
		textField("name", "姓名", in.Name).required().max(50).placeholder("王芳"),
		textField("password", "初始密码", "").typed("password").required().hint("至少 8 个字符；请当面或电话告知本人"),
	}}
	f.Fields[0].Autocomplete, f.Fields[2].Autocomplete = "off", "new-password"
	f.Fields = append(f.Fields, h.bindingFields(in.bindingInput)...)
	return f
}

// accountsPage lists the accounts; rowFault, when set, is the fault of a new password
// given for the account of that username.
func (h *handler) accountsPage(r *http.Request, s *session, form *adminForm, faultOf, fault string) adminPage {
	p := h.adminBase(r, s, "账号")
	p.Form, p.ListTitle, p.Empty = form, "账号", "还没有开通账号。"
	accounts, pg := page(r, h.svc.Dir.Accounts())
	for _, t := range accounts {
		u := t.Issued.Username
		row := adminRow{ID: u, Title: nameOr(t.Issued.Name, u), Facts: append([]fact{{Label: "用户名", Value: u}}, h.bindingFacts(t)...)}
		if t.Revoked {
			row.Badge, row.Muted = "已停用", true
		} else {
			pw := textField("password", "新密码", "").typed("password")
			pw.Autocomplete, pw.ID = "new-password", "password-"+u
			if u == faultOf {
				pw.Error = fault
			}
			row.Actions = []rowAction{
				{Action: "/admin/accounts/" + url.PathEscape(u) + "/password", Label: "设置新密码", Field: &pw},
				{Action: "/admin/accounts/" + url.PathEscape(u) + "/revoke", Label: "停用", Danger: true},
			}
		}
		p.Rows = append(p.Rows, row)
	}
	p.Pager = pg
	return p
}

func (h *handler) adminAccounts(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	in := accountInput{bindingInput: bindingInput{Role: string(domain.RoleSteward)}}
	h.adminRender(w, http.StatusOK, h.accountsPage(r, &s, h.accountForm(in), "", ""))
}

func (h *handler) adminAccountCreate(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	in := accountInput{Username: strings.TrimSpace(r.PostForm.Get("username")), Password: r.PostForm.Get("password"), bindingInput: bindingOf(r.PostForm)}
	_, err := h.svc.CreateAccount(r.Context(), h.meta(s.Actor), service.NewAccount{Username: in.Username, Password: in.Password, Issue: in.issue()})
	if err != nil {
		p := h.accountsPage(r, &s, h.accountForm(in), "", "")
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/accounts?ok=account", http.StatusSeeOther)
}

func (h *handler) adminAccountPassword(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	username := r.PathValue("username")
	if err := h.svc.SetPassword(r.Context(), h.meta(s.Actor), username, r.PostForm.Get("password")); err != nil {
		// The fault shows beside the new password of this account, not on the form above.
		p := h.accountsPage(r, &s, h.accountForm(accountInput{}), username, fieldsOf(err)["password"])
		p.Form = nil
		status := h.refused(r, &p, err)
		p.Form = h.accountForm(accountInput{bindingInput: bindingInput{Role: string(domain.RoleSteward)}})
		h.adminRender(w, status, p)
		return
	}
	http.Redirect(w, r, "/admin/accounts?ok=password", http.StatusSeeOther)
}

func (h *handler) adminAccountRevoke(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	if err := h.svc.RevokeAccount(r.Context(), h.meta(s.Actor), r.PathValue("username")); err != nil {
		p := h.accountsPage(r, &s, h.accountForm(accountInput{}), "", "")
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/accounts?ok=revoked", http.StatusSeeOther)
}

func (h *handler) tokenForm(in bindingInput) *adminForm {
	f := &adminForm{ID: "token-form", Title: "发放令牌", Action: "/admin/tokens", Submit: "发放令牌", Fields: []formField{
		textField("name", "使用者", in.Name).required().max(50).placeholder("柔桥后巷驿站终端").hint("令牌给谁或哪台设备使用"),
	}}
	f.Fields = append(f.Fields, h.bindingFields(in)...)
	// The token's id comes with the form: sent twice (a reload after issuing), it makes
	// one token, and the second answer says it exists instead of showing a new secret.
	f.Key = newKey()
	return f
}

func (h *handler) tokensPage(r *http.Request, s *session, form *adminForm) adminPage {
	p := h.adminBase(r, s, "令牌")
	p.Intro = "令牌给驿站终端、热线工具等设备使用；个人请开通账号，用用户名和密码登录。"
	p.Form, p.ListTitle, p.Empty = form, "已发放的令牌", "还没有发放令牌。"
	tokens, pg := page(r, h.svc.Dir.Tokens())
	for _, t := range tokens {
		row := adminRow{ID: t.ID, Title: nameOr(t.Issued.Name, "（未命名）"), Facts: append(h.bindingFacts(t), fact{Label: "编号", Value: t.ID})}
		if t.Revoked {
			row.Badge, row.Muted = "已停用", true
		} else {
			row.Actions = []rowAction{{Action: "/admin/tokens/" + url.PathEscape(t.ID) + "/revoke", Label: "停用", Danger: true}}
		}
		p.Rows = append(p.Rows, row)
	}
	p.Pager = pg
	return p
}

func (h *handler) adminTokens(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	h.adminRender(w, http.StatusOK, h.tokensPage(r, &s, h.tokenForm(bindingInput{Role: string(domain.RoleOperator)})))
}

func (h *handler) adminTokenIssue(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	in := bindingOf(r.PostForm)
	var secret string
	var err error
	if key := r.PostForm.Get("key"); key != "" {
		_, secret, err = h.svc.IssueTokenAs(r.Context(), h.meta(s.Actor), "tok-"+key, in.issue())
	} else {
		_, secret, err = h.svc.IssueToken(r.Context(), h.meta(s.Actor), in.issue())
	}
	if err != nil {
		p := h.tokensPage(r, &s, h.tokenForm(in))
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	// The secret is shown here once, and never again: only its digest is kept.
	p := h.tokensPage(r, &s, h.tokenForm(bindingInput{Role: string(domain.RoleOperator)}))
	p.Secret = &secretView{Name: in.Name, Role: roleName(domain.Role(in.Role)), Secret: secret}
	h.adminRender(w, http.StatusCreated, p)
}

func (h *handler) adminTokenRevoke(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminPost(w, r)
	if !ok {
		return
	}
	if err := h.svc.RevokeToken(r.Context(), h.meta(s.Actor), r.PathValue("id")); err != nil {
		p := h.tokensPage(r, &s, h.tokenForm(bindingInput{}))
		h.adminRender(w, h.refused(r, &p, err), p)
		return
	}
	http.Redirect(w, r, "/admin/tokens?ok=revoked", http.StatusSeeOther)
}
