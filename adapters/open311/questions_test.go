package open311_test

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"github.com/redlane/redlane/adapters/open311"
)

type xmlAttribute struct {
	Variable            string `xml:"variable"`
	Code                string `xml:"code"`
	Datatype            string `xml:"datatype"`
	Required            string `xml:"required"`
	DatatypeDescription string `xml:"datatype_description"`
	Order               int    `xml:"order"`
	Description         string `xml:"description"`
	Values              []struct {
		Key  string `xml:"key"`
		Name string `xml:"name"`
	} `xml:"values>value"`
}

type xmlAttributes struct {
	XMLName    xml.Name       `xml:"service_definition"`
	Code       string         `xml:"service_code"`
	Attributes []xmlAttribute `xml:"attributes>attribute"`
}

// TestAttributesAreTheCategorysQuestions walks a service definition with attributes in
// both formats, after an admin gives the category a required question of each list kind,
// and posts answers: the right ones are stored with the order, the wrong ones refused
// in Open311's shape naming attribute[CODE], writing nothing.
func TestAttributesAreTheCategorysQuestions(t *testing.T) {
	h := newHarness(t, open311.Config{})
	w := h.seed()
	h.must(200, h.api("PUT", "/api/v1/categories/repair", adminToken, map[string]any{
		"name": "日常维修", "skills": []string{"repair"},
		"questions": []any{
			map[string]any{"code": "floor", "description": "在几楼？", "datatype": "number", "required": true},
			map[string]any{"code": "home_visit", "description": "是否需要入户？", "datatype": "singlevaluelist", "required": true,
				"values": []any{map[string]any{"key": "yes", "name": "需要入户"}, map[string]any{"key": "no", "name": "不需要入户"}}},
			map[string]any{"code": "rooms", "description": "哪些房间？", "datatype": "multivaluelist",
				"values": []any{map[string]any{"key": "kitchen", "name": "厨房"}, map[string]any{"key": "bath", "name": "卫生间"}}},
		},
	}))

	var services []map[string]any
	parseJSON(t, h.must(200, h.get("/open311/v2/services.json")), &services)
	for _, s := range services {
		want := s["service_code"] == "repair" || s["service_code"] == "medical"
		if s["metadata"] != want {
			t.Errorf("service %v has metadata %v, want %v", s["service_code"], s["metadata"], want)
		}
	}

	var x xmlAttributes
	parseXML(t, h.must(200, h.get("/open311/v2/services/repair.xml")), &x)
	if len(x.Attributes) != 3 {
		t.Fatalf("services/repair.xml has %d attributes, want 3: %+v", len(x.Attributes), x)
	}
	visit := x.Attributes[1]
	if visit.Code != "home_visit" || visit.Datatype != "singlevaluelist" || visit.Required != "true" || visit.Variable != "true" ||
		visit.Order != 2 || visit.Description != "是否需要入户？" || visit.DatatypeDescription == "" ||
		len(visit.Values) != 2 || visit.Values[0].Key != "yes" || visit.Values[0].Name != "需要入户" {
		t.Errorf("home_visit as XML: %+v", visit)
	}
	var j struct {
		Code       string           `json:"service_code"`
		Attributes []map[string]any `json:"attributes"`
	}
	parseJSON(t, h.must(200, h.get("/open311/v2/services/repair.json")), &j)
	hasFields(t, "services/repair.json attributes", j.Attributes, "variable", "code", "datatype", "required", "datatype_description", "order", "description")
	if len(j.Attributes) != 3 || j.Attributes[0]["datatype"] != "number" || j.Attributes[2]["datatype"] != "multivaluelist" {
		t.Errorf("services/repair.json: %+v", j)
	}
	if vals, _ := j.Attributes[2]["values"].([]any); len(vals) != 2 {
		t.Errorf("rooms' values as JSON: %v", j.Attributes[2]["values"])
	}
	var none struct {
		Attributes []any `json:"attributes"`
	}
	parseJSON(t, h.must(200, h.get("/open311/v2/services/policy.json")), &none)
	if none.Attributes == nil || len(none.Attributes) != 0 {
		t.Errorf("a service without questions has attributes %v, want []", none.Attributes)
	}

	answered := func(extra ...string) url.Values {
		return form(w.operator, append([]string{"attribute[floor]", "3", "attribute[home_visit]", "yes"}, extra...)...)
	}
	for _, tt := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"a missing required answer", form(w.operator), "attribute[floor]"},
		{"an unknown attribute", answered("attribute[colour]", "red"), "attribute[colour]"},
		{"a word for a number", answered("attribute[floor]", "三楼"), "attribute[floor]"},
		{"a value not in the list", answered("attribute[home_visit]", "maybe"), "attribute[home_visit]"},
	} {
		for _, ext := range []string{".xml", ".json"} {
			t.Run(tt.name+" is refused as "+ext, func(t *testing.T) {
				before := h.count()
				r := h.post("/open311/v2/requests"+ext, tt.form)
				if r.status != 400 {
					t.Fatalf("status %d, want 400: %s", r.status, r.raw)
				}
				if !strings.Contains(string(r.raw), tt.field) {
					t.Errorf("the error does not name %s: %s", tt.field, r.raw)
				}
				if ext == ".xml" {
					var e xmlErrors
					parseXML(t, r, &e)
					if len(e.Errors) == 0 || e.Errors[0].Code != 400 {
						t.Errorf("errors %+v", e)
					}
				}
				if h.count() != before {
					t.Error("a refused request wrote events")
				}
			})
		}
	}

	f := answered()
	f["attribute[rooms][]"] = []string{"bath", "kitchen"}
	var created []struct {
		ID string `json:"service_request_id"`
	}
	parseJSON(t, h.must(201, h.post("/open311/v2/requests.json", f)), &created)
	if len(created) != 1 || created[0].ID == "" {
		t.Fatalf("created %+v", created)
	}
	var o struct {
		Channel string
		Answers []struct{ Code, Question, Answer string }
	}
	h.must(200, h.api("GET", "/api/v1/orders/"+created[0].ID, w.steward, nil)).json(t, &o)
	if o.Channel != "open311" || len(o.Answers) != 3 || o.Answers[0].Answer != "3" || o.Answers[1].Answer != "需要入户" ||
		o.Answers[2].Question != "哪些房间？" || o.Answers[2].Answer != "卫生间、厨房" {
		t.Errorf("the order holds %+v", o)
	}
}
