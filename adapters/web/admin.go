package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/redlane/redlane/domain"
)

// The admin's pages (/admin and below) onboard a district in the browser: streets,
// communities, lanes, members and their teams, people's accounts and tokens. Each form
// posts back to its page, runs the same service command the API runs, and on a refusal
// shows the page again with what was typed and each fault beside its field.
//
//	/admin                     the sections, with counts
//	/admin/streets             street offices: list, register
//	/admin/communities         communities: list, register in a street
//	/admin/lanes               lanes: list, register in a community and street
//	/admin/members             members: list, register; /admin/members/{id}: change
//	/admin/teams               the teams and their members
//	/admin/accounts            people's accounts: list, open, revoke, set a password
//	/admin/tokens              tokens for kiosks and tools: list, issue (secret shown once), revoke

func (h *handler) adminRoutes() {
	h.mux.HandleFunc("GET /admin", h.adminHome)
	h.mux.HandleFunc("GET /admin/streets", h.adminStreets)
	h.mux.HandleFunc("POST /admin/streets", h.adminStreetCreate)
	h.mux.HandleFunc("GET /admin/communities", h.adminCommunities)
	h.mux.HandleFunc("POST /admin/communities", h.adminCommunityCreate)
	h.mux.HandleFunc("GET /admin/lanes", h.adminLanes)
	h.mux.HandleFunc("POST /admin/lanes", h.adminLaneCreate)
	h.mux.HandleFunc("GET /admin/members", h.adminMembers)
	h.mux.HandleFunc("POST /admin/members", h.adminMemberCreate)
	h.mux.HandleFunc("GET /admin/members/{id}", h.adminMemberEdit)
	h.mux.HandleFunc("POST /admin/members/{id}", h.adminMemberUpdate)
	h.mux.HandleFunc("POST /admin/members/{id}/erase-phone", h.adminMemberErasePhone)
	h.mux.HandleFunc("GET /admin/teams", h.adminTeams)
	h.mux.HandleFunc("GET /admin/accounts", h.adminAccounts)
	h.mux.HandleFunc("POST /admin/accounts", h.adminAccountCreate)
	h.mux.HandleFunc("POST /admin/accounts/{username}/password", h.adminAccountPassword)
	h.mux.HandleFunc("POST /admin/accounts/{username}/revoke", h.adminAccountRevoke)
	h.mux.HandleFunc("GET /admin/tokens", h.adminTokens)
	h.mux.HandleFunc("POST /admin/tokens", h.adminTokenIssue)
	h.mux.HandleFunc("POST /admin/tokens/{id}/revoke", h.adminTokenRevoke)
}

// adminSections are the admin's pages, as the tabs list them.
var adminSections = []link{
	{Href: "/admin/streets", Label: "街道"},
	{Href: "/admin/communities", Label: "社区"},
	{Href: "/admin/lanes", Label: "街巷"},
	{Href: "/admin/members", Label: "党员"},
	{Href: "/admin/teams", Label: "服务队"},
	{Href: "/admin/accounts", Label: "账号"},
	{Href: "/admin/tokens", Label: "令牌"},
}

// adminDone are the confirmations of the admin's actions (?ok=…).
var adminDone = map[string]string{
	"street":    "街道已登记。",
	"community": "社区已登记。",
	"lane":      "街巷已登记。",
	"member":    "党员已登记。",
	"member-up": "党员信息已保存。",
	"account":   "账号已开通。",
	"password":  "新密码已设置。",
	"revoked":   "已停用。",
	"erased":    "这位党员的手机号已销毁，历史记录中也无法再读出。",
}

// adminPageSize is how many entries a list shows at once.
const adminPageSize = 20

// formField is one field of an admin form: what was typed into it, and the fault the
// service found with it.
type formField struct {
	Name, Label string
	// Type is an input type (text, tel, password), or select, multiselect, checkboxes
	// or readonly.
	Type         string
	Value        string
	Options      []option // select, multiselect, checkboxes
	Required     bool
	Max          int
	Hint         string
	Placeholder  string
	Autocomplete string
	Error        string
	ID           string // the element's id; f-NAME when empty
	// ForRole shows the field only while the form's role picker is at this role (app.js;
	// hidden, it is disabled and so not sent). Without scripts every field shows.
	ForRole string
}

// DOMID is the id of the field's element.
func (f formField) DOMID() string {
	if f.ID != "" {
		return f.ID
	}
	return "f-" + f.Name
}

func textField(name, label, value string) formField {
	return formField{Name: name, Label: label, Type: "text", Value: value}
}

