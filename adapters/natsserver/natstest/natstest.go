// Package natstest starts embedded NATS servers with JetStream for tests: on 127.0.0.1,
// a free port, a temporary data directory and no fsync per write, stopped when the test
// ends.
package natstest

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/redlane/redlane/adapters/natsserver"
)

// Start runs a server for the test and connects a client to it. Both are closed when the
// test ends.
func Start(tb testing.TB) (*natsserver.Server, *nats.Conn) {
	tb.Helper()
	srv := StartServer(tb, natsserver.Config{DataDir: tb.TempDir(), Host: "127.0.0.1", Port: -1})
	return srv, Connect(tb, srv)
}

// StartServer runs a server with cfg and shuts it down when the test ends.
func StartServer(tb testing.TB, cfg natsserver.Config) *natsserver.Server {
	tb.Helper()
	srv, err := natsserver.Start(cfg)
	if err != nil {
		tb.Fatalf("start nats server: %v", err)
	}
	tb.Cleanup(srv.Shutdown)
	return srv
}

// Connect opens a client connection to srv, closed when the test ends.
func Connect(tb testing.TB, srv *natsserver.Server) *nats.Conn {
	tb.Helper()
	cfg := srv.Config()
	opts := []nats.Option{nats.Name(tb.Name()), nats.MaxReconnects(-1)}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	nc, err := nats.Connect(srv.ClientURL(), opts...)
	if err != nil {
		tb.Fatalf("connect to nats server: %v", err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// Restart shuts srv down and starts a new server on the same data directory and port,
// as a process restart would. It returns the new server and a new connection to it;
// connections to the old server should no longer be used.
func Restart(tb testing.TB, srv *natsserver.Server) (*natsserver.Server, *nats.Conn) {
	tb.Helper()
	srv.Shutdown()
	next := StartServer(tb, srv.Config())
	return next, Connect(tb, next)
}
