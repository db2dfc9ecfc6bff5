package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// client talks to a running Redlane over HTTP.
type client struct {
	tb   testing.TB
	base string
}

func (c client) call(method, path, token string, body any, out any) int {
	c.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if p, ok := out.(*[]byte); ok {
			*p = raw
		} else if err := json.Unmarshal(raw, out); err != nil {
			c.tb.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

func (c client) must(want int, method, path, token string, body any, out any) {
	c.tb.Helper()
	var raw []byte
	if got := c.call(method, path, token, body, &raw); got != want {
		c.tb.Fatalf("%s %s: status %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.tb.Fatal(err)
		}
	}
}

type demoToken struct {
	Token string `json:"token"`
	Role  string `json:"role"`
	Name  string `json:"name"`
}

func readDemoTokens(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "demo-tokens.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var toks []demoToken
	if err := json.Unmarshal(b, &toks); err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, t := range toks {
		out[t.Name] = t.Token
	}
	return out
}

// walk runs an order's whole life through the demo's people and returns its id.
func walk(tb testing.TB, c client, toks map[string]string) string {
	tb.Helper()
	var sub struct{ ID, Receipt, Status string }
	c.must(201, "POST", "/api/v1/orders", "", map[string]any{
		"lane": "rouqiao-houxiang", "category": "日常维修", "title": "楼道灯不亮了",
		"description": "三单元二楼的感应灯坏了，老人晚上下楼不方便——请尽快。",
		"requester":   map[string]any{"name": "张阿姨", "phone": "13812345678"},
	}, &sub)
	p := "/api/v1/orders/" + sub.ID
	c.must(200, "POST", p+"/dispatch", toks["王芳"], map[string]any{"member": "m-001"}, nil)
	c.must(200, "POST", p+"/accept", toks["李明"], nil, nil)
	c.must(200, "POST", p+"/complete", toks["李明"], map[string]any{"note": "更换了感应灯", "minutes": 35}, nil)
	c.must(200, "POST", p+"/rate", "", map[string]any{"solved": true, "stars": 5, "comment": "红色管家，真贴心！", "receipt": sub.Receipt}, nil)
	return sub.ID
}

func waitReady(tb testing.TB, base string) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s/readyz not 200 after 30s", base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeInProcess runs the real serve on port 0 with a temp data dir, walks an
// order's life, shuts down gracefully and reads the order back after a restart.
func TestServeInProcess(t *testing.T) {
	dir := t.TempDir()
	natsPort := freePort(t)
	start := func() (client, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan string, 1)
		done := make(chan error, 1)
		args := []string{"--data", dir, "--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:" + strconv.Itoa(natsPort), "--demo", "--sync", "interval"}
		go func() { done <- serve(ctx, args, io.Discard, io.Discard, func(string) string { return "" }, started) }()
		select {
		case addr := <-started:
			return client{t, "http://" + addr}, func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
			}
		case err := <-done:
			t.Fatalf("serve: %v", err)
		case <-time.After(60 * time.Second):
			t.Fatal("serve did not start")
		}
		return client{}, nil
	}
	c, stop := start()
	toks := readDemoTokens(t, dir)
	id := walk(t, c, toks)
	var before []byte
	c.must(200, "GET", "/api/v1/orders/"+id, toks["审计"], nil, nil)
	c.call("GET", "/api/v1/orders/"+id, toks["审计"], nil, &before)
	stop()

	c, stop = start()
	defer stop()
	var after []byte
	c.call("GET", "/api/v1/orders/"+id, toks["审计"], nil, &after)
	if !bytes.Equal(before, after) {
		t.Fatalf("after a restart the order reads\n%s\nnot\n%s", after, before)
	}
	var lanes struct{ Items []any }
	c.must(200, "GET", "/api/v1/lanes", toks["审计"], nil, &lanes)
	if len(lanes.Items) != len(demoLanes) {
		t.Fatalf("%d lanes after a second --demo start, want %d", len(lanes.Items), len(demoLanes))
	}
	waitReady(t, c.base)
	var metrics []byte
	c.call("GET", "/metrics", "", nil, &metrics)
	if !strings.Contains(string(metrics), "redlane_http_requests_total") {
		t.Error("/metrics lacks redlane_http_requests_total")
	}
}

// TestBinarySurvivesKill9 builds the real binary, walks an order's life, kills the
// process with SIGKILL and checks that after a restart the order reads back byte for
// byte and every event is on the stream.
func TestBinarySurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "redlane")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	httpPort, natsPort := freePort(t), freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	launch := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--demo", "--data", dir,
			"--http", "127.0.0.1:"+strconv.Itoa(httpPort), "--nats-listen", "127.0.0.1:"+strconv.Itoa(natsPort))
		cmd.Env = append(os.Environ(), "REDLANE_ADMIN_TOKEN=")
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready after 60s; logs:\n%s", logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	cmd := launch()
	c := client{t, base}
	toks := readDemoTokens(t, dir)
	id := walk(t, c, toks)
	var before []byte
	c.call("GET", "/api/v1/orders/"+id, toks["王芳"], nil, &before)

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var exitErr *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exitErr) {
		t.Fatalf("the process was not killed: %v", err)
	}
	launch()
	var after []byte
	c.call("GET", "/api/v1/orders/"+id, toks["王芳"], nil, &after)
	if !bytes.Equal(before, after) {
		t.Fatalf("after kill -9 the order reads\n%s\nnot\n%s", after, before)
	}
	if !strings.Contains(string(after), "三单元二楼的感应灯坏了，老人晚上下楼不方便——请尽快。") {
		t.Fatalf("the Chinese description did not survive byte for byte: %s", after)
	}

	nc, err := nats.Connect("nats://127.0.0.1:" + strconv.Itoa(natsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	stream, err := js.Stream(ctx, "REDLANE")
	if err != nil {
		t.Fatal(err)
	}
	subject := "redlane.events.order." + id
	var types []string
	for seq := uint64(1); ; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			break
		}
		if msg.Subject == subject {
			var env struct{ Type string }
			if err := json.Unmarshal(msg.Data, &env); err != nil {
				t.Fatal(err)
			}
			types = append(types, env.Type)
		}
	}
	want := "redlane.order.submitted.v1 redlane.order.dispatched.v1 redlane.order.accepted.v1 redlane.order.completed.v1 redlane.order.rated.v1"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("stream holds %q for the order, want %q", got, want)
	}
}
