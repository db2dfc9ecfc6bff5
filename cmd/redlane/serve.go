package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzhttp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// natsFlags are the flags of every command that reads or writes the log.
type natsFlags struct {
	url      string
	creds    string
	nkey     string
	user     string
	password string
	stream   string
	replicas int
	trusted  string
	legacy   string
}

func (f *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "nats-url", "", "use this NATS server or cluster (comma-separated URLs) instead of an embedded one")
	fs.StringVar(&f.creds, "nats-creds", "", "NATS credentials file (JWT and nkey seed) for --nats-url")
	fs.StringVar(&f.nkey, "nats-nkey", "", "NATS nkey seed file (SU…) to sign in with (default with an embedded server: DATA/service.nk; DATA/auditor.nk and DATA/reporting.nk only read)")
	fs.StringVar(&f.user, "nats-user", "", "NATS user name (embedded server: also admitted, with every right; --nats-url: sent)")
	fs.StringVar(&f.password, "nats-password", "", "NATS password; or set REDLANE_NATS_PASSWORD")
	fs.StringVar(&f.stream, "stream", "REDLANE", "the JetStream stream that holds the events")
	fs.IntVar(&f.replicas, "replicas", 1, "the stream's replicas (1, or 3 on a cluster)")
	fs.StringVar(&f.legacy, "legacy-key-file", "", "the shared audit key of a log written before Ed25519 signing (default: REDLANE_AUDIT_KEY, or DATA/audit.key): its events before the first key event are obeyed")
	fs.StringVar(&f.trusted, "trusted-keys", "", "a file of writers' public keys to trust (default: DATA/trusted.keys; else the root the log's first key event introduces)")
}

// connect connects to the log as Redlane's service (an inbox readers cannot see) or as
// a reader; seed is the nkey seed file used when no credentials are given.
func (f *natsFlags) connect(url, name, seed string, service bool) (*nats.Conn, error) {
	opts, err := f.connectOptions(name, seed, service)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(url, opts...)
	if errors.Is(err, nats.ErrAuthorization) {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, errNoCredentials)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	return nc, nil
}

