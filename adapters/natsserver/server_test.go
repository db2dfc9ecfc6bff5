package natsserver_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
)

func TestRestartKeepsStreamsOnSamePort(t *testing.T) {
	srv, nc := natstest.Start(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s.a", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	url := srv.ClientURL()

	srv2, nc2 := natstest.Restart(t, srv)
	if srv2.ClientURL() != url {
		t.Fatalf("restarted on %s, want %s", srv2.ClientURL(), url)
	}
	js2, _ := jetstream.New(nc2)
	st, err := js2.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(ctx, "s.a")
	if err != nil || string(msg.Data) != "hello" {
		t.Fatalf("after restart: %v %v", msg, err)
	}
}

func TestAuthIsRequiredWhenSet(t *testing.T) {
	srv := natstest.StartServer(t, natsserver.Config{DataDir: t.TempDir(), Host: "127.0.0.1", Port: -1, User: "redlane", Password: "s3cret"})
	if nc, err := nats.Connect(srv.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("connected without credentials")
	}
	natstest.Connect(t, srv) // with the configured credentials
}

func TestStartRefusesBadConfig(t *testing.T) {
	if _, err := natsserver.Start(natsserver.Config{Port: -1}); err == nil {
		t.Fatal("started without a data dir")
	}
	if _, err := natsserver.Start(natsserver.Config{DataDir: t.TempDir(), Port: -1, User: "u"}); err == nil {
		t.Fatal("started with a user but no password")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := natsserver.Start(natsserver.Config{DataDir: file, Host: "127.0.0.1", Port: -1})
	if err == nil {
		srv.Shutdown()
		t.Fatal("started on a data dir that is a file")
	}
	// A port in use fails at once, not after the ten-second wait.
	busy := natstest.StartServer(t, natsserver.Config{DataDir: t.TempDir(), Host: "127.0.0.1", Port: -1})
	start := time.Now()
	srv, err = natsserver.Start(natsserver.Config{DataDir: t.TempDir(), Host: "127.0.0.1", Port: busy.Config().Port})
	if err == nil {
		srv.Shutdown()
		t.Fatal("started on a port in use")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s to fail: %v", time.Since(start), err)
	}
	t.Log(err)
}

type lines struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func TestLogsGoToSlog(t *testing.T) {
	var out lines
	srv := natstest.StartServer(t, natsserver.Config{
		DataDir: t.TempDir(), Host: "127.0.0.1", Port: -1, SyncAlways: true,
		Logger: slog.New(slog.NewTextHandler(&out, nil)),
	})
	srv.Shutdown()
	srv.Shutdown() // twice is fine
	out.mu.Lock()
	defer out.mu.Unlock()
	if !strings.Contains(out.buf.String(), "JetStream") {
		t.Fatalf("no server log lines in slog:\n%s", out.buf.String())
	}
}
