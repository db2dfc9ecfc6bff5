package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jsaudit "github.com/redlane/redlane/adapters/jetstream/audit"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzhttp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/web"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// Config is what a serving process runs with: redlane serve's flags.
type Config struct {
	NATS                 NATS
	Data                 string         // the data directory: the embedded server's store, keys and the admin token
	HTTP                 string         // the HTTP listen address
	NATSListen           string         // the embedded server's client address (host:port; port 0 picks one)
	Demo                 bool           // load the demo district once
	Sync                 string         // "always" (flush before acknowledging) or "interval"
	NKeys                []string       // more nkey users the embedded server admits with every right
	IntakeRate           float64        // anonymous submits a second per address (0: 1; negative: no limit)
	IntakeBurst          int            // anonymous submits at once per address (0: 20)
	TrustedProxies       []netip.Prefix // reverse proxies whose X-Forwarded-For names the client
	Tick                 time.Duration  // how often deadlines are checked and periodic orders produced
	CallbackAfter        time.Duration  // how long a completed order awaits its rating before the call-back list
	SecureCookies        bool
	SessionTTL           time.Duration
	PProf                string // Go's profiles on this address; off when empty
	SearchDays           int    // how far back the search reaches for orders no longer live
	PeriodMaxSubjects    int    // past it /readyz says to roll to the next period (0: no limit)
	CacheMiB             int    // memory the orders kept in memory may take
	GroupCommit          bool   // with Sync "always": concurrent commands share flushes
	FeedRate             float64
	MaxStreams           int
	MaxStreamsPerAddress int
	BodyTimeout          time.Duration
	Open311Jurisdiction  string // the jurisdiction_id Open311 clients must send, if any
	Audit                AuditConfig
	Getenv               func(string) string // the environment (REDLANE_ADMIN_TOKEN, REDLANE_AUDIT_KEY)
}

// Server is a serving process: the log (an embedded NATS server unless told otherwise),
// the command side, the views and their index, the sealer, the desk's clockwork and the
// HTTP API and pages. Open starts it; Close stops it, letting requests in flight finish.
type Server struct {
	cfg     Config
	log     *slog.Logger
	cancel  context.CancelFunc
	hs      *http.Server
	addr    string
	closers []func()
	fatal   chan error
	once    sync.Once
}

// Open starts a serving process. Its background work runs until ctx ends or Close.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	s := &Server{cfg: cfg, log: log, fatal: make(chan error, 1)}
	ctx, s.cancel = context.WithCancel(ctx)
	if err := s.open(ctx); err != nil {
		s.Close() //nolint:errcheck // the error that stopped Open is the one to tell
		return nil, err
	}
	return s, nil
}

// Addr is the HTTP listener's address.
func (s *Server) Addr() string { return s.addr }

// Wait returns when ctx ends (nil) or the server cannot go on (its error).
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.fatal:
		return err
	}
}

// Close stops the server: no new connections, requests in flight finish (10 s at most),
// then the background work and the log connection stop.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.cancel()
		if s.hs != nil {
			s.log.Info("shutting down: no new connections; requests in flight finish (10 s at most)")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err = s.hs.Shutdown(ctx); err != nil {
				s.log.Warn("requests still running after 10 s were cut off", "err", err)
				err = s.hs.Close()
			}
			cancel()
		}
		for i := len(s.closers) - 1; i >= 0; i-- {
			s.closers[i]()
		}
		if s.hs != nil {
			s.log.Info("stopped")
		}
	})
	return err
}

func (s *Server) onClose(f func()) { s.closers = append(s.closers, f) }

func (s *Server) fail(err error) {
	select {
	case s.fatal <- err:
	default:
	}
}

