// Package natsserver runs an embedded NATS server with JetStream enabled, so that Redlane
// can carry its own event log in-process: one binary, one data directory.
//
// The server listens for clients on Config.Host and Config.Port and keeps JetStream's
// file storage under Config.DataDir. With Config.SyncAlways every stored message is
// flushed to disk before it is acknowledged; this is the setting production uses, so an
// acknowledged append survives a crash of the machine, not only of the process.
package natsserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
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
	opts := &server.Options{
		ServerName: "redlane",
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: cfg.SyncAlways,
		NoSigs:     true,
		NoLog:      cfg.Logger == nil,
		Debug:      cfg.Debug,
		Username:   cfg.User,
		Password:   cfg.Password,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsserver: %w", err)
	}
	if cfg.Logger != nil {
		ns.SetLoggerV2(slogLogger{cfg.Logger}, cfg.Debug, false, false)
	}
	go ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("natsserver: not ready for connections after %s", readyTimeout)
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

// slogLogger passes the server's log lines to a slog.Logger.
type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Noticef(format string, v ...any) { l.l.Info(fmt.Sprintf(format, v...)) }
func (l slogLogger) Warnf(format string, v ...any)   { l.l.Warn(fmt.Sprintf(format, v...)) }
func (l slogLogger) Fatalf(format string, v ...any)  { l.l.Error(fmt.Sprintf(format, v...)) }
func (l slogLogger) Errorf(format string, v ...any)  { l.l.Error(fmt.Sprintf(format, v...)) }
func (l slogLogger) Debugf(format string, v ...any)  { l.l.Debug(fmt.Sprintf(format, v...)) }
func (l slogLogger) Tracef(format string, v ...any)  { l.l.Debug(fmt.Sprintf(format, v...)) }
