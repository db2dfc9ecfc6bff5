package open311_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/redlane/redlane/adapters/open311"
)

// The documents as a client reads them back, written here from the specification, not
// from the package's own types.
type (
	xmlDiscovery struct {
		XMLName   xml.Name `xml:"discovery"`
		Changeset string   `xml:"changeset"`
		Endpoints []struct {
			Specification string   `xml:"specification"`
			URL           string   `xml:"url"`
			Formats       []string `xml:"formats>format"`
		} `xml:"endpoints>endpoint"`
	}
	xmlService struct {
		Code        string `xml:"service_code"`
		Name        string `xml:"service_name"`
		Description string `xml:"description"`
		Metadata    string `xml:"metadata"`
		Type        string `xml:"type"`
		Keywords    string `xml:"keywords"`
		Group       string `xml:"group"`
	}
	xmlServices struct {
		XMLName  xml.Name     `xml:"services"`
		Services []xmlService `xml:"service"`
	}
	xmlDefinition struct {
		XMLName    xml.Name  `xml:"service_definition"`
		Code       string    `xml:"service_code"`
		Attributes *struct{} `xml:"attributes"`
	}
	xmlRequest struct {
		ID                string `xml:"service_request_id"`
		Token             string `xml:"token"`
		Status            string `xml:"status"`
		StatusNotes       string `xml:"status_notes"`
		ServiceName       string `xml:"service_name"`
		ServiceCode       string `xml:"service_code"`
		Description       string `xml:"description"`
		AgencyResponsible string `xml:"agency_responsible"`
		ServiceNotice     string `xml:"service_notice"`
		Requested         string `xml:"requested_datetime"`
		Updated           string `xml:"updated_datetime"`
		Expected          string `xml:"expected_datetime"`
		Address           string `xml:"address"`
		AddressID         string `xml:"address_id"`
		Number            string `xml:"redlane_number"`
		Receipt           string `xml:"redlane_receipt"`
	}
	xmlRequests struct {
		XMLName  xml.Name     `xml:"service_requests"`
		Requests []xmlRequest `xml:"request"`
	}
	xmlUpdate struct {
		UpdateID  string `xml:"update_id"`
		RequestID string `xml:"service_request_id"`
		Status    string `xml:"status"`
		Updated   string `xml:"updated_datetime"`
		Desc      string `xml:"description"`
		External  string `xml:"external_status_code"`
	}
	xmlUpdates struct {
		XMLName xml.Name    `xml:"service_request_updates"`
		Updates []xmlUpdate `xml:"request_update"`
	}
	xmlErrors struct {
		XMLName xml.Name `xml:"errors"`
		Errors  []struct {
			Code        int    `xml:"code"`
			Description string `xml:"description"`
		} `xml:"error"`
	}
)

// parseXML checks an answer is a well-formed UTF-8 XML document with the declaration,
// served as XML, and decodes it into dst.
func parseXML(tb testing.TB, r reply, dst any) {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		tb.Fatalf("Content-Type %q, want text/xml; charset=utf-8", ct)
	}
	if !bytes.HasPrefix(r.raw, []byte(`<?xml version="1.0" encoding="utf-8"?>`)) {
		tb.Fatalf("no XML declaration: %.80s", r.raw)
	}
	if !utf8.Valid(r.raw) {
		tb.Fatalf("not UTF-8: %q", r.raw)
	}
	// Well-formed from end to end, not only as far as dst reaches.
	dec := xml.NewDecoder(bytes.NewReader(r.raw))
	for {
		_, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				tb.Fatalf("not well-formed XML (%v): %s", err, r.raw)
			}
			break
		}
	}
	if err := xml.Unmarshal(r.raw, dst); err != nil {
		tb.Fatalf("cannot decode XML (%v): %s", err, r.raw)
	}
}

// parseJSON checks an answer is JSON, served as JSON, and decodes it into dst.
func parseJSON(tb testing.TB, r reply, dst any) {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		tb.Fatalf("Content-Type %q, want application/json; charset=utf-8", ct)
	}
	r.json(tb, dst)
}