func (s *Server) open(ctx context.Context) error {
	log := s.log
	if err := os.MkdirAll(s.cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	// The log: an embedded server unless told to use another, to which Redlane signs in
	// as its service (DATA/service.nk, unless credentials are given).
	url := s.cfg.NATS.URL
	var seed string
	var embedded *natsserver.Server
	if p := filepath.Join(s.cfg.Data, ServiceSeedFile); url != "" && FileExists(p) {
		seed = p
	}
	if url == "" {
		host, portText, err := net.SplitHostPort(s.cfg.NATSListen)
		if err != nil {
			return fmt.Errorf("--nats-listen: %w", err)
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			return fmt.Errorf("--nats-listen port: %w", err)
		}
		if port == 0 {
			port = -1
		}
		keys := append([]string(nil), s.cfg.NKeys...)
		if s.cfg.NATS.NKey != "" {
			pub, err := natsserver.PublicKeyFromSeedFile(s.cfg.NATS.NKey)
			if err != nil {
				return fmt.Errorf("--nats-nkey: %w", err)
			}
			keys = append(keys, pub)
		}
		srv, err := StartEmbedded(s.cfg.Data, host, port, s.cfg.Sync == "always", keys, s.cfg.NATS.User, s.cfg.NATS.Password, natsLog(log))
		if err != nil {
			return err
		}
		s.onClose(srv.Shutdown)
		embedded = srv
		url = srv.ClientURL()
		seed = filepath.Join(s.cfg.Data, ServiceSeedFile)
		log.Info("embedded NATS started", "url", url, "sync", s.cfg.Sync, "data", s.cfg.Data,
			"service", seed, "readers", filepath.Join(s.cfg.Data, AuditorSeedFile)+", "+filepath.Join(s.cfg.Data, ReportingSeedFile))
	}
	nc, err := s.cfg.NATS.Connect(url, "redlane serve", seed, true)
	if err != nil {
		return err
	}
	s.onClose(func() { _ = nc.Drain() })
	// A lost connection is told once, and its return: the client reconnects by itself,
	// and /readyz and redlane_nats_connected say so meanwhile.
	nc.SetDisconnectErrHandler(func(_ *nats.Conn, err error) {
		if ctx.Err() != nil {
			return // the server is stopping: the connection ends with it
		}
		log.Error("NATS connection lost: not ready, writes refused, until it is back", "err", err)
	})
	nc.SetReconnectHandler(func(c *nats.Conn) { log.Info("NATS connection back", "url", c.ConnectedUrl()) })
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newServeMetrics(reg, nc)
	// The embedded server turns JetStream off when its disk is full; once space is freed
	// it is started again here, with no restart (natsserver.KeepJetStream).
	var jetStreamOff atomic.Pointer[error]
	if embedded != nil {
		on := prometheus.NewGauge(prometheus.GaugeOpts{Name: "redlane_jetstream_on", Help: "1 while the embedded NATS server's JetStream runs; 0 after it turned it off (out of disk space) until it is back."})
		on.Set(1)
		reg.MustRegister(on)
		go embedded.KeepJetStream(ctx, 2*time.Second, 64<<20, func(up bool, why error) {
			if up {
				on.Set(1)
				jetStreamOff.Store(nil)
				log.Info("JetStream runs again: writes are taken")
				return
			}
			on.Set(0)
			if jetStreamOff.Swap(&why) == nil {
				log.Error("JetStream is off: writes are refused until there is disk space again (64 MiB free)", "err", why)
			}
		})
	}

	// Every event is signed with this data directory's key, which never goes on NATS;
	// only events signed by a trusted key are obeyed (access.go).
	signer, err := jsstore.LoadSigner(filepath.Join(s.cfg.Data, SigningKeyFile), true)
	if err != nil {
		return err
	}
	rejected, err := jsstore.NewRejections(log, reg)
	if err != nil {
		return err
	}
	if err := s.cfg.NATS.ResolveStream(openCtx, js); err != nil {
		return err
	}
	log.Info("the current period's event stream", "stream", s.cfg.NATS.Stream)
	store, err := jsstore.Open(openCtx, js, jsstore.Config{Stream: s.cfg.NATS.Stream, Replicas: s.cfg.NATS.Replicas, Signer: signer, Keys: jsstore.NewKeyring(), Rejected: rejected})
	if err != nil {
		return fmt.Errorf("open the event stream: %w", err)
	}
	if p, err := store.Period(openCtx); err != nil || p.Sealed {
		return cmp.Or(err, fmt.Errorf("stream %s is a period that has ended (sealed by redlane period roll): serve the current period (leave out --stream)", p.Stream))
	}
	periods, err := newPeriodWatch(store, s.cfg.PeriodMaxSubjects, log, reg)
	if err != nil {
		return err
	}
	go periods.run(ctx, time.Minute)
	if err := establishTrust(openCtx, store, s.cfg.Data, s.cfg.NATS.Trusted, log); err != nil {
		return err
	}
	if err := acceptLegacy(openCtx, store, s.cfg.NATS.Legacy, s.cfg.Data, s.cfg.Getenv); err != nil {
		return err
	}
	receiptKey, err := jsvault.SharedSecret(openCtx, js, "receipt-key", func() []byte { return RandomBytes(32) }, s.cfg.NATS.Replicas)
	if err != nil {
		return err
	}
	adminToken, err := LoadAdminToken(s.cfg.Data, s.cfg.Getenv)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}

	pepper, err := jsvault.SharedSecret(openCtx, js, "resident-pepper", func() []byte { return RandomBytes(32) }, s.cfg.NATS.Replicas)
	if err != nil {
		return err
	}
	// Sign-ins, the pages' and the API's, in NATS KV for every process; accounts'
	// password hashes beside them, where readers cannot read.
	sessions, err := jsvault.OpenSessions(openCtx, js, s.cfg.SessionTTL, s.cfg.NATS.Replicas)
	if err != nil {
		return err
	}
	credentials, err := jsvault.OpenCredentials(openCtx, js, s.cfg.NATS.Replicas)
	if err != nil {
		return err
	}
	vault, err := jsvault.Open(openCtx, js, pepper, s.cfg.NATS.Replicas)
	if err != nil {
		return err
	}
	// Residents' keys are kept in memory while a watch tells of every erasure.
	if err := vault.CacheKeys(ctx, jsvault.KeyCacheConfig{Log: log}); err != nil {
		return err
	}
	if err := registerVaultMetrics(reg, vault); err != nil {
		return err
	}
	// With a flush before every acknowledgement, concurrent commands share flushes.
	var events domain.EventStore = store
	if s.cfg.GroupCommit && s.cfg.NATS.URL == "" && s.cfg.Sync == "always" {
		group := jsstore.NewGroupStore(store, jsstore.GroupConfig{})
		if err := registerGroupMetrics(reg, group); err != nil {
			return err
		}
		events = group
	}
	svc := service.New(service.Config{
		Store: events, Clock: domain.ClockFunc(time.Now), NewID: NewEventID,
		Catalog: order.DefaultCatalog(), AdminToken: adminToken, ReceiptKey: receiptKey, Loc: loc,
		Vault: vault, Credentials: credentials, Observe: m.command, CacheBytes: int64(s.cfg.CacheMiB) << 20,
		Earlier: store.Earlier(), // orders a roll left behind stay readable
	})
	m.watchCache(reg, svc)

	// The views: every process keeps them, one at a time writes each.
	host, _ := os.Hostname()
	vs, err := jsviews.New(openCtx, js, store, jsviews.Config{
		Owner: fmt.Sprintf("%s:%d", host, os.Getpid()), Replicas: s.cfg.NATS.Replicas, Log: log, Registerer: reg,
	})
	if err != nil {
		return fmt.Errorf("views: %w", err)
	}
	viewsDone := make(chan struct{})
	go func() {
		defer close(viewsDone)
		_ = vs.Run(ctx, views...)
	}()
	s.onClose(func() { <-viewsDone })

	// The read side's index of the backlog: each lane's live orders and a window of
	// history, kept from the backlog view by a watch, so that pages and searches cost no
	// request to NATS and stay fast at any size (package query).
	index := query.NewIndex(query.IndexConfig{Keep: time.Duration(s.cfg.SearchDays) * 24 * time.Hour, CallbackAfter: s.cfg.CallbackAfter})
	if err := registerIndexMetrics(reg, index); err != nil {
		return err
	}
	indexDone := make(chan struct{})
	go func() {
		defer close(indexDone)
		go pruneEvery(ctx, index, time.Hour)
		_ = vs.Watch(ctx, backlog.Name, query.BacklogKeys, index)
	}()
	s.onClose(func() { <-indexDone })

	// Tamper evidence: the sealer; and, with --esdb-url, the EventStoreDB mirror (audit.go here).
	auditDone, err := runAudit(ctx, js, store, signer, s.cfg.Audit, s.cfg.NATS.Replicas, log)

	if err != nil {
		return err
	}
	s.onClose(auditDone)

	// The log's wholeness: checked now, and every few seconds after (jetstream/audit).
	watchdog, err := jsaudit.NewWatchdog(store, log, reg)
	if err != nil {
		return err
	}
	for _, name := range ViewNames() {
		watchdog.Marks = append(watchdog.Marks, func(ctx context.Context) (uint64, string, error) {
			at, err := vs.Checkpoint(ctx, name)
			return at, "view " + name, err
		})
	}
	if g, err := watchdog.Check(openCtx); err == nil && g.Missing > 0 {
		log.Error("serving, but not ready: the log has lost events", "missing", g.Missing)
	}
	go watchdog.Run(ctx, 5*time.Second)

	// The directory of lanes, members and tokens follows the log.
	var dirReady atomic.Bool
	var filters []string
	for _, t := range service.DirectoryTypes {
		filters = append(filters, store.Subject(t, "*"))
	}
	go func() {
		err := store.FollowSubjects(ctx, filters, func(rec domain.Recorded) error {
			if err := svc.Dir.Apply(rec); err != nil {
				log.Warn("directory skips an event it cannot read", "seq", rec.Seq, "err", err)
			}
			return nil
		}, func() { dirReady.Store(true) })
		if err != nil && ctx.Err() == nil {
			s.fail(fmt.Errorf("directory follower: %w", err))
		}
	}()

	// The desk's clockwork: deadlines and periodic services. Every process may run it:
	// the orders decide, so each overdue mark and each periodic order is recorded once.
	deskDone := make(chan struct{})
	go func() {
		defer close(deskDone)
		if WaitFor(ctx, dirReady.Load, time.Hour) != nil {
			return
		}
		if WaitFor(ctx, func() bool { return index.Ready() == nil }, time.Hour) != nil {
			return
		}
		svc.RunDesk(ctx, index, s.cfg.Tick, func(err error) { log.Warn("desk", "err", err) })
	}()
	s.onClose(func() { <-deskDone })

	if s.cfg.Demo {
		if err := WaitFor(ctx, dirReady.Load, 30*time.Second); err != nil {
			return fmt.Errorf("demo data: directory did not catch up: %w", err)
		}
		if err := loadDemo(ctx, svc, s.cfg.Data, log); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	proxies := s.cfg.TrustedProxies
	// One allowance per address for public intake, by the API and by the intake form.
	intake := httpapi.IntakeLimiter(s.cfg.IntakeRate, s.cfg.IntakeBurst)
	// Open311 GeoReport v2 answers everything under /open311/v2/ itself (open311.go);
	// /readyz waits for its ledger as for the views.
	o311 := startOpen311(ctx, svc, store, index, log, s.cfg.Open311Jurisdiction, s.cfg.FeedRate, proxies)
	api := httpapi.New(httpapi.Config{
		Sessions: sessions, SessionTTL: s.cfg.SessionTTL,
		Service: svc, Log: log, Registry: reg, Views: vs, Index: index,
		IntakeRate: s.cfg.IntakeRate, IntakeBurst: s.cfg.IntakeBurst, IntakeLimiter: intake, TrustedProxies: proxies,
		Ready: func(ctx context.Context) error {
			if !nc.IsConnected() {
				return errors.New("NATS is not reachable")
			}
			if why := jetStreamOff.Load(); why != nil {
				return *why
			}
			if err := store.Writable(ctx); err != nil {
				return fmt.Errorf("the event stream cannot take writes: %w", err)
			}
			if !dirReady.Load() {
				return errors.New("the directory of lanes, members and tokens is catching up")
			}
			if g := watchdog.Gap(); g.Missing > 0 {
				return fmt.Errorf("%d events are missing from the log: %s", g.Missing, g.Detail)
			}
			if err := index.Ready(); err != nil {
				return err
			}
			if err := o311.Ready(); err != nil {
				return fmt.Errorf("open311: %w", err)
			}
			return vs.Ready(ctx, views)
		},
		Degraded: func() map[string]any {
			var notOurs map[string]any
			if n := rejected.Count(); n > 0 {
				notOurs = map[string]any{
					"reason":          fmt.Sprintf("%d events in the log are not Redlane's (not signed by a trusted key): set aside, never obeyed", n),
					"rejected_events": n,
					"rejected_seqs":   rejected.Seqs(20),
				}
			}
			return mergeDegraded(notOurs, periods.degraded())
		},
	})
	if s.cfg.PProf != "" {
		stopProfiles, err := serveProfiles(s.cfg.PProf, log)
		if err != nil {
			return err
		}
		s.onClose(stopProfiles)
	}
	ln, err := net.Listen("tcp", s.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("--http: %w", err)
	}
	// At shutdown live streams end at once; every other request finishes (WithLifetime).
	closing, endStreams := context.WithCancel(context.Background())
	s.onClose(endStreams)
	// Pages and JSON of a kilobyte or more go out gzipped to clients that take it; live
	// streams never (a proxy would hold them back).
	gzip, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.ExceptContentTypes([]string{"text/event-stream"}))
	if err != nil {
		return err
	}
	web := web.New(web.Config{Service: svc, Views: vs, Index: index, Sessions: sessions, Secure: s.cfg.SecureCookies, SessionTTL: s.cfg.SessionTTL, Log: log})
	pages := httpapi.LimitForm(intake, "/intake", proxies, func(r *http.Request) bool { return !web.SignedIn(r) }, web)
	// Finding a receipt again: as the API's lookup, ten at once per address, then one
	// every six seconds.
	pages = httpapi.LimitForm(httpapi.NewLimiter(1.0/6, 10), "/receipt", proxies, func(*http.Request) bool { return true }, pages)
	// Sign-in attempts: ten at once per address, then one every six seconds.
	pages = httpapi.LimitForm(httpapi.NewLimiter(1.0/6, 10), "/signin", proxies, func(*http.Request) bool { return true }, pages)
	handler := httpapi.WithLifetime(closing, s.cfg.BodyTimeout, httpapi.WithRequestLog(log, m.streams, o311.Mount(
		httpapi.LimitStreams(s.cfg.MaxStreamsPerAddress, s.cfg.MaxStreams, proxies, httpapi.LimitReads(feedLimiter(s.cfg.FeedRate), proxies, gzip(httpapi.RefuseWritesWhile(func() error {
			if !nc.IsConnected() {
				return errors.New("NATS is not reachable")
			}
			if why := jetStreamOff.Load(); why != nil {
				return *why
			}
			return nil
		}, rootHandler(api, pages))))))))
	hs := &http.Server{Handler: handler, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	hs.RegisterOnShutdown(endStreams)
	s.hs = hs
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.fail(fmt.Errorf("http: %w", err))
		}
	}()
	log.Info("redlane serving", "http", "http://"+ln.Addr().String(), "nats", url, "stream", store.StreamName())
	s.addr = ln.Addr().String()
	return nil

}

func NewEventID() string { return uuid.Must(uuid.NewV7()).String() }

func RandomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// loadAdminToken returns REDLANE_ADMIN_TOKEN, or the token in DATA/admin.token, making
// one there (mode 0600) on first start. The token is never logged.
func LoadAdminToken(dataDir string, getenv func(string) string) (string, error) {
	if t := strings.TrimSpace(getenv("REDLANE_ADMIN_TOKEN")); t != "" {
		return t, nil
	}
	path := filepath.Join(dataDir, "admin.token")
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("admin token: %w", err)
	}
	t := "rla_" + hex.EncodeToString(RandomBytes(24))
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return t, nil
}

func WaitFor(ctx context.Context, cond func() bool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
