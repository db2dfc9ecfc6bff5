package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"

	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestShutdownFinishesCommandsInFlight stops serve while clients submit orders: every
// submit is answered with its real outcome (201), or refused at the door (no
// connection), never 5xx; and every 201 is an order after a restart.
func TestShutdownFinishesCommandsInFlight(t *testing.T) {
	dir := t.TempDir()
	natsPort := strconv.Itoa(freePort(t))
	base, stop := startServe(t, dir, nil, "--nats-listen", "127.0.0.1:"+natsPort, "--intake-rate", "-1")
	waitReady(t, base)

	var mu sync.Mutex
	created := map[string]bool{}
	statuses := map[int]int{}
	client := &http.Client{Timeout: 15 * time.Second}
	var wg sync.WaitGroup
	deadline := time.Now().Add(900 * time.Millisecond)
	for w := range 16 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline.Add(2 * time.Second)); i++ {
				body := `{"lane":"rouqiao-houxiang","category":"日常维修","title":"楼道灯不亮了","requester":{"name":"张阿姨","phone":"13812345678"}}`
				req, _ := http.NewRequest("POST", base+"/api/v1/orders", bytes.NewBufferString(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("shutdown-%d-%d", w, i))
				resp, err := client.Do(req)
				if err != nil {
					return // refused at the door: the server is closing
				}
				var sub struct{ ID string }
				_ = json.NewDecoder(resp.Body).Decode(&sub)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.StatusCode == 201 {
					created[sub.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Until(deadline))
	err := stop() // as SIGTERM does
	wg.Wait()
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Logf("answers while stopping: %v", statuses)
	for code, n := range statuses {
		if code != 201 {
			t.Errorf("%d submits answered %d while the server stopped; want each answered with its outcome (201)", n, code)
		}
	}
	if len(created) == 0 {
		t.Fatal("no submit went through before the stop")
	}

	base, _ = startServe(t, dir, nil, "--nats-listen", "127.0.0.1:"+natsPort)
	toks := readDemoTokens(t, dir)
	c := client
	for id := range created {
		req, _ := http.NewRequest("GET", base+"/api/v1/orders/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+toks["审计"])
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("order %s, answered 201 before the stop, reads %d after the restart", id, resp.StatusCode)
		}
	}
}

// TestASlowBodyIsCutOff: a client that sends a body a byte at a time holds its
// connection no longer than --body-timeout, and writes nothing.
func TestASlowBodyIsCutOff(t *testing.T) {
	base, _ := startServe(t, t.TempDir(), nil, "--body-timeout", "1s")
	addr := strings.TrimPrefix(base, "http://")
	waitReady(t, "http://"+addr)
	before := get(t, "http://"+addr+"/metrics")

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"lane":"rouqiao-houxiang","category":"日常维修","title":"慢","requester":{"name":"张阿姨","phone":"13812345678"}}`
	fmt.Fprintf(conn, "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		reply, _ := io.ReadAll(conn) // until the server answers and closes
		if !bytes.Contains(reply, []byte("400")) && len(reply) > 0 {
			t.Errorf("the answer to a body that never came: %s", reply)
		}
		closed <- time.Since(start)
	}()
	for i := 0; i < len(body); i++ {
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			break
		}
		select {
		case took := <-closed:
			if took > 5*time.Second {
				t.Errorf("the connection was held %s with --body-timeout 1s", took)
			}
			after := get(t, "http://"+addr+"/metrics")
			if strings.Count(after, `command="submit",outcome="ok"`) != strings.Count(before, `command="submit",outcome="ok"`) {
				t.Error("the slow submit was stored")
			}
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
	t.Fatalf("the server waited for the whole body sent over %s", time.Since(start))
}

// TestOneIntakeAllowanceForAPIAndForm: an address's public submits by the API and by the
// intake form draw on one allowance (a burst of 20), answered 429 with Retry-After
// beyond it; a signed-in steward is not limited.
func TestOneIntakeAllowanceForAPIAndForm(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, dir, nil, "--intake-rate", "0.01")
	waitReady(t, base)
	toks := readDemoTokens(t, dir)
	api := func() *http.Response {
		resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(
			`{"lane":"rouqiao-houxiang","category":"日常维修","title":"楼道灯不亮了","requester":{"name":"张阿姨","phone":"13812345678"}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	form := func(token string) *http.Response {
		req, _ := http.NewRequest("POST", base+"/intake", strings.NewReader("lane=rouqiao-houxiang&category=repair&title=灯坏了&name=张阿姨&phone=13812345678"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 10 {
		if r := api(); r.StatusCode != 201 {
			t.Fatalf("API submit %d: %d", i, r.StatusCode)
		}
	}
	for i := range 10 {
		if r := form(""); r.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("form submit %d refused within the burst", i)
		}
	}
	if r := form(""); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("the 21st public submit, by the form: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := api(); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the 22nd public submit, by the API: %d", r.StatusCode)
	}
	if r := form(toks["王芳"]); r.StatusCode == http.StatusTooManyRequests {
		t.Error("a signed-in steward's intake was limited")
	}
	if r := form("made-up-token"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a made-up token escaped the limit: %d", r.StatusCode)
	}
}

// TestLiveStreamsAndSignInsAreBounded: one address may hold so many live streams and no
// more (429 with Retry-After, the open ones untouched); sign-in attempts are limited too.
func TestLiveStreamsAndSignInsAreBounded(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, dir, nil, "--max-streams-per-address", "2")
	waitReady(t, base)
	stream := func() *http.Response {
		resp, err := http.Get(base + "/api/v1/feed/stream")
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	a, b := stream(), stream()
	if a.StatusCode != 200 || b.StatusCode != 200 {
		t.Fatalf("the first two streams: %d %d", a.StatusCode, b.StatusCode)
	}
	c := stream()
	c.Body.Close()
	if c.StatusCode != http.StatusTooManyRequests || c.Header.Get("Retry-After") == "" {
		t.Errorf("a third stream from one address: %d, Retry-After %q", c.StatusCode, c.Header.Get("Retry-After"))
	}
	a.Body.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d := stream()
		d.Body.Close()
		if d.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a stream closed but its place was not freed: %d", d.StatusCode)
		}
	}
	b.Body.Close()

	var last int
	for range 11 {
		resp, err := http.PostForm(base+"/signin", map[string][]string{"token": {"guess"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("the 11th sign-in attempt in a row: %d, want 429", last)
	}
}