// serve runs the HTTP API until ctx ends. started, when not nil, gets the listening
// HTTP address (tests use port 0).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, started chan<- string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nf natsFlags
	nf.register(fs)
	dataDir := fs.String("data", "./data", "data directory: the embedded server's JetStream store and the admin token")
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP listen address")
	natsListen := fs.String("nats-listen", "127.0.0.1:4222", "embedded NATS client listen address (host:port; port 0 picks one)")
	demo := fs.Bool("demo", false, "load the demo streets, communities, lanes and members once")
	syncMode := fs.String("sync", "always", `embedded server: "always" flushes each event to disk before acknowledging it; "interval" lets the OS flush (faster, loses acknowledged events on power loss)`)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "json", "json (one JSON object a line) or text")
	nkeys := fs.String("nats-nkeys", "", "embedded server: comma-separated nkey user public keys (U…) that may connect")
	intakeRate := fs.Float64("intake-rate", 0, "submits without a token a second per client address (0: 1; negative: no limit)")
	intakeBurst := fs.Int("intake-burst", 0, "submits without a token at once per client address (0: 20)")
	trustedProxies := fs.String("trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client")
	tick := fs.Duration("tick", 30*time.Second, "how often deadlines are checked and periodic orders produced")
	callbackAfter := fs.Duration("callback-after", 72*time.Hour, "how long a completed order awaits its rating on the working list before it moves to the call-back list (待回访)")
	secureCookies := fs.Bool("secure-cookies", false, "mark the pages' session cookie Secure: set it when the pages are served over HTTPS (behind a TLS proxy)")
	sessionTTL := fs.Duration("session-ttl", 12*time.Hour, "how long a sign-in to the pages lasts")
	pprofAddr := fs.String("pprof", "", "serve Go's profiles (net/http/pprof) on this address, for an operator chasing memory or CPU; off when empty. Keep it on loopback")
	searchDays := fs.Int("search-days", 92, "how many days back the order search reaches for orders no longer live (live orders are always found)")
	cacheMiB := fs.Int("cache-mib", service.DefaultCacheBytes>>20, "memory the orders kept in memory may take, in MiB (redlane_runner_cache_bytes)")
	groupCommit := fs.Bool("group-commit", true, `with --sync always: commands that arrive while a write is being flushed share the next flush (each still under its own order's concurrency check); a lone command goes out at once`)
	feedRate := fs.Float64("feed-rate", 20, "anonymous reads of the public feed and station screens a second per client address, in bursts of ten times that (negative: no limit)")
	maxStreams := fs.Int("max-streams", 2000, "live streams (feeds, boards, screens) open at once in all; 0: no bound")
	maxStreamsPerAddr := fs.Int("max-streams-per-address", 20, "live streams open at once from one client address; 0: no bound")
	bodyTimeout := fs.Duration("body-timeout", 30*time.Second, "how long a request's body may take to arrive (headers: 10 s; idle connections close after 2 min)")
	open311Jurisdiction := fs.String("open311-jurisdiction", "", "the jurisdiction_id Open311 clients must send, when they send one (400 otherwise); empty: any is accepted")
	var af auditFlags // --esdb-url, --seal-every, --seal-interval (audit.go)
	af.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if nf.password == "" {
		nf.password = getenv("REDLANE_NATS_PASSWORD")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	var log *slog.Logger
	switch *logFormat {
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	default:
		return fmt.Errorf(`--log-format must be "json" or "text", not %q`, *logFormat)
	}
	if *syncMode != "always" && *syncMode != "interval" {
		return fmt.Errorf(`--sync must be "always" or "interval", not %q`, *syncMode)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	// The log: an embedded server unless told to use another, to which Redlane signs in
	// as its service (DATA/service.nk, unless credentials are given).
	url := nf.url
	var seed string
	var embedded *natsserver.Server
	if p := filepath.Join(*dataDir, serviceSeedFile); url != "" && fileExists(p) {
		seed = p
	}
	if url == "" {
		host, portText, err := net.SplitHostPort(*natsListen)
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
		keys := splitList(*nkeys)
		if nf.nkey != "" {
			pub, err := natsserver.PublicKeyFromSeedFile(nf.nkey)
			if err != nil {
				return fmt.Errorf("--nats-nkey: %w", err)
			}
			keys = append(keys, pub)
		}
		srv, err := startEmbedded(*dataDir, nf.stream, host, port, *syncMode == "always", keys, nf.user, nf.password, natsLog(log))
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		embedded = srv
		url = srv.ClientURL()
		seed = filepath.Join(*dataDir, serviceSeedFile)
		log.Info("embedded NATS started", "url", url, "sync", *syncMode, "data", *dataDir,
			"service", seed, "readers", filepath.Join(*dataDir, auditorSeedFile)+", "+filepath.Join(*dataDir, reportingSeedFile))
	}
	nc, err := nf.connect(url, "redlane serve", seed, true)
	if err != nil {
		return err
	}
	defer nc.Drain() //nolint:errcheck // closing anyway
	// A lost connection is told once, and its return: the client reconnects by itself,
	// and /readyz and redlane_nats_connected say so meanwhile.
	nc.SetDisconnectErrHandler(func(_ *nats.Conn, err error) {
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
	signer, err := jsstore.LoadSigner(filepath.Join(*dataDir, signingKeyFile), true)
	if err != nil {
		return err
	}
	rejected, err := jsstore.NewRejections(log, reg)
	if err != nil {
		return err
	}
	store, err := jsstore.Open(openCtx, js, jsstore.Config{Stream: nf.stream, Replicas: nf.replicas, Signer: signer, Keys: jsstore.NewKeyring(), Rejected: rejected})
	if err != nil {
		return fmt.Errorf("open the event stream: %w", err)
	}
	if err := establishTrust(openCtx, store, *dataDir, nf.trusted, log); err != nil {
		return err
	}
	if err := acceptLegacy(openCtx, store, nf.legacy, *dataDir, getenv); err != nil {
		return err
	}
	receiptKey, err := jsstore.SharedSecret(openCtx, js, "receipt-key", func() []byte { return randomBytes(32) }, nf.replicas)
	if err != nil {
		return err
	}
	adminToken, err := loadAdminToken(*dataDir, getenv)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}

	pepper, err := jsstore.SharedSecret(openCtx, js, "resident-pepper", func() []byte { return randomBytes(32) }, nf.replicas)
	if err != nil {
		return err
	}
	vault, err := jsstore.OpenVault(openCtx, js, pepper, nf.replicas)
	if err != nil {
		return err
	}
	// With a flush before every acknowledgement, concurrent commands share flushes.
	var events domain.EventStore = store
	if *groupCommit && nf.url == "" && *syncMode == "always" {
		group := jsstore.NewGroupStore(store, jsstore.GroupConfig{})
		if err := registerGroupMetrics(reg, group); err != nil {
			return err
		}
		events = group
	}
	svc := service.New(service.Config{
		Store: events, Clock: domain.ClockFunc(time.Now), NewID: newEventID,
		Catalog: order.DefaultCatalog(), AdminToken: adminToken, ReceiptKey: receiptKey, Loc: loc,
		Vault: vault, Observe: m.command, CacheBytes: int64(*cacheMiB) << 20,
	})
	m.watchCache(reg, svc)

	// The views: every process keeps them, one at a time writes each.
	host, _ := os.Hostname()
	vs, err := jsstore.NewViews(openCtx, js, store, jsstore.ViewsConfig{
		Owner: fmt.Sprintf("%s:%d", host, os.Getpid()), Replicas: nf.replicas, Log: log, Registerer: reg,
	})
	if err != nil {
		return fmt.Errorf("views: %w", err)
	}
	viewsDone := make(chan struct{})
	go func() {
		defer close(viewsDone)
		_ = vs.Run(ctx, views...)
	}()
	defer func() { <-viewsDone }()

	// The read side's index of the backlog: each lane's live orders and a window of
	// history, kept from the backlog view by a watch, so that pages and searches cost no
	// request to NATS and stay fast at any size (package query).
	index := query.NewIndex(query.IndexConfig{Keep: time.Duration(*searchDays) * 24 * time.Hour, CallbackAfter: *callbackAfter})
	if err := registerIndexMetrics(reg, index); err != nil {
		return err
	}
	indexDone := make(chan struct{})
	go func() {
		defer close(indexDone)
		go pruneEvery(ctx, index, time.Hour)
		_ = vs.Watch(ctx, backlog.Name, query.BacklogKeys, index)
	}()
	defer func() { <-indexDone }()

	// Tamper evidence: the sealer; and, with --esdb-url, the EventStoreDB mirror (audit.go).
	auditDone, err := runAudit(ctx, js, store, signer, af, nf.replicas, log)

	if err != nil {
		return err
	}
	defer auditDone()

	// The log's wholeness: checked now, and every few seconds after (intact.go).
	watchdog, err := jsstore.NewWatchdog(store, log, reg)
	if err != nil {
		return err
	}
	for _, name := range viewNames() {
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
	followErr := make(chan error, 1)
	var filters []string
	for _, t := range service.DirectoryTypes {
		filters = append(filters, store.Subject(t, "*"))
	}
	go func() {
		followErr <- store.FollowSubjects(ctx, filters, func(rec domain.Recorded) error {
			if err := svc.Dir.Apply(rec); err != nil {
				log.Warn("directory skips an event it cannot read", "seq", rec.Seq, "err", err)
			}
			return nil
		}, func() { dirReady.Store(true) })
	}()

	// The desk's clockwork: deadlines and periodic services. Every process may run it:
	// the orders decide, so each overdue mark and each periodic order is recorded once.
	deskDone := make(chan struct{})
	go func() {
		defer close(deskDone)
		if waitFor(ctx, dirReady.Load, time.Hour) != nil {
			return
		}
		if waitFor(ctx, func() bool { return index.Ready() == nil }, time.Hour) != nil {
			return
		}
		svc.RunDesk(ctx, index, *tick, func(err error) { log.Warn("desk", "err", err) })
	}()
	defer func() { <-deskDone }()

	if *demo {
		if err := waitFor(ctx, dirReady.Load, 30*time.Second); err != nil {
			return fmt.Errorf("demo data: directory did not catch up: %w", err)
		}
		if err := loadDemo(ctx, svc, *dataDir, log); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	var proxies []netip.Prefix
	for _, p := range splitList(*trustedProxies) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		proxies = append(proxies, pfx)
	}
	// One allowance per address for public intake, by the API and by the intake form.
	intake := httpapi.IntakeLimiter(*intakeRate, *intakeBurst)
	api := httpapi.New(httpapi.Config{
		Service: svc, Log: log, Registry: reg, Views: vs, Index: index,
		IntakeRate: *intakeRate, IntakeBurst: *intakeBurst, IntakeLimiter: intake, TrustedProxies: proxies,
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
			return vs.Ready(ctx, views)
		},
		Degraded: func() map[string]any {
			n := rejected.Count()
			if n == 0 {
				return nil
			}
			return map[string]any{
				"reason":          fmt.Sprintf("%d events in the log are not Redlane's (not signed by a trusted key): set aside, never obeyed", n),
				"rejected_events": n,
				"rejected_seqs":   rejected.Seqs(20),
			}
		},
	})
	if *pprofAddr != "" {
		stopProfiles, err := serveProfiles(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProfiles()
	}
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("--http: %w", err)
	}
	// At shutdown live streams end at once; every other request finishes (WithLifetime).
	closing, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	// Pages and JSON of a kilobyte or more go out gzipped to clients that take it; live
	// streams never (a proxy would hold them back).
	gzip, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.ExceptContentTypes([]string{"text/event-stream"}))
	if err != nil {
		return err
	}
	sessions, err := jsstore.OpenSessions(ctx, js, *sessionTTL, nf.replicas)
	if err != nil {
		return err
	}
	web := newPages(svc, vs, index, sessions, *secureCookies, *sessionTTL, log)
	pages := httpapi.LimitForm(intake, "/intake", proxies, func(r *http.Request) bool { return !web.SignedIn(r) }, web)
	// Sign-in attempts: ten at once per address, then one every six seconds.
	pages = httpapi.LimitForm(httpapi.NewLimiter(1.0/6, 10), "/signin", proxies, func(*http.Request) bool { return true }, pages)
	// Open311 GeoReport v2 answers everything under /open311/v2/ itself (open311.go).
	o311 := startOpen311(ctx, svc, store, log, *open311Jurisdiction, *feedRate, proxies)
	handler := httpapi.WithLifetime(closing, *bodyTimeout, httpapi.WithRequestLog(log, m.streams, o311.Mount(
		httpapi.LimitStreams(*maxStreamsPerAddr, *maxStreams, proxies, httpapi.LimitReads(feedLimiter(*feedRate), proxies, gzip(httpapi.RefuseWritesWhile(func() error {
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
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("redlane serving", "http", "http://"+ln.Addr().String(), "nats", url, "stream", store.StreamName())
	if started != nil {
		started <- ln.Addr().String()
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("http: %w", err)
	case err := <-followErr:
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("directory follower: %w", err)
		}
	}
	log.Info("shutting down: no new connections; requests in flight finish (10 s at most)")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelShut()
	if err := hs.Shutdown(shutCtx); err != nil {
		log.Warn("requests still running after 10 s were cut off", "err", err)
		return hs.Close()
	}
	log.Info("stopped")
	return nil
}

func newEventID() string { return uuid.Must(uuid.NewV7()).String() }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// loadAdminToken returns REDLANE_ADMIN_TOKEN, or the token in DATA/admin.token, making
// one there (mode 0600) on first start. The token is never logged.
func loadAdminToken(dataDir string, getenv func(string) string) (string, error) {
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
	t := "rla_" + hex.EncodeToString(randomBytes(24))
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return t, nil
}

func waitFor(ctx context.Context, cond func() bool, limit time.Duration) error {
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
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// serveMetrics are serve's own metrics besides the API's and the store's.
type serveMetrics struct {
	commands *prometheus.CounterVec
	took     *prometheus.HistogramVec
	streams  prometheus.Gauge
}

func newServeMetrics(reg *prometheus.Registry, nc *nats.Conn) *serveMetrics {
	m := &serveMetrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redlane_commands_total", Help: "Commands run, by aggregate, command and outcome (ok, invalid, unauthorized, forbidden, not_found, conflict, internal).",
		}, []string{"aggregate", "command", "outcome"}),
		took: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "redlane_command_duration_seconds", Help: "How long a command took, decided and stored, by aggregate and command.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 15),
		}, []string{"aggregate", "command"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "redlane_sse_clients", Help: "Server-Sent Events streams open now (feeds, boards, task lists, station screens).",
		}),
	}
	reg.MustRegister(m.commands, m.took, m.streams, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "redlane_nats_connected", Help: "1 while the connection to NATS is up, else 0.",
	}, func() float64 {
		if nc.IsConnected() {
			return 1
		}
		return 0
	}))
	return m
}

// watchCache exposes the size of the orders' cache.
func (m *serveMetrics) watchCache(reg *prometheus.Registry, svc *service.Service) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_runner_cache_bytes", Help: "Bytes the orders kept in memory take, as counted (bounded by --cache-mib)."},
			func() float64 { _, b := svc.Orders.CacheStats(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_runner_cache_orders", Help: "Orders kept in memory."},
			func() float64 { n, _ := svc.Orders.CacheStats(); return float64(n) }),
	)
}

// command is service.Config.Observe.
func (m *serveMetrics) command(aggregate, command string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = strings.ReplaceAll(domain.KindOf(err).String(), " ", "_")
	}
	m.commands.WithLabelValues(aggregate, command, outcome).Inc()
	m.took.WithLabelValues(aggregate, command).Observe(took.Seconds())
}
