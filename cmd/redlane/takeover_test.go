package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/internal/app"
)

// TestTwoProcessesViewWriterKilled runs two redlane processes on one NATS server. One
// writes the views; it is killed with SIGKILL in the middle of a stream of commands, the
// other takes over, and the views end equal to a rebuild from the log.
func TestTwoProcessesViewWriterKilled(t *testing.T) {
	b := newBinary(t) // builds the binary; its own data directory stays unused
	srv, nc := natstest.Start(t)
	env := append(os.Environ(), "REDLANE_ADMIN_TOKEN=two-process-admin")
	type proc struct {
		cmd  *exec.Cmd
		base string
	}
	start := func(demo bool, dir string) proc {
		port := freePort(t)
		args := []string{"serve", "--nats-url", srv.ClientURL(), "--data", dir, "--http", "127.0.0.1:" + strconv.Itoa(port), "--intake-rate", "-1"}
		if demo {
			args = append(args, "--demo")
		}
		cmd := exec.Command(b.path, args...)
		cmd.Env = env
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		deadline := time.Now().Add(60 * time.Second)
		for {
			if resp, err := http.Get(base + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return proc{cmd, base}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready; logs:\n%s", logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	dir1, dir2 := t.TempDir(), t.TempDir()
	first := start(true, dir1)
	// The second process has a key of its own, which the first introduces; it trusts
	// the root the first pinned.
	key2, err := jsstore.LoadSigner(filepath.Join(dir2, app.SigningKeyFile), true)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := b.cli("audit", "introduce", "--nats-url", srv.ClientURL(), "--data", dir1, "--public-key", key2.PublicKeyText(), "--name", "second"); err != nil {
		t.Fatalf("introduce: %v\n%s", err, out)
	}
	root, err := os.ReadFile(filepath.Join(dir1, app.TrustedKeysFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, app.TrustedKeysFile), root, 0o644); err != nil {
		t.Fatal(err)
	}
	second := start(false, dir2)

	// The process holding the backlog's lease is the writer to kill.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	leases, err := js.KeyValue(ctx, jsstore.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := leases.Get(ctx, "view.backlog")
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Owner string }
	_ = json.Unmarshal(e.Value(), &l)
	writer, survivor := first, second
	if strings.HasSuffix(l.Owner, ":"+strconv.Itoa(second.cmd.Process.Pid)) {
		writer, survivor = second, first
	}
	if !strings.HasSuffix(l.Owner, ":"+strconv.Itoa(writer.cmd.Process.Pid)) {
		t.Fatalf("the lease is held by %q, neither process", l.Owner)
	}

	// Commands go through both processes while the writer is killed.
	adminToken := "two-process-admin"
	c := client{t, survivor.base}
	var toks struct{ Token string }
	c.must(201, "POST", "/api/v1/tokens", adminToken, map[string]any{"role": "steward", "lanes": []string{"rouqiao-houxiang"}, "name": "王芳"}, &toks)
	steward := toks.Token
	c.must(201, "POST", "/api/v1/tokens", adminToken, map[string]any{"role": "member", "member": "m-001", "name": "李明"}, &toks)
	memberTok := toks.Token
	all := map[string]string{"王芳": steward, "李明": memberTok}
	var acked atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			target := client{t, survivor.base}
			if i%2 == 0 {
				target = client{t, writer.base}
			}
			if burstOrder(target, all, i%3 == 0) {
				acked.Add(1)
			}
		}
	}()
	time.Sleep(700 * time.Millisecond)
	kill9(t, writer.cmd)
	time.Sleep(700 * time.Millisecond)
	close(stop)
	<-done
	walk := burstOrder(c, all, false)
	if !walk || acked.Load() == 0 {
		t.Fatalf("commands did not go through: %d acknowledged, last walk %v", acked.Load(), walk)
	}
	t.Logf("%d order lives acknowledged across the kill", acked.Load())

	// The survivor takes the leases once they lapse, and catches the views up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := leases.Get(ctx, "view.backlog")
		if err == nil {
			_ = json.Unmarshal(e.Value(), &l)
			if strings.HasSuffix(l.Owner, ":"+strconv.Itoa(survivor.cmd.Process.Pid)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the survivor never took over: lease held by %q", l.Owner)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, err := b.cli("projections", "verify", "--nats-url", srv.ClientURL(), "--data", dir1)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the views never equalled a rebuild:\n%s", out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
