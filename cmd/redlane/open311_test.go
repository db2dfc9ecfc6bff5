package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeMountsOpen311 checks serve's wiring: Open311 answers under /open311/v2/ in its
// own error shape, a hotline operator's token places a request through it, and
// --open311-jurisdiction refuses another jurisdiction.
func TestServeMountsOpen311(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, dir, nil, "--sync", "interval", "--open311-jurisdiction", "dongcheng")
	waitReady(t, base)
	if code, body := httpGet(t, nil, base+"/open311/v2/discovery.xml"); code != 200 || !strings.Contains(body, "<url>"+base+"/open311/v2</url>") {
		t.Fatalf("discovery.xml: %d %s", code, body)
	}
	if code, body := httpGet(t, nil, base+"/open311/v2/services.json?jurisdiction_id=xicheng"); code != 400 || !strings.HasPrefix(body, `[{"code":400`) {
		t.Fatalf("another jurisdiction: %d %s", code, body)
	}
	operator := readDemoTokens(t, dir)["96345 热线"]
	if operator == "" {
		t.Fatal("the demo has no hotline operator")
	}
	form := url.Values{"api_key": {operator}, "jurisdiction_id": {"dongcheng"}, "service_code": {"repair"}, "address_string": {"柔桥后巷"},
		"description": {"楼道灯不亮了"}, "first_name": {"阿姨"}, "last_name": {"张"}, "phone": {"13812345678"}}
	resp, err := http.PostForm(base+"/open311/v2/requests.json", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST requests.json: %d", resp.StatusCode)
	}
	if code, body := httpGet(t, nil, base+"/open311/v2/requests.json"); code != 200 || !strings.Contains(body, "楼道灯不亮了") || strings.Contains(body, "13812345678") {
		t.Fatalf("requests.json: %d %s", code, body)
	}
}