// hasFields fails unless every object holds every field.
func hasFields(tb testing.TB, what string, objs []map[string]any, fields ...string) {
	tb.Helper()
	if len(objs) == 0 {
		tb.Fatalf("%s: no items", what)
	}
	for i, o := range objs {
		for _, f := range fields {
			if _, ok := o[f]; !ok {
				tb.Errorf("%s[%d] has no %q: %v", what, i, f, o)
			}
		}
	}
}

// noResident fails if an answer shows the resident's name or phone.
func noResident(tb testing.TB, path string, r reply) {
	tb.Helper()
	for _, s := range []string{residentLast + residentFirst, residentPhone, "zhang@example.com", "5678"} {
		if bytes.Contains(r.raw, []byte(s)) {
			tb.Errorf("GET %s shows %q: %s", path, s, r.raw)
		}
	}
}

var requestFields = []string{"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
	"agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id"}

func TestEveryEndpointInBothFormats(t *testing.T) {
	h := newHarness(t, open311.Config{})
	w := h.seed()

	// Place one request in each format.
	var created []xmlRequest
	parseXML(t, h.must(201, h.post("/open311/v2/requests.xml", form(w.operator))), &struct {
		XMLName  xml.Name      `xml:"service_requests"`
		Requests *[]xmlRequest `xml:"request"`
	}{Requests: &created})
	var createdJSON []map[string]any
	parseJSON(t, h.must(201, h.post("/open311/v2/requests.json", form(w.steward, "service_code", "city", "address_id", "",
		"address_string", "柔桥后巷5号门口", "description", "夜宵摊深夜噪音扰民"))), &createdJSON)
	if len(created) != 1 || created[0].ID == "" || created[0].Receipt == "" || created[0].Number == "" || created[0].Token != "" ||
		!strings.Contains(created[0].ServiceNotice, "前办结") {
		t.Fatalf("POST requests.xml answered %+v", created)
	}
	hasFields(t, "POST requests.json", createdJSON, "service_request_id", "service_notice", "redlane_receipt", "redlane_number")
	if _, token := createdJSON[0]["token"]; token {
		t.Errorf("POST answered both an id and a token: %v", createdJSON[0])
	}
	id, number := created[0].ID, created[0].Number
	id2, _ := createdJSON[0]["service_request_id"].(string)

	t.Run("discovery", func(t *testing.T) {
		var d xmlDiscovery
		parseXML(t, h.must(200, h.get("/open311/v2/discovery.xml")), &d)
		if len(d.Endpoints) != 1 || d.Endpoints[0].Specification != "http://wiki.open311.org/GeoReport_v2" ||
			!strings.HasSuffix(d.Endpoints[0].URL, "/open311/v2") ||
			!slices.Equal(d.Endpoints[0].Formats, []string{"text/xml", "application/json"}) {
			t.Errorf("discovery.xml = %+v", d)
		}
		var j map[string]any
		parseJSON(t, h.must(200, h.get("/open311/v2/discovery.json")), &j)
		eps, _ := j["endpoints"].([]any)
		if len(eps) != 1 {
			t.Fatalf("discovery.json endpoints = %v", j["endpoints"])
		}
		ep, _ := eps[0].(map[string]any)
		hasFields(t, "discovery.json endpoint", []map[string]any{ep}, "specification", "url", "changeset", "type", "formats")
		hasFields(t, "discovery.json", []map[string]any{j}, "changeset", "contact", "key_service", "endpoints")
	})

	t.Run("services and every definition", func(t *testing.T) {
		var x xmlServices
		parseXML(t, h.must(200, h.get("/open311/v2/services.xml")), &x)
		var j []map[string]any
		parseJSON(t, h.must(200, h.get("/open311/v2/services.json")), &j)
		hasFields(t, "services.json", j, "service_code", "service_name", "description", "metadata", "type", "keywords", "group")
		if len(x.Services) != 7 || len(j) != len(x.Services) {
			t.Fatalf("services: %d in XML, %d in JSON; want the 7 categories", len(x.Services), len(j))
		}
		names := map[string]string{}
		for i, s := range x.Services {
			names[s.Code] = s.Name
			if s.Type != "realtime" || (s.Metadata != "true" && s.Metadata != "false") || s.Group == "" || s.Keywords == "" || s.Description == "" {
				t.Errorf("service %+v", s)
			}
			if j[i]["service_code"] != s.Code || j[i]["service_name"] != s.Name {
				t.Errorf("services.json[%d] = %v, XML has %s %s", i, j[i], s.Code, s.Name)
			}
			var def xmlDefinition
			parseXML(t, h.must(200, h.get("/open311/v2/services/"+s.Code+".xml")), &def)
			if def.Code != s.Code || def.Attributes == nil {
				t.Errorf("services/%s.xml = %+v", s.Code, def)
			}
			var dj map[string]any
			parseJSON(t, h.must(200, h.get("/open311/v2/services/"+s.Code+".json")), &dj)
			if attrs, ok := dj["attributes"].([]any); dj["service_code"] != s.Code || !ok || attrs == nil {
				t.Errorf("services/%s.json = %v, want attributes []", s.Code, dj)
			}
		}
		// Chinese text comes back as it went in, in both formats.
		if names["repair"] != "日常维修" || names["medical"] != "医疗服务" || names["dispute"] != "邻里纠纷" {
			t.Errorf("service names %v", names)
		}
	})

	t.Run("requests", func(t *testing.T) {
		var x xmlRequests
		r := h.must(200, h.get("/open311/v2/requests.xml"))
		noResident(t, "requests.xml", r)
		parseXML(t, r, &x)
		var j []map[string]any
		r = h.must(200, h.get("/open311/v2/requests.json"))
		noResident(t, "requests.json", r)
		parseJSON(t, r, &j)
		hasFields(t, "requests.json", j, requestFields...)
		if len(x.Requests) != 2 || len(j) != 2 || x.Requests[0].ID != id2 || x.Requests[1].ID != id {
			t.Fatalf("requests.xml lists %+v; want the two placed, newest first", x.Requests)
		}
		got := x.Requests[1]
		want := xmlRequest{ID: id, Status: "open", ServiceName: "日常维修", ServiceCode: "repair",
			Description: "楼道灯不亮了\n三单元二楼的感应灯坏了一周，老人晚上下楼不方便。", AgencyResponsible: "taoyuan社区",
			Address: "柔桥后巷", AddressID: "rouqiao-houxiang", Number: number}
		got.Requested, got.Updated, got.Expected, got.ServiceNotice = "", "", "", ""
		if got != want {
			t.Errorf("request\n got %+v\nwant %+v", got, want)
		}
		if !strings.Contains(x.Requests[0].Description, "地址：柔桥后巷5号门口") || x.Requests[0].ServiceName != "城市管理" {
			t.Errorf("the request by address_string: %+v", x.Requests[0])
		}
		checkTimes(t, x.Requests[1])
	})

	t.Run("one request by id and by number, and a token", func(t *testing.T) {
		for _, key := range []string{id, number} {
			var x xmlRequests
			r := h.must(200, h.get("/open311/v2/requests/"+key+".xml"))
			noResident(t, key, r)
			parseXML(t, r, &x)
			if len(x.Requests) != 1 || x.Requests[0].ID != id || x.Requests[0].Number != number {
				t.Errorf("requests/%s.xml = %+v", key, x.Requests)
			}
			var j []map[string]any
			parseJSON(t, h.must(200, h.get("/open311/v2/requests/"+key+".json")), &j)
			hasFields(t, "requests/"+key+".json", j, requestFields...)
		}
		var x xmlRequests
		parseXML(t, h.must(200, h.get("/open311/v2/tokens/"+number+".xml")), &x)
		if len(x.Requests) != 1 || x.Requests[0].ID != id || x.Requests[0].Token != number {
			t.Errorf("tokens/%s.xml = %+v", number, x.Requests)
		}
		var j []map[string]any
		parseJSON(t, h.must(200, h.get("/open311/v2/tokens/"+number+".json")), &j)
		hasFields(t, "tokens.json", j, "service_request_id", "token")
	})

	t.Run("servicerequestupdates", func(t *testing.T) {
		var x xmlUpdates
		parseXML(t, h.must(200, h.get("/open311/v2/servicerequestupdates.xml")), &x)
		if len(x.Updates) != 2 || x.Updates[0].RequestID != id || x.Updates[0].Status != "open" || x.Updates[0].External != "OPEN" {
			t.Errorf("servicerequestupdates.xml = %+v; want the two submissions", x.Updates)
		}
		var j []map[string]any
		parseJSON(t, h.must(200, h.get("/open311/v2/servicerequestupdates.json")), &j)
		hasFields(t, "servicerequestupdates.json", j, "update_id", "service_request_id", "status", "updated_datetime", "description", "external_status_code")
	})
}

