package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutines to log into.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestOperatorsSeeEachRequestAndCommand: JSON log lines, one per request with its ids
// and no personal data; the ids echoed, the correlation id carried into the events; a
// count and a latency per command and outcome; the NATS connection's state.
func TestOperatorsSeeEachRequestAndCommand(t *testing.T) {
	dir := t.TempDir()
	logs := &lockedBuffer{}
	base, _ := startServe(t, dir, logs, "--sync", "interval")
	toks := readDemoTokens(t, dir)

	send := func(method, path, token string, body string, headers ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// Ids: the caller's kept, or made; the correlation id is the request id by default.
	resp := send("GET", "/healthz", "", "", "X-Request-ID", "probe-1")
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "probe-1" || resp.Header.Get("X-Correlation-ID") != "probe-1" {
		t.Errorf("ids: %v", resp.Header)
	}
	resp = send("GET", "/healthz", "", "", "X-Request-ID", "not valid; far too long and with spaces in it, which no id has")
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-ID"); len(id) != 24 || resp.Header.Get("X-Correlation-ID") != id {
		t.Errorf("a made id: %v", resp.Header)
	}
	// A submit carries the caller's correlation id into its event.
	resp = send("POST", "/api/v1/orders", "", `{"lane":"rouqiao-houxiang","category":"日常维修","title":"楼道灯不亮了","requester":{"name":"张阿姨","phone":"13812345678"}}`,
		"X-Correlation-ID", "kiosk-7-0001")
	var sub struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("X-Correlation-ID") != "kiosk-7-0001" {
		t.Fatalf("submit: %d %v", resp.StatusCode, resp.Header)
	}
	resp = send("GET", "/api/v1/orders/"+sub.ID+"/events", toks["王芳"], "")
	var evs struct {
		Items []struct{ CorrelationID string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&evs)
	resp.Body.Close()
	if len(evs.Items) != 1 || evs.Items[0].CorrelationID != "kiosk-7-0001" {
		t.Errorf("the event's correlation id: %+v", evs)
	}
	// A refused command is counted as such.
	resp = send("POST", "/api/v1/orders/"+sub.ID+"/dispatch", toks["王芳"], `{"member":"m-001"}`, "If-Match", `"9"`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("a dispatch on a stale version: %d", resp.StatusCode)
	}

	// Large answers go out gzipped to a client that asks; small ones and streams not.
	req, _ := http.NewRequest("GET", base+"/", nil) // the sign-in page, over a kilobyte
	req.Header.Set("Accept-Encoding", "gzip")
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("a page over a kilobyte is not gzipped: %v %v", err, resp.Header)
	} else {
		resp.Body.Close()
	}
	req, _ = http.NewRequest("GET", base+"/healthz", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if resp, err := http.DefaultTransport.RoundTrip(req); err != nil || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("a small answer is gzipped: %v %v", err, resp.Header)
	} else {
		resp.Body.Close()
	}

	resp = send("GET", "/metrics", "", "")
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`redlane_commands_total{aggregate="order",command="submit",outcome="ok"} 1`,
		`redlane_commands_total{aggregate="order",command="dispatch",outcome="conflict"} 1`,
		`redlane_command_duration_seconds_count{aggregate="order",command="submit"} 1`,
		`redlane_nats_connected 1`,
		`redlane_sse_clients 0`,
		`redlane_runner_cache_orders 1`,
		`redlane_runner_cache_bytes `,
	} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Every log line is JSON; each request has one line with its ids and route, and no
	// line holds the resident's phone or name.
	time.Sleep(100 * time.Millisecond)
	var requests int
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		line := sc.Text()
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %s", line)
		}
		if strings.Contains(line, "13812345678") || strings.Contains(line, "张阿姨") {
			t.Errorf("a log line holds personal data: %s", line)
		}
		if rec["msg"] == "request" && rec["path"] == "/api/v1/orders" {
			requests++
			if rec["route"] != "POST /api/v1/orders" || rec["status"] != 201.0 || rec["correlation_id"] != "kiosk-7-0001" || rec["request_id"] == "" {
				t.Errorf("the submit's log line: %s", line)
			}
		}
	}
	if requests != 1 {
		t.Errorf("%d log lines for the submit, want 1", requests)
	}
}