func (f formField) required() formField             { f.Required = true; return f }
func (f formField) max(n int) formField             { f.Max = n; return f }
func (f formField) hint(s string) formField         { f.Hint = s; return f }
func (f formField) placeholder(s string) formField  { f.Placeholder = s; return f }
func (f formField) typed(t string) formField        { f.Type = t; return f }
func (f formField) forRole(r domain.Role) formField { f.ForRole = string(r); return f }

// maxPickerOptions is how many choices a picker lists; past it, the id is typed.
const maxPickerOptions = 500

// picker is a field choosing one of options (or several, when multiple), selected as
// values say. Past maxPickerOptions choices it is a text field for ids, comma-separated
// when multiple.
func picker(name, label string, options []option, multiple bool, values ...string) formField {
	chosen := map[string]bool{}
	for _, v := range values {
		chosen[v] = true
	}
	if len(options) > maxPickerOptions {
		f := textField(name, label, strings.Join(values, ", "))
		f.Hint = "填写编号"
		if multiple {
			f.Hint = "填写编号，多个用逗号分开"
		}
		return f
	}
	f := formField{Name: name, Label: label, Type: "select"}
	if multiple {
		f.Type = "multiselect"
	}
	for _, o := range options {
		o.Selected = chosen[o.Value]
		f.Options = append(f.Options, o)
	}
	return f
}

// adminForm is a form of an admin page.
type adminForm struct {
	ID, Title, Action, Submit string
	Fields                    []formField
	Cancel                    string // a link back, when the form edits something
	Key                       string // names what the form makes, so that sending it twice makes one
}

// field returns the form's field named name.
func (f *adminForm) field(name string) *formField {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// fact is one line of a list entry: a label, a value, and a link when it leads on.
type fact struct {
	Label, Value string
	Href         string
}

// rowAction is a button on a list entry that posts to Action, with one field when the
// action needs one (a new password).
type rowAction struct {
	Action, Label string
	Danger        bool
	Field         *formField
}

// adminRow is one entry of an admin list.
type adminRow struct {
	ID, Title string
	Badge     string
	Muted     bool
	Facts     []fact
	Edit      string // the entry's own page, when it has one
	Actions   []rowAction
}

// pager pages a list: where the previous and next pages are, and which entries show.
type pager struct {
	Prev, Next string
	Shown      string
}

// secretView is a token's secret, shown once when it is issued.
type secretView struct {
	Name, Role, Secret string
}

// adminPage is every admin page: the tabs, maybe a form, maybe a secret shown once,
// and a list.
type adminPage struct {
	base
	Heading   string
	Intro     string
	Tabs      []link
	Form      *adminForm
	Secret    *secretView
	ListTitle string
	Rows      []adminRow
	Empty     string
	Pager     pager
	// Sections are the admin home's cards.
	Sections []adminSection
}

type adminSection struct {
	Href, Label, Count, About string
}

// adminBase is the frame of an admin page titled title, its tab current.
func (h *handler) adminBase(r *http.Request, s *session, title string) adminPage {
	b := h.base(r, s, title)
	if msg, ok := adminDone[r.URL.Query().Get("ok")]; ok {
		b.Flash = msg
	}
	p := adminPage{base: b, Heading: title}
	for _, l := range adminSections {
		l.Current = l.Href == r.URL.Path || strings.HasPrefix(r.URL.Path, l.Href+"/")
		p.Tabs = append(p.Tabs, l)
	}
	return p
}

// adminOnly returns the session of an admin, or answers: signed out to the sign-in
// page, any other role 403.
func (h *handler) adminOnly(w http.ResponseWriter, r *http.Request) (session, bool) {
	return h.require(w, r, domain.RoleAdmin)
}

// adminPost is adminOnly for a form's POST: the session's CSRF token checked too.
func (h *handler) adminPost(w http.ResponseWriter, r *http.Request) (session, bool) {
	s, ok := h.require(w, r, domain.RoleAdmin)
	if !ok || !h.parseForm(w, r, &s) {
		return s, false
	}
	return s, true
}

// page returns the entries of items on the page the request asks for (?page=N), and
// the pager to the others.
func page[T any](r *http.Request, items []T) ([]T, pager) {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pages := max((len(items)+adminPageSize-1)/adminPageSize, 1)
	n = min(max(n, 1), pages)
	from := (n - 1) * adminPageSize
	to := min(from+adminPageSize, len(items))
	var p pager
	link := func(k int) string {
		q := url.Values{}
		for key, vals := range r.URL.Query() {
			if key != "page" && key != "ok" {
				q[key] = vals
			}
		}
		q.Set("page", strconv.Itoa(k))
		return r.URL.Path + "?" + q.Encode()
	}
	if n > 1 {
		p.Prev = link(n - 1)
	}
	if n < pages {
		p.Next = link(n + 1)
	}
	if len(items) > 0 {
		p.Shown = "第 " + strconv.Itoa(from+1) + "–" + strconv.Itoa(to) + " 条，共 " + strconv.Itoa(len(items)) + " 条"
	}
	return items[from:to], p
}

// conflictField is the field a refusal of a taken id or name is about.
var conflictField = map[domain.Code]string{
	domain.CodeStreetExists:    "id",
	domain.CodeCommunityExists: "id",
	domain.CodeLaneExists:      "id",
	domain.CodeMemberExists:    "id",
	domain.CodeAccountExists:   "username",
	domain.CodeTokenExists:     "name",
}

// refused puts err on the page: its headline and lines on top, and each field's fault
// in Chinese beside the field of the form it names. It returns the status to answer.
func (h *handler) refused(r *http.Request, p *adminPage, err error) int {
	p.Problem = h.problemOf(r, err)
	var de *domain.Error
	if p.Form == nil || !errors.As(err, &de) {
		return p.Problem.Status
	}
	put := func(name, msg string) {
		if f := p.Form.field(name); f != nil && f.Error == "" {
			f.Error = msg
		}
	}
	for _, fe := range de.Fields {
		put(formFieldOf(fe.Field), fieldMessage(fe.Message))
	}
	if name, ok := conflictField[de.Code]; ok && len(p.Problem.Lines) > 0 {
		put(name, p.Problem.Lines[0])
	}
	return p.Problem.Status
}

// fieldsOf are the faults err finds with fields, in Chinese, by form field.
func fieldsOf(err error) map[string]string {
	out := map[string]string{}
	var de *domain.Error
	if errors.As(err, &de) {
		for _, fe := range de.Fields {
			if f := formFieldOf(fe.Field); out[f] == "" {
				out[f] = fieldMessage(fe.Message)
			}
		}
	}
	return out
}

// formFieldOf is the form field a domain field is entered in: lanes[2] in lanes,
// point.lat in point.
func formFieldOf(field string) string {
	if i := strings.IndexAny(field, "[."); i > 0 {
		return field[:i]
	}
	return field
}

// splitList splits what was typed as a list: on commas (either width), 、 and spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '　'
	})
}

