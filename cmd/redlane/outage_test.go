package main

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/internal/app"
)

// syncBuffer is a log both the server and the test touch.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestANATSOutageIsToldAndOutlived runs serve against a NATS server of its own
// (--nats-url), stops that server and starts it again on the same data: while it is
// down /readyz says so, redlane_nats_connected is 0, writes are refused with 503 at once
// and the log says so once; when it is back, so is Redlane, with no restart.
func TestANATSOutageIsToldAndOutlived(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: stops and starts a NATS server")
	}
	dir := t.TempDir()
	pub, err := natsserver.EnsureUserSeed(filepath.Join(dir, app.ServiceSeedFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg := natsserver.Config{DataDir: filepath.Join(dir, "external-nats"), Host: "127.0.0.1", Port: freePort(t), SyncAlways: true, NKeys: []string{pub}}
	ns, err := natsserver.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown() })
	logs := &syncBuffer{}
	base, _ := startServe(t, dir, logs, "--nats-url", ns.ClientURL(), "--intake-rate", "-1")
	waitReady(t, base)
	client := &http.Client{Timeout: 20 * time.Second}
	get := func(path string) (int, string) { return httpGet(t, client, base+path) }
	submit := func() int {
		body := `{"lane":"rouqiao-houxiang","category":"repair","title":"楼道灯不亮了","requester":{"name":"张阿姨","phone":"13812345678"}}`
		resp, err := client.Post(base+"/api/v1/orders", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := submit(); st != http.StatusCreated {
		t.Fatalf("before: %d", st)
	}

	ns.Shutdown()
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitUntil("/readyz says NATS is not reachable", func() bool {
		st, b := get("/readyz")
		return st == http.StatusServiceUnavailable && strings.Contains(b, "NATS is not reachable")
	})
	if _, b := get("/metrics"); !strings.Contains(b, "redlane_nats_connected 0") {
		t.Error("redlane_nats_connected is not 0 while NATS is down")
	}
	start := time.Now()
	if st := submit(); st != http.StatusServiceUnavailable || time.Since(start) > 2*time.Second {
		t.Errorf("a write while NATS is down: %d after %s, want 503 at once", st, time.Since(start))
	}
	if n := strings.Count(logs.String(), "NATS connection lost"); n != 1 {
		t.Errorf("the log says the connection was lost %d times, want once", n)
	}

	ns, err = natsserver.Start(ns.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown() })
	waitUntil("ready again", func() bool { st, _ := get("/readyz"); return st == http.StatusOK })
	if st := submit(); st != http.StatusCreated {
		t.Errorf("after: %d", st)
	}
	if !strings.Contains(logs.String(), "NATS connection back") {
		t.Error("the log does not say the connection is back")
	}
}

// A clean stop of serve with its embedded NATS ends the connection without an alarm.
func TestACleanStopIsNoOutage(t *testing.T) {
	logs := &syncBuffer{}
	base, stop := startServe(t, t.TempDir(), logs)
	waitReady(t, base)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "NATS connection lost") {
		t.Errorf("a clean stop logged an outage:\n%s", logs.String())
	}
}