// checkTimes checks a request's times carry their zone, Asia/Shanghai's, and that the
// expected time is the completion deadline after the request.
func checkTimes(tb testing.TB, r xmlRequest) {
	tb.Helper()
	var ts []time.Time
	for _, s := range []string{r.Requested, r.Updated, r.Expected} {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil || !strings.HasSuffix(s, "+08:00") {
			tb.Fatalf("time %q is not W3C with the +08:00 zone (%v)", s, err)
		}
		ts = append(ts, t)
	}
	if d := ts[2].Sub(ts[0]); d != 72*time.Hour {
		tb.Errorf("expected_datetime is %v after requested_datetime; want the 72 hours of a normal repair", d)
	}
	if !strings.Contains(r.ServiceNotice, ts[2].Format("15:04")) || !strings.Contains(r.ServiceNotice, "北京时间") {
		tb.Errorf("service_notice %q does not say the deadline %s", r.ServiceNotice, r.Expected)
	}
}

func TestErrorsInOpen311Shape(t *testing.T) {
	h := newHarness(t, open311.Config{Jurisdiction: "dongcheng.example.cn"})
	w := h.seed()
	tests := []struct {
		name   string
		do     func(ext string) reply
		status int
		field  string // the description names it
	}{
		{"no api_key is 403", func(ext string) reply { return h.post("/open311/v2/requests"+ext, form("")) }, 403, "api_key"},
		{"a bad api_key is 403", func(ext string) reply { return h.post("/open311/v2/requests"+ext, form("rl_nonsense")) }, 403, "api_key"},
		{"an auditor's api_key is 403", func(ext string) reply { return h.post("/open311/v2/requests"+ext, form(w.auditor)) }, 403, "api_key"},
		{"a member's api_key is 403", func(ext string) reply { return h.post("/open311/v2/requests"+ext, form(w.member)) }, 403, "api_key"},
		{"the admin's api_key is 403", func(ext string) reply { return h.post("/open311/v2/requests"+ext, form(adminToken)) }, 403, "api_key"},
		{"a steward placing for another lane is 403", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.steward, "address_id", "wudongqiao"))
		}, 403, ""},
		{"an unknown service_code on POST is 400", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.operator, "service_code", "plumbing"))
		}, 400, "service_code"},
		{"an unknown service definition is 404", func(ext string) reply { return h.get("/open311/v2/services/plumbing" + ext) }, 404, "service_code"},
		{"an unknown service_code in a search is 400", func(ext string) reply { return h.get("/open311/v2/requests" + ext + "?service_code=plumbing") }, 400, "service_code"},
		{"an unknown request is 404", func(ext string) reply {
			return h.get("/open311/v2/requests/0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10" + ext)
		}, 404, "service_request_id"},
		{"an unknown token is 404", func(ext string) reply { return h.get("/open311/v2/tokens/20200101-AAAAAA" + ext) }, 404, "token"},
		{"no location is 400", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.operator, "address_id", ""))
		}, 400, "address_id"},
		{"an unknown lane is 400", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.operator, "address_id", "nowhere"))
		}, 400, "address_id"},
		{"an address naming no lane is 400", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.operator, "address_id", "", "address_string", "北京市朝阳区"))
		}, 400, "address_string"},
		{"coordinates no lane carries are 400", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.operator, "address_id", "", "lat", "30.1", "long", "120.2"))
		}, 400, "lat"},
		{"no phone is 400 naming phone", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.operator, "phone", ""))
		}, 400, "phone"},
		{"another jurisdiction is 400", func(ext string) reply {
			return h.get("/open311/v2/services" + ext + "?jurisdiction_id=elsewhere")
		}, 400, "jurisdiction_id"},
		{"another jurisdiction on POST is 400", func(ext string) reply {
			return h.post("/open311/v2/requests"+ext, form(w.operator, "jurisdiction_id", "elsewhere"))
		}, 400, "jurisdiction_id"},
		{"dates over 90 days apart are 400", func(ext string) reply {
			return h.get("/open311/v2/requests" + ext + "?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")
		}, 400, "end_date"},
		{"a bad status is 400", func(ext string) reply { return h.get("/open311/v2/requests" + ext + "?status=pending") }, 400, "status"},
		{"an unknown path is 404", func(ext string) reply { return h.get("/open311/v2/nothing" + ext) }, 404, ""},
		{"a JSON body is 400", func(ext string) reply {
			return h.api("POST", "/open311/v2/requests"+ext, "", map[string]any{"api_key": w.operator})
		}, 400, "Content-Type"},
	}
	before := h.count()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var x xmlErrors
			r := tc.do(".xml")
			if r.status != tc.status {
				t.Fatalf("XML: status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			parseXML(t, r, &x)
			if len(x.Errors) == 0 || x.Errors[0].Code != tc.status || !strings.Contains(x.Errors[0].Description, tc.field) {
				t.Errorf("XML errors %+v; want code %d naming %q", x.Errors, tc.status, tc.field)
			}
			var j []struct {
				Code        int    `json:"code"`
				Description string `json:"description"`
			}
			r = tc.do(".json")
			if r.status != tc.status {
				t.Fatalf("JSON: status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			parseJSON(t, r, &j)
			if len(j) == 0 || j[0].Code != tc.status || !strings.Contains(j[0].Description, tc.field) {
				t.Errorf("JSON errors %+v; want code %d naming %q", j, tc.status, tc.field)
			}
		})
	}
	if after := h.count(); after != before {
		t.Errorf("refused requests wrote %d events", after-before)
	}
	// The configured jurisdiction, and none, are accepted.
	h.must(201, h.post("/open311/v2/requests.json", form(w.operator, "jurisdiction_id", "dongcheng.example.cn")))
	h.must(200, h.get("/open311/v2/services.xml?jurisdiction_id=dongcheng.example.cn"))
	h.must(200, h.get("/open311/v2/services.xml"))
}

