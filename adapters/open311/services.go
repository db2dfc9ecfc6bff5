package open311

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redlane/redlane/domain/order"
)

// Specification is the specification discovery names.
const Specification = "http://wiki.open311.org/GeoReport_v2"

type discoveryDoc struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact" json:"contact"`
	KeyService string     `xml:"key_service" json:"key_service"`
	Endpoints  []endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

type endpoint struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

// keyService says where an integrator gets an api_key.
const keyService = "api_key is a hotline operator's or a station steward's API token; ask the district's Redlane admin, who issues it (POST /api/v1/tokens)."

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, f format, _ string) {
	changed := datetime(s.started)
	d := discoveryDoc{
		Changeset: changed, Contact: s.cfg.Contact, KeyService: keyService,
		Endpoints: []endpoint{{
			Specification: Specification, URL: s.baseURL(r), Changeset: changed, Type: "production",
			Formats: []string{"text/xml", "application/json"},
		}},
	}
	write(w, http.StatusOK, f, d, d)
}

// baseURL is the endpoint's absolute URL, ending in /open311/v2.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + strings.TrimSuffix(Prefix, "/")
}

// serviceDoc is one service: a category of the catalogue.
type serviceDoc struct {
	Code        string `xml:"service_code" json:"service_code"`
	Name        string `xml:"service_name" json:"service_name"`
	Description string `xml:"description" json:"description"`
	Metadata    bool   `xml:"metadata" json:"metadata"`
	Type        string `xml:"type" json:"type"`
	Keywords    string `xml:"keywords" json:"keywords"`
	Group       string `xml:"group" json:"group"`
}

type servicesDoc struct {
	XMLName  xml.Name     `xml:"services"`
	Services []serviceDoc `xml:"service"`
}

func (s *Server) services(w http.ResponseWriter, r *http.Request, f format, _ string) {
	doc := servicesDoc{Services: []serviceDoc{}}
	for _, c := range s.svc.Catalog().All() {
		doc.Services = append(doc.Services, serviceOf(c))
	}
	write(w, http.StatusOK, f, doc, doc.Services)
}

// serviceOf shows a category as a service: its code and Chinese name, what it is for and
// how soon it is done, in Chinese; metadata when it asks questions; a group to file it
// under and keywords to find it by.
func serviceOf(c order.Category) serviceDoc {
	desc := c.Name + "：由驿站管家派给社区党员志愿者办理"
	if len(c.Skills) > 0 {
		names := make([]string, len(c.Skills))
		for i, sk := range c.Skills {
			names[i] = skillName(sk)
		}
		desc = c.Name + "：由驿站管家派给具备" + strings.Join(names, "、") + "技能的社区党员办理"
	}
	desc += fmt.Sprintf("。普通诉求%s内接单、%s内办结；加急诉求%s内接单、%s内办结。",
		span(c.Normal.Accept), span(c.Normal.Complete), span(c.Urgent.Accept), span(c.Urgent.Complete))
	keywords := []string{c.Name, c.Code}
	for _, sk := range c.Skills {
		keywords = append(keywords, skillName(sk))
	}
	return serviceDoc{
		Code: c.Code, Name: c.Name, Description: desc, Metadata: len(attributesOf(c)) > 0, Type: "realtime",
		Keywords: strings.Join(keywords, ", "), Group: groupOf(c.Code),
	}
}

// span says a duration in Chinese: 30分钟, 72小时, 14天.
func span(d time.Duration) string {
	switch {
	case d >= 7*24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d天", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d小时", d/time.Hour)
	}
	return fmt.Sprintf("%d分钟", d/time.Minute)
}

// groups files the catalogue's categories for clients that show services in groups.
var groups = map[string]string{
	"consultation": "咨询服务",
	"policy":       "咨询服务",
	"medical":      "医疗健康",
	"repair":       "维修与市容",
	"city":         "维修与市容",
	"errand":       "邻里互助",
	"dispute":      "邻里互助",
}

func groupOf(code string) string {
	if g, ok := groups[code]; ok {
		return g
	}
	return "其他服务"
}

// skillNames are members' skills in Chinese, for services' descriptions and keywords.
var skillNames = map[string]string{
	"medical": "医疗", "legal": "法律", "repair": "维修", "electrical": "电工", "education": "教育",
	"fire": "消防", "fire-safety": "消防", "counselling": "心理疏导", "policy": "政策", "errand": "代办",
	"mediation": "调解",
}

func skillName(s string) string {
	if n, ok := skillNames[s]; ok {
		return n
	}
	return s
}

// attributeDoc is one question of a service (an Open311 attribute).
type attributeDoc struct {
	Variable            bool       `xml:"variable" json:"variable"`
	Code                string     `xml:"code" json:"code"`
	Datatype            string     `xml:"datatype" json:"datatype"`
	Required            bool       `xml:"required" json:"required"`
	DatatypeDescription string     `xml:"datatype_description" json:"datatype_description"`
	Order               int        `xml:"order" json:"order"`
	Description         string     `xml:"description" json:"description"`
	Values              []valueDoc `xml:"values>value,omitempty" json:"values,omitempty"`
}

type valueDoc struct {
	Key  string `xml:"key" json:"key"`
	Name string `xml:"name" json:"name"`
}

// definitionXML is a service definition as XML: the attributes inside <attributes>, an
// empty <attributes/> when there are none.
type definitionXML struct {
	XMLName    xml.Name `xml:"service_definition"`
	Code       string   `xml:"service_code"`
	Attributes struct {
		Items []attributeDoc `xml:"attribute"`
	} `xml:"attributes"`
}

// definitionJSON is a service definition as JSON: attributes [] when there are none.
type definitionJSON struct {
	Code       string         `json:"service_code"`
	Attributes []attributeDoc `json:"attributes"`
}

func (s *Server) serviceDefinition(w http.ResponseWriter, r *http.Request, f format, code string) {
	c, ok := s.svc.Catalog().Lookup(code)
	if !ok || c.Code != code {
		s.fail(w, r, f, notFound("service_code: no such service: "+code))
		return
	}
	attrs := attributesOf(c)
	x := definitionXML{Code: c.Code}
	x.Attributes.Items = attrs
	write(w, http.StatusOK, f, x, definitionJSON{Code: c.Code, Attributes: attrs})
}

// attributesOf lists a category's questions as Open311 attributes, in order from 1.
// Every one is variable: a question the client asks of the resident.
func attributesOf(c order.Category) []attributeDoc {
	out := []attributeDoc{}
	for i, q := range c.Questions {
		a := attributeDoc{Variable: true, Code: q.Code, Datatype: string(q.Datatype), Required: q.Required,
			DatatypeDescription: datatypeDescriptions[q.Datatype], Order: i + 1, Description: q.Description}
		for _, v := range q.Values {
			a.Values = append(a.Values, valueDoc{Key: v.Key, Name: v.Name})
		}
		out = append(out, a)
	}
	return out
}

// datatypeDescriptions tell a resident, in Chinese, how to answer each datatype.
var datatypeDescriptions = map[order.Datatype]string{
	order.DatatypeString:          "请填写一行文字",
	order.DatatypeNumber:          "请填写数字",
	order.DatatypeDatetime:        "请填写日期时间，如 2026-11-30T14:00:00+08:00",
	order.DatatypeText:            "请填写文字，可多行",
	order.DatatypeSingleValueList: "请选择一项",
	order.DatatypeMultiValueList:  "可选择多项",
}
