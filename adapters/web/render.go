package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/query"
)

// base is what every page shows around its content.
type base struct {
	Title   string
	Who     string // the signed-in user, e.g. 王芳（驿站管家）
	Signed  bool
	Bearer  bool // signed in by a header: no sign-out form
	CSRF    string
	Flash   string
	Problem *problem
	Nav     []link
}

type link struct {
	Href, Label string
	Current     bool
}

// base returns the frame of a page for s (nil when nobody is signed in), with the
// confirmation the last action asked for (?ok=action).
func (h *handler) base(r *http.Request, s *session, title string) base {
	b := base{Title: title, Flash: done[r.URL.Query().Get("ok")]}
	if s != nil {
		b.Signed, b.Bearer, b.CSRF = true, s.bearer, s.CSRF()
		name := s.Actor.Name
		if name == "" {
			name = s.Actor.ID
		}
		b.Who = name
		if role := roleName(s.Actor.Role); role != name {
			b.Who += "（" + role + "）"
		}
		switch s.Actor.Role {
		case domain.RoleSteward:
			b.Nav = []link{{Href: "/board", Label: "工作台"}, {Href: "/intake", Label: "代居民点单"}}
		case domain.RoleMember:
			b.Nav = []link{{Href: "/tasks", Label: "我的任务"}}
		case domain.RoleOperator:
			b.Nav = []link{{Href: "/intake", Label: "受理诉求"}}
		case domain.RoleCommunity, domain.RoleStreet:
			b.Nav = []link{{Href: "/escalations", Label: "兜底工作台"}}
		case domain.RoleAuditor:
			b.Nav = []link{{Href: "/", Label: "首页"}}
		case domain.RoleAdmin:
			b.Nav = []link{{Href: "/admin", Label: "管理"}, {Href: "/admin/members", Label: "党员"}, {Href: "/admin/accounts", Label: "账号"}}
		}
	} else {
		b.Nav = []link{{Href: "/intake", Label: "我要点单"}, {Href: "/", Label: "登录"}}
	}
	for i := range b.Nav {
		b.Nav[i].Current = b.Nav[i].Href == r.URL.Path
	}
	return b
}

var funcs = template.FuncMap{
	"join":        strings.Join,
	"notRedlanes": func() string { return query.NotRedlanesZH },
	"fours":       groupsOfFour,
}

// parsePages parses each page with the layout; the screen has a layout of its own.
func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "home", "board", "order", "tasks", "intake", "receipt", "audit", "error", "slip", "find", "escalations", "office_order", "admin"} {
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	pages["screen"] = template.Must(template.New("screen").Funcs(funcs).ParseFS(templateFS, "templates/screen.html"))
	return pages
}

// render writes page name (its template "page") with status.
func (h *handler) render(w http.ResponseWriter, status int, name string, data any) {
	h.renderTemplate(w, status, name, "page", data)
}

// renderTemplate writes one named template of a page: the whole page or a fragment.
func (h *handler) renderTemplate(w http.ResponseWriter, status int, page, tmpl string, data any) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, tmpl, data); err != nil {
		h.log.Error("render page", "page", page, "template", tmpl, "err", err)
		http.Error(w, "页面出错了", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fragmentHTML renders a fragment to a string, for streams.
func (h *handler) fragmentHTML(page, tmpl string, data any) (string, error) {
	var buf bytes.Buffer
	err := h.pages[page].ExecuteTemplate(&buf, tmpl, data)
	return buf.String(), err
}

type errorPage struct {
	base
}

// fail answers with an error page. err, when not nil, is logged when it is internal.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, s *session, p problem) {
	b := h.base(r, s, p.Title)
	b.Problem = &p
	h.render(w, p.Status, "error", errorPage{base: b})
}

// failErr answers with the page for err, logging internal errors once, here.
func (h *handler) failErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	p := describe(err)
	if p.Status == http.StatusInternalServerError {
		h.log.Error("page", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.fail(w, r, s, p)
}

// problemOf is describe, logging internal errors: for pages that show the problem
// within themselves.
func (h *handler) problemOf(r *http.Request, err error) *problem {
	p := describe(err)
	if p.Status == http.StatusInternalServerError {
		h.log.Error("page", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return &p
}