// values is what was posted under name: every value of a multiselect or checkboxes,
// or a typed list split.
func values(form url.Values, name string) []string {
	var out []string
	for _, v := range form[name] {
		out = append(out, splitList(v)...)
	}
	return out
}

func (h *handler) adminRender(w http.ResponseWriter, status int, p adminPage) {
	h.render(w, status, "admin", p)
}

// adminHome answers GET /admin: a card per section, with how many it holds.
func (h *handler) adminHome(w http.ResponseWriter, r *http.Request) {
	s, ok := h.adminOnly(w, r)
	if !ok {
		return
	}
	p := h.adminBase(r, &s, "管理")
	p.Intro = "在这里登记街道、社区、街巷和党员，为驿站管家、党员和接线员开通账号。"
	dir := h.svc.Dir
	count := func(n int, unit string) string { return strconv.Itoa(n) + " " + unit }
	p.Sections = []adminSection{
		{"/admin/streets", "街道", count(len(dir.Streets()), "个"), "街道办事处"},
		{"/admin/communities", "社区", count(len(dir.Communities()), "个"), "每个社区属于一个街道"},
		{"/admin/lanes", "街巷", count(len(dir.Lanes()), "条"), "每条街巷一个服务驿站"},
		{"/admin/members", "党员", count(len(dir.Members()), "名"), "手机、技能和服务队"},
		{"/admin/teams", "服务队", count(len(teamsOf(dir.Members())), "支"), "红色方舟、护航者、红心特快……"},
		{"/admin/accounts", "账号", count(len(dir.Accounts()), "个"), "用户名和密码登录"},
		{"/admin/tokens", "令牌", count(len(dir.Tokens()), "个"), "终端和热线工具使用"},
	}
	h.adminRender(w, http.StatusOK, p)
}

// streetName is what the pages call a street office: its registered name, else its id.
func (h *handler) streetName(id string) string {
	if name, ok := h.svc.Dir.StreetName(id); ok {
		return name
	}
	return id
}

func itoaInt(n int) string { return strconv.Itoa(n) }
