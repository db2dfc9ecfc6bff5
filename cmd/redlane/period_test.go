package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPeriodRollWithTheBinary: serve, a few orders, stop, roll, serve again without
// --stream: the board shows the same orders, a new order works, and the audit chain
// holds across the periods.
func TestPeriodRollWithTheBinary(t *testing.T) {
	b := newBinary(t)
	cmd := b.launch()
	c := client{t, b.base}
	toks := readDemoTokens(t, b.dir)
	var open struct{ ID string }
	c.must(201, "POST", "/api/v1/orders", "", map[string]any{
		"lane": "rouqiao-houxiang", "category": "日常维修", "title": "水管漏水",
		"requester": map[string]any{"name": "张阿姨", "phone": "13812345678"},
	}, &open)
	completed, _ := walkToCompleted(t, c, toks)
	closed := walk(t, c, toks)
	// board waits until the steward's board shows every order of ids (it follows the log).
	board := func(when string, ids ...string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var raw []byte
			if code := c.call("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", toks["王芳"], nil, &raw); code != 200 {
				t.Fatalf("the board %s: %d %s", when, code, raw)
			}
			if !slices.ContainsFunc(ids, func(id string) bool { return !strings.Contains(string(raw), id) }) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the board %s lacks one of %v: %s", when, ids, raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	board("before the roll", open.ID, completed)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	out, err := b.cli("period", "roll", "--to", "REDLANE_2027_01", "--data", b.dir)
	if err != nil {
		t.Fatalf("period roll: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"left_behind": 1`) {
		t.Errorf("the roll did not leave the closed order behind:\n%s", out)
	}

	b.launch()
	board("after the roll", open.ID, completed)
	// Open311 goes on listing the request the roll left behind, closed.
	type listedRequest struct {
		ID     string `json:"service_request_id"`
		Status string `json:"status"`
	}
	var listed []listedRequest
	if err := json.Unmarshal([]byte(get(t, b.base+"/open311/v2/requests.json")), &listed); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(listed, func(r listedRequest) bool { return r.ID == closed && r.Status == "closed" }) {
		t.Errorf("Open311 after the roll does not list %s, closed: %+v", closed, listed)
	}
	// The open order, carried, is listed once, as the current period has it.
	if n := slices.IndexFunc(listed, func(r listedRequest) bool { return r.ID == open.ID }); n < 0 || listed[n].Status != "open" ||
		slices.ContainsFunc(listed[n+1:], func(r listedRequest) bool { return r.ID == open.ID }) {
		t.Errorf("Open311 after the roll: the carried order %s not listed once, open: %+v", open.ID, listed)
	}
	c.must(200, "POST", "/api/v1/orders/"+open.ID+"/dispatch", toks["王芳"], map[string]any{"member": "m-001"}, nil)
	walk(t, c, toks)

	// The auditor asks for the closed order, left behind in the ended period, by the
	// number the resident quotes: found there, told so, the requester sealed (the
	// auditor may not read the vault: told at once, with no refused request printed).
	var left struct{ Number string }
	c.must(200, "GET", "/api/v1/orders/"+closed, toks["王芳"], nil, &left)
	out, err = b.cli("audit", "order", left.Number, "--nats-url", b.natsURL(), "--nats-nkey", filepath.Join(b.dir, "auditor.nk"))
	if err != nil || !strings.Contains(out, "order "+closed) || !strings.Contains(out, "read from the ended period REDLANE") ||
		!strings.Contains(out, "status closed") || !strings.Contains(out, "may not read the privacy vault") ||
		strings.Contains(out, "ermissions") || strings.Contains(out, "deadline") {
		t.Errorf("audit order %s (left behind) as the auditor: %v\n%s", left.Number, err, out)
	}

	out, err = b.cli("audit", "verify", "--nats-url", b.natsURL(), "--nats-nkey", filepath.Join(b.dir, "auditor.nk"))
	if err != nil || !strings.Contains(out, "OK:") || !strings.Contains(out, "period: follows REDLANE;") || !strings.Contains(out, "stream REDLANE_2027_01") {
		t.Fatalf("audit verify after the roll: %v\n%s", err, out)
	}
	out, err = b.cli("audit", "verify", "--stream", "REDLANE", "--nats-url", b.natsURL(), "--nats-nkey", filepath.Join(b.dir, "auditor.nk"))
	if err != nil || !strings.Contains(out, "OK:") {
		t.Fatalf("audit verify of the old period: %v\n%s", err, out)
	}
}

// A period that holds more subjects than --period-max-subjects is told: /readyz is
// degraded with the reason, and /metrics has the count beside the limit.
func TestPeriodOverItsSubjectsIsTold(t *testing.T) {
	b := newBinary(t)
	cmd := b.launch() // the demo district: lanes, members, tokens, each a subject
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	b.launch("--period-max-subjects", "3")
	var ready struct {
		Status, Reason string
		Subjects       int `json:"period_subjects"`
	}
	if err := json.Unmarshal([]byte(get(t, b.base+"/readyz")), &ready); err != nil || ready.Status != "degraded" ||
		ready.Subjects <= 3 || !strings.Contains(ready.Reason, "--period-max-subjects") || !strings.Contains(ready.Reason, "period roll") {
		t.Errorf("readyz: %+v %v", ready, err)
	}
	metrics := get(t, b.base+"/metrics")
	if !strings.Contains(metrics, "redlane_period_subjects_max 3") || !strings.Contains(metrics, fmt.Sprintf("redlane_period_subjects %d", ready.Subjects)) {
		t.Errorf("metrics lack the period's subjects (%d) and limit", ready.Subjects)
	}
}