func TestSubmissionIsLikeAnyOther(t *testing.T) {
	h := newHarness(t, open311.Config{})
	w := h.seed()
	var created []map[string]any
	h.must(201, h.post("/open311/v2/requests.json", form(w.operator))).json(t, &created)
	id, _ := created[0]["service_request_id"].(string)
	number, _ := created[0]["redlane_number"].(string)
	receipt, _ := created[0]["redlane_receipt"].(string)
	h.settle()

	t.Run("on the steward's board", func(t *testing.T) {
		var b struct {
			Items []struct{ ID, Number, Title, Status string }
		}
		h.must(200, h.api("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", w.steward, nil)).json(t, &b)
		if len(b.Items) != 1 || b.Items[0].ID != id || b.Items[0].Number != number || b.Items[0].Title != "楼道灯不亮了" || b.Items[0].Status != "open" {
			t.Errorf("backlog items %+v", b.Items)
		}
	})
	t.Run("an order on channel open311 with its requester, for the steward", func(t *testing.T) {
		var o struct {
			Channel   string
			Requester struct{ Name, Phone string }
		}
		h.must(200, h.api("GET", "/api/v1/orders/"+id, w.steward, nil)).json(t, &o)
		if o.Channel != "open311" || o.Requester.Name != "张阿姨" || o.Requester.Phone != residentPhone {
			t.Errorf("order %+v", o)
		}
	})
	t.Run("the receipt reads it as the resident", func(t *testing.T) {
		req := h.api("GET", "/api/v1/orders/"+id, "", nil)
		if req.status != 401 {
			t.Fatalf("without the receipt: %d", req.status)
		}
		r, err := http.NewRequest(http.MethodGet, h.url+"/api/v1/orders/"+id, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("X-Receipt", receipt)
		h.must(200, h.do(r))
	})
	t.Run("in the feed", func(t *testing.T) {
		var f struct {
			Items []struct{ Text, Order string }
		}
		h.must(200, h.api("GET", "/api/v1/feed", "", nil)).json(t, &f)
		found := false
		for _, e := range f.Items {
			found = found || e.Order == id && strings.Contains(e.Text, "通过Open311应用") && strings.Contains(e.Text, "楼道灯不亮了")
		}
		if !found {
			t.Errorf("feed %+v has no Open311 submission", f.Items)
		}
	})
	t.Run("sealed in the log", func(t *testing.T) {
		var evs struct {
			Items []struct {
				Type string
				Data json.RawMessage
			}
		}
		h.must(200, h.api("GET", "/api/v1/orders/"+id+"/events", w.auditor, nil)).json(t, &evs)
		if len(evs.Items) != 1 || evs.Items[0].Type != "redlane.order.submitted.v1" {
			t.Fatalf("events %+v", evs.Items)
		}
		data := string(evs.Items[0].Data)
		if !strings.Contains(data, `"requester_sealed"`) || strings.Contains(data, residentPhone) || strings.Contains(data, "张阿姨") ||
			strings.Contains(data, "zhang@example.com") || !strings.Contains(data, `"channel":"open311"`) {
			t.Errorf("submitted data %s", data)
		}
	})
}

func TestUpdatesFollowTheOrder(t *testing.T) {
	h := newHarness(t, open311.Config{})
	w := h.seed()
	var created []map[string]any
	h.must(201, h.post("/open311/v2/requests.json", form(w.operator))).json(t, &created)
	id, _ := created[0]["service_request_id"].(string)
	path := "/api/v1/orders/" + id
	h.must(200, h.api("POST", path+"/dispatch", w.steward, map[string]any{"member": "m-1"}))
	h.must(200, h.api("POST", path+"/accept", w.member, nil))
	h.must(200, h.api("POST", path+"/note", w.member, map[string]any{"text": "内部：钥匙在门卫", "internal": true}))
	h.must(200, h.api("POST", path+"/note", w.member, map[string]any{"text": "已买好灯泡，明早上门", "internal": false}))
	h.must(200, h.api("POST", path+"/complete", w.member, map[string]any{"note": "换了感应灯", "minutes": 40}))

	want := []struct{ status, external, desc string }{
		{"open", "OPEN", "受理"},
		{"open", "ACTION_SCHEDULED", "派单"},
		{"open", "IN_PROGRESS", "接单"},
		{"open", "IN_PROGRESS", "已买好灯泡，明早上门"},
		{"closed", "FIXED", "办结"},
	}
	var x xmlUpdates
	h.eventually("every public transition is an update", func() bool {
		x = xmlUpdates{}
		parseXML(t, h.must(200, h.get("/open311/v2/servicerequestupdates.xml")), &x)
		return len(x.Updates) >= len(want)
	})
	if len(x.Updates) != len(want) {
		t.Fatalf("updates %+v; want %d", x.Updates, len(want))
	}
	seen := map[string]bool{}
	var last time.Time
	for i, u := range x.Updates {
		if u.RequestID != id || u.Status != want[i].status || u.External != want[i].external || !strings.Contains(u.Desc, want[i].desc) {
			t.Errorf("update %d = %+v; want %+v", i, u, want[i])
		}
		if seen[u.UpdateID] || u.UpdateID == "" {
			t.Errorf("update id %q empty or repeated", u.UpdateID)
		}
		seen[u.UpdateID] = true
		at, err := time.Parse(time.RFC3339, u.Updated)
		if err != nil || at.Before(last) {
			t.Errorf("update %d at %q: not in order (%v)", i, u.Updated, err)
		}
		last = at
		if strings.Contains(u.Desc, "钥匙") {
			t.Errorf("an internal note is public: %+v", u)
		}
	}

	// FixMyStreet's extended statuses in status itself, on request.
	var j []map[string]any
	parseJSON(t, h.must(200, h.get("/open311/v2/servicerequestupdates.json?extended_statuses=true")), &j)
	var got []string
	for _, u := range j {
		s, _ := u["status"].(string)
		got = append(got, s)
	}
	if !slices.Equal(got, []string{"OPEN", "ACTION_SCHEDULED", "IN_PROGRESS", "IN_PROGRESS", "FIXED"}) {
		t.Errorf("extended statuses %v", got)
	}

	// A window that ends before the request holds nothing of it.
	q := url.Values{"start_date": {time.Now().Add(-48 * time.Hour).Format(time.RFC3339)}, "end_date": {time.Now().Add(-24 * time.Hour).Format(time.RFC3339)}}
	parseJSON(t, h.must(200, h.get("/open311/v2/servicerequestupdates.json?"+q.Encode())), &j)
	if len(j) != 0 {
		t.Errorf("yesterday's updates: %v", j)
	}

	// The request itself: closed, its last public note, and never its resident.
	var req xmlRequests
	r := h.must(200, h.get("/open311/v2/requests/"+id+".xml"))
	noResident(t, "requests/"+id, r)
	parseXML(t, r, &req)
	if req.Requests[0].Status != "closed" || req.Requests[0].StatusNotes != "已买好灯泡，明早上门" {
		t.Errorf("request after completion %+v", req.Requests[0])
	}
	// Searches by status see it closed and not open.
	for status, n := range map[string]int{"open": 0, "closed": 1, "open,closed": 1} {
		var l []map[string]any
		parseJSON(t, h.must(200, h.get("/open311/v2/requests.json?status="+url.QueryEscape(status))), &l)
		if len(l) != n {
			t.Errorf("status=%s lists %d, want %d", status, len(l), n)
		}
	}
	// A list of ids overrides the rest.
	var l []map[string]any
	parseJSON(t, h.must(200, h.get("/open311/v2/requests.json?status=open&service_request_id="+id+",0193a5c2-7b00-7e55-8d0e-1f6f5a2c4b10")), &l)
	if len(l) != 1 || l[0]["service_request_id"] != id {
		t.Errorf("by id list: %v", l)
	}
}

func TestReadsOverTheLimitAre429InOpen311Shape(t *testing.T) {
	allowed := 2
	h := newHarness(t, open311.Config{AllowRead: func(*http.Request) (bool, time.Duration) {
		allowed--
		return allowed >= 0, 1500 * time.Millisecond
	}})
	h.must(200, h.get("/open311/v2/services.json"))
	h.must(200, h.get("/open311/v2/services.xml"))
	r := h.must(429, h.get("/open311/v2/services.xml"))
	var x xmlErrors
	parseXML(t, r, &x)
	if len(x.Errors) != 1 || x.Errors[0].Code != 429 || r.header.Get("Retry-After") != "2" {
		t.Errorf("429 answered %s with Retry-After %q", r.raw, r.header.Get("Retry-After"))
	}
}

func TestLatLongFindTheNearestLaneWithAPoint(t *testing.T) {
	h := newHarness(t, open311.Config{})
	w := h.seed()
	h.must(201, h.api("POST", "/api/v1/lanes", adminToken, map[string]any{"id": "kongyuan", "name": "孔园", "community": "taoyuan", "street": "dongcheng",
		"address": "东城街道孔园5号", "point": map[string]any{"lat": 28.6551, "long": 121.4203}}))
	h.must(201, h.api("POST", "/api/v1/lanes", adminToken, map[string]any{"id": "yingchun-lu", "name": "迎春路", "community": "yingchun", "street": "xicheng",
		"point": map[string]any{"lat": 28.6700, "long": 121.4400}}))

	// About 300 m from 孔园, 2.4 km from 迎春路.
	var created []map[string]any
	h.must(201, h.post("/open311/v2/requests.json", form(w.operator, "address_id", "", "lat", "28.6580", "long", "121.4210"))).json(t, &created)
	id, _ := created[0]["service_request_id"].(string)
	var x xmlRequests
	parseXML(t, h.must(200, h.get("/open311/v2/requests/"+id+".xml")), &x)
	var j []map[string]any
	parseJSON(t, h.must(200, h.get("/open311/v2/requests/"+id+".json")), &j)
	if x.Requests[0].AddressID != "kongyuan" || x.Requests[0].Address != "东城街道孔园5号" || j[0]["lat"] != 28.6551 || j[0]["long"] != 121.4203 {
		t.Errorf("placed at %+v, %v", x.Requests[0], j[0])
	}
	if !strings.Contains(x.Requests[0].Description, "28.658000, 121.421000") {
		t.Errorf("the point is not kept in the description: %q", x.Requests[0].Description)
	}
	// A lane without a point shows none.
	var other []map[string]any
	h.must(201, h.post("/open311/v2/requests.json", form(w.operator))).json(t, &other)
	var shown []map[string]any
	parseJSON(t, h.must(200, h.get("/open311/v2/requests/"+other[0]["service_request_id"].(string)+".json")), &shown)
	if _, ok := shown[0]["lat"]; ok {
		t.Errorf("a lane without a point has lat %v", shown[0]["lat"])
	}
	// Nothing near: 400 naming lat, nothing written.
	before := h.count()
	r := h.must(400, h.post("/open311/v2/requests.json", form(w.operator, "address_id", "", "lat", "30.0", "long", "120.0")))
	if !strings.Contains(string(r.raw), "lat: no lane within 2000 m") || h.count() != before {
		t.Errorf("far away: %s", r.raw)
	}
}

// A request the ledger does not hold (closed long ago, or left behind in an earlier
// period by a roll) is found by its number through Config.ByNumber, as by its id.
func TestRequestNotInTheLedgerIsFoundByItsNumber(t *testing.T) {
	h := newHarness(t, open311.Config{})
	w := h.seed()
	var created []map[string]any
	h.must(201, h.post("/open311/v2/requests.json", form(w.operator))).json(t, &created)
	id, _ := created[0]["service_request_id"].(string)
	number, _ := created[0]["redlane_number"].(string)
	h.settle()
	h.eventually("the index knows the number", func() bool { _, ok := h.index.ByNumber(number); return ok })
	// Servers whose ledgers hold nothing: one that can ask the index, one that cannot.
	serve := func(cfg open311.Config) string {
		cfg.Service = h.svc
		srv := httptest.NewServer(open311.New(cfg))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, c := range []struct {
		name string
		url  string
		want int
	}{
		{"with the index", serve(open311.Config{ByNumber: h.index.ByNumber}), 200},
		{"without", serve(open311.Config{}), 404},
	} {
		for _, key := range []string{id, number, strings.ToLower(number)} {
			req, err := http.NewRequest(http.MethodGet, c.url+"/open311/v2/requests/"+key+".json", nil)
			if err != nil {
				t.Fatal(err)
			}
			r := h.do(req)
			want := c.want
			if key == id {
				want = 200 // by id the log itself is read
			}
			if r.status != want {
				t.Errorf("%s: GET requests/%s: %d, want %d: %s", c.name, key, r.status, want, r.raw)
				continue
			}
			var got []map[string]any
			if want == 200 {
				r.json(t, &got)
				if len(got) != 1 || got[0]["service_request_id"] != id || got[0]["redlane_number"] != number {
					t.Errorf("%s: GET requests/%s: %s", c.name, key, r.raw)
				}
			}
		}
	}
}
