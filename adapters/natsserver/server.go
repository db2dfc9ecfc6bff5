// Package natsserver runs an embedded NATS server with JetStream enabled, so that Redlane
// can carry its own event log in-process: one binary, one data directory.
//
// The server listens for clients on Config.Host and Config.Port and keeps JetStream's
// file storage under Config.DataDir. With Config.SyncAlways every stored message is
// flushed to disk before it is acknowledged; this is the setting production uses, so an
// acknowledged append survives a crash of the machine, not only of the process.
package natsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds how long Start waits for the server to accept clients.
const readyTimeout = 10 * time.Second

// Config is how to run the embedded server.
type Config struct {
	// DataDir holds JetStream's storage; it is created when missing. Required.
	DataDir string
	// Host is the client listen address, e.g. "127.0.0.1". Empty means all interfaces.
	Host string
	// Port is the client port; -1 picks a free one (see Server.ClientURL).
	Port int
	// SyncAlways flushes every write to disk before it is acknowledged (JetStream's
	// "sync: always"). Production passes true; tests may pass false for speed.
	SyncAlways bool
	// User and Password, when both are set, are required of every client.
	User, Password string
	// Logger, when set, receives the server's log lines; nil keeps the server silent.
	Logger *slog.Logger
	// Debug also passes the server's debug lines to Logger.
	Debug bool
}

// Server is a running embedded NATS server.
type Server struct {
	ns  *server.Server
	cfg Config
	url string
}

// Start runs a server as configured and returns once it accepts clients, or an error
// if it does not within ten seconds.
func Start(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("natsserver: DataDir is required")
	}
	if (cfg.User == "") != (cfg.Password == "") {
		return nil, errors.New("natsserver: User and Password go together")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("natsserver: data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("natsserver: data dir: %w", err)
	}
	opts := &server.Options{
		ServerName: "redlane",
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: cfg.SyncAlways,
		NoSigs:     true,
		NoLog:      true, // the hook set below does the logging
		Debug:      cfg.Debug,
		Username:   cfg.User,
		Password:   cfg.Password,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsserver: %w", err)
	}
	// The hook always listens, so that a fatal start-up error ends the wait at once.
	hook := &logHook{l: cfg.Logger, fatal: make(chan string, 1)}
	ns.SetLoggerV2(hook, cfg.Debug && cfg.Logger != nil, false, false)
	go ns.Start()
	deadline := time.Now().Add(readyTimeout)
	for !ns.ReadyForConnections(50 * time.Millisecond) {
		var cause string
		select {
		case msg := <-hook.fatal:
			cause = msg
		default:
			if time.Now().After(deadline) {
				cause = fmt.Sprintf("not ready for connections after %s", readyTimeout)
			}
		}
		if cause != "" {
			ns.Shutdown()
			ns.WaitForShutdown()
			return nil, fmt.Errorf("natsserver: %s", cause)
		}
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, errors.New("natsserver: JetStream did not start")
	}
	s := &Server{ns: ns, cfg: cfg, url: ns.ClientURL()}
	if addr, ok := ns.Addr().(*net.TCPAddr); ok {
		s.cfg.Port = addr.Port
	}
	return s, nil
}

// ClientURL is the URL clients connect to, with the port actually bound.
func (s *Server) ClientURL() string { return s.url }

// Config returns the configuration the server runs with, Port being the port actually
// bound; starting a server with it again reopens the same data on the same port.
func (s *Server) Config() Config { return s.cfg }

// Shutdown stops the server gracefully and waits until it has stopped. It may be called
// more than once.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// logHook passes the server's log lines to a slog.Logger, if any, and reports the first
// fatal one to Start.
type logHook struct {
	l     *slog.Logger
	fatal chan string
}

func (h *logHook) log(level slog.Level, format string, v []any) {
	if h.l != nil {
		h.l.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "nats-server")
	}
}

func (h *logHook) Noticef(format string, v ...any) { h.log(slog.LevelInfo, format, v) }
func (h *logHook) Warnf(format string, v ...any)   { h.log(slog.LevelWarn, format, v) }
func (h *logHook) Errorf(format string, v ...any)  { h.log(slog.LevelError, format, v) }
func (h *logHook) Debugf(format string, v ...any)  { h.log(slog.LevelDebug, format, v) }
func (h *logHook) Tracef(format string, v ...any)  { h.log(slog.LevelDebug, format, v) }

func (h *logHook) Fatalf(format string, v ...any) {
	h.log(slog.LevelError, format, v)
	select {
	case h.fatal <- fmt.Sprintf(format, v...):
	default:
	}
}
