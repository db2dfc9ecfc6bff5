// Package natsserver runs an embedded NATS server with JetStream enabled, so that Redlane
// can carry its own event log in-process: one binary, one data directory.
//
// The server listens for clients on Config.Host and Config.Port and keeps JetStream's
// file storage under Config.DataDir. With Config.SyncAlways every stored message is
// flushed to disk before it is acknowledged; this is the setting production uses, so an
// acknowledged append survives a crash of the machine, not only of the process.
//
// # Access
//
// With no credentials configured every client is let in: only tests run it so. Redlane
// itself always sets NKeys (the service) and Readers (read-only users, access.go), and
// may add User and Password: then every client must present one of them. An nkey client signs the server's nonce
// with its seed (nats.Nkey, nats.NkeyOptionFromSeed); the server holds only the public
// key.
//
// # Clustering
//
// With ClusterName set the server joins a JetStream cluster: it listens for routes on
// ClusterHost:ClusterPort and connects to Routes, the other members' route URLs. Each
// member needs its own ServerName and data directory. A stream with three replicas on
// three members takes writes while any two are up.
package natsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
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
	// User and Password, when both are set, are required of every client (unless it
	// presents one of NKeys instead).
	User, Password string
	// NKeys are the public keys ("U…") of the users who may connect by signing with
	// their nkey seed. When set, a client must present one of them, or User and Password.
	NKeys []string
	// Readers are the public keys of read-only users (auditors, reporting jobs): they
	// get ReaderPermissions(ReadScope) (internal/app/access.go).
	Readers   []string
	ReadScope ReadScope

	// ServerName names the server; "redlane" when empty. Each member of a cluster needs
	// its own.
	ServerName string
	// ClusterName, when set, makes the server a member of that JetStream cluster.
	ClusterName string
	// ClusterHost and ClusterPort are where the server listens for routes from the
	// other members; -1 picks a free port (see Config after Start).
	ClusterHost string
	ClusterPort int
	// Routes are the other members' route URLs, "nats-route://host:port". Listing the
	// server itself is harmless, so every member may be given the same list.
	Routes []string
	// ClusterUser and ClusterPassword, when set, are required of routes, and sent on the
	// server's own.
	ClusterUser, ClusterPassword string

	// Logger, when set, receives the server's log lines; nil keeps the server silent.
	Logger *slog.Logger
	// Debug also passes the server's debug lines to Logger.
	Debug bool
}

// Server is a running embedded NATS server.
type Server struct {
	ns   *server.Server
	cfg  Config
	url  string
	dir  string // JetStream's store directory, absolute
	hook *logHook
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
	if (cfg.ClusterUser == "") != (cfg.ClusterPassword == "") {
		return nil, errors.New("natsserver: ClusterUser and ClusterPassword go together")
	}
	for _, k := range append(slices.Clone(cfg.NKeys), cfg.Readers...) {
		if !nkeys.IsValidPublicUserKey(k) {
			return nil, fmt.Errorf("natsserver: %q is not an nkey user public key (U…)", k)
		}
	}
	routes, err := routeURLs(cfg)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("natsserver: data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("natsserver: data dir: %w", err)
	}
	name := cfg.ServerName
	if name == "" {
		name = "redlane"
	}
	opts := &server.Options{
		ServerName: name,
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: cfg.SyncAlways,
		NoSigs:     true,
		NoLog:      true, // the hook set below does the logging
		Debug:      cfg.Debug,
	}
	if len(cfg.NKeys)+len(cfg.Readers) > 0 {
		// The server takes one user and password, or lists of users and nkeys: not both.
		for _, k := range cfg.NKeys {
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: k})
		}
		opts.Nkeys = append(opts.Nkeys, readerUsers(cfg.Readers, cfg.ReadScope)...)
		if cfg.User != "" {
			opts.Users = []*server.User{{Username: cfg.User, Password: cfg.Password}}
		}
	} else {
		opts.Username, opts.Password = cfg.User, cfg.Password
	}
	if cfg.ClusterName != "" {
		opts.Cluster = server.ClusterOpts{
			Name: cfg.ClusterName, Host: cfg.ClusterHost, Port: cfg.ClusterPort,
			Username: cfg.ClusterUser, Password: cfg.ClusterPassword,
		}
		opts.Routes = routes
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
	s := &Server{ns: ns, cfg: cfg, url: ns.ClientURL(), dir: dir, hook: hook}
	if addr, ok := ns.Addr().(*net.TCPAddr); ok {
		s.cfg.Port = addr.Port
	}
	if cfg.ClusterName != "" {
		if addr := ns.ClusterAddr(); addr != nil {
			s.cfg.ClusterPort = addr.Port
		}
	}
	return s, nil
}

// routeURLs checks the cluster settings and parses Routes.
func routeURLs(cfg Config) ([]*url.URL, error) {
	if cfg.ClusterName == "" {
		if len(cfg.Routes) > 0 || cfg.ClusterPort != 0 || cfg.ClusterHost != "" {
			return nil, errors.New("natsserver: cluster settings without a ClusterName")
		}
		return nil, nil
	}
	if cfg.ServerName == "" {
		return nil, errors.New("natsserver: a cluster member needs a ServerName of its own")
	}
	if cfg.ClusterPort == 0 {
		return nil, errors.New("natsserver: a cluster member needs a ClusterPort (-1 picks one)")
	}
	var out []*url.URL
	for _, r := range cfg.Routes {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("natsserver: route %q is not a URL such as nats-route://127.0.0.1:6222", r)
		}
		if cfg.ClusterUser != "" && u.User == nil {
			u.User = url.UserPassword(cfg.ClusterUser, cfg.ClusterPassword)
		}
		out = append(out, u)
	}
	return out, nil
}

// ClusterURL is the route URL other members connect to, with the port actually bound;
// "" when the server is not clustered.
func (s *Server) ClusterURL() string {
	if s.cfg.ClusterName == "" {
		return ""
	}
	host := s.cfg.ClusterHost
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats-route://" + net.JoinHostPort(host, fmt.Sprint(s.cfg.ClusterPort))
}

// PublicKeyFromSeedFile reads an nkey user seed ("SU…", alone or in a .creds or .nk file)
// and returns its public key, for NKeys; the seed itself stays with the client.
func PublicKeyFromSeedFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("nkey seed: %w", err)
	}
	kp, err := nkeys.ParseDecoratedUserNKey(b)
	if err != nil {
		return "", fmt.Errorf("nkey seed %s: %w", path, err)
	}
	defer kp.Wipe()
	return kp.PublicKey()
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
	// noSpace is set when the server says its disk is full: its streams then refuse
	// every write until JetStream is started again (KeepJetStream).
	noSpace atomic.Bool
}

func (h *logHook) log(level slog.Level, format string, v []any) {
	msg := fmt.Sprintf(format, v...)
	if level >= slog.LevelError && strings.Contains(msg, "no space left on device") {
		h.noSpace.Store(true)
	}
	if h.l != nil {
		h.l.Log(context.Background(), level, msg, "component", "nats-server")
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
