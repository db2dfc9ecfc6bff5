package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/redlane/redlane/internal/app"
	"github.com/redlane/redlane/service"
)

// serveMain is "redlane serve": it parses the flags into an app.Config, then opens the
// serving process, waits, and closes it.
type serveMain struct {
	Config app.Config
	Log    *slog.Logger
	stderr io.Writer
	server *app.Server
}

// ParseFlags reads serve's flags and the environment.
func (m *serveMain) ParseFlags(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	c := &m.Config
	registerNATS(fs, &c.NATS)
	fs.StringVar(&c.Data, "data", "./data", "data directory: the embedded server's JetStream store and the admin token")
	fs.StringVar(&c.HTTP, "http", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "embedded NATS client listen address (host:port; port 0 picks one)")
	fs.BoolVar(&c.Demo, "demo", false, "load the demo streets, communities, lanes and members once")
	fs.StringVar(&c.Sync, "sync", "always", `embedded server: "always" flushes each event to disk before acknowledging it; "interval" lets the OS flush (faster, loses acknowledged events on power loss)`)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "json", "json (one JSON object a line) or text")
	nkeys := fs.String("nats-nkeys", "", "embedded server: comma-separated nkey user public keys (U…) that may connect")
	fs.Float64Var(&c.IntakeRate, "intake-rate", 0, "submits without a token a second per client address (0: 1; negative: no limit)")
	fs.IntVar(&c.IntakeBurst, "intake-burst", 0, "submits without a token at once per client address (0: 20)")
	trustedProxies := fs.String("trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client")
	fs.DurationVar(&c.Tick, "tick", 30*time.Second, "how often deadlines are checked and periodic orders produced")
	fs.DurationVar(&c.CallbackAfter, "callback-after", 72*time.Hour, "how long a completed order awaits its rating on the working list before it moves to the call-back list (待回访)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark the pages' session cookie Secure: set it when the pages are served over HTTPS (behind a TLS proxy)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 12*time.Hour, "how long a sign-in to the pages lasts")
	fs.StringVar(&c.PProf, "pprof", "", "serve Go's profiles (net/http/pprof) on this address, for an operator chasing memory or CPU; off when empty. Keep it on loopback")
	fs.IntVar(&c.PeriodMaxSubjects, "period-max-subjects", app.DefaultPeriodMaxSubjects, "subjects the current period's stream may hold before /readyz says to roll to the next period (0: no limit; docs/scale.md)")
	fs.IntVar(&c.SearchDays, "search-days", 92, "how many days back the order search reaches for orders no longer live (live orders are always found)")
	fs.IntVar(&c.CacheMiB, "cache-mib", service.DefaultCacheBytes>>20, "memory the orders kept in memory may take, in MiB (redlane_runner_cache_bytes)")
	fs.BoolVar(&c.GroupCommit, "group-commit", true, `with --sync always: commands that arrive while a write is being flushed share the next flush (each still under its own order's concurrency check); a lone command goes out at once`)
	fs.Float64Var(&c.FeedRate, "feed-rate", 20, "anonymous reads of the public feed and station screens a second per client address, in bursts of ten times that (negative: no limit)")
	fs.IntVar(&c.MaxStreams, "max-streams", 2000, "live streams (feeds, boards, screens) open at once in all; 0: no bound")
	fs.IntVar(&c.MaxStreamsPerAddress, "max-streams-per-address", 20, "live streams open at once from one client address; 0: no bound")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", 30*time.Second, "how long a request's body may take to arrive (headers: 10 s; idle connections close after 2 min)")
	fs.StringVar(&c.Open311Jurisdiction, "open311-jurisdiction", "", "the jurisdiction_id Open311 clients must send, when they send one (400 otherwise); empty: any is accepted")
	fs.StringVar(&c.Audit.ESDBURL, "esdb-url", "", "mirror every event into EventStoreDB / KurrentDB at this connection string (esdb://host:2113?tls=false); empty: off")
	fs.IntVar(&c.Audit.SealEvery, "seal-every", 1000, "seal the event stream every this many events")
	fs.DurationVar(&c.Audit.SealInterval, "seal-interval", 10*time.Second, "and at least this often while events come in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.NATS.Password == "" {
		c.NATS.Password = getenv("REDLANE_NATS_PASSWORD")
	}
	c.Getenv = getenv
	c.NKeys = app.SplitList(*nkeys)
	for _, p := range app.SplitList(*trustedProxies) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx)
	}
	if c.Sync != "always" && c.Sync != "interval" {
		return fmt.Errorf(`--sync must be "always" or "interval", not %q`, c.Sync)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	switch *logFormat {
	case "json":
		m.Log = slog.New(slog.NewJSONHandler(m.stderr, &slog.HandlerOptions{Level: level}))
	case "text":
		m.Log = slog.New(slog.NewTextHandler(m.stderr, &slog.HandlerOptions{Level: level}))
	default:
		return fmt.Errorf(`--log-format must be "json" or "text", not %q`, *logFormat)
	}
	return nil
}

// Run opens the serving process; it serves in the background until Close.
func (m *serveMain) Run(ctx context.Context) (err error) {
	m.server, err = app.Open(ctx, m.Config, m.Log)
	return err
}

// Close stops the serving process, letting requests in flight finish.
func (m *serveMain) Close() error {
	if m.server == nil {
		return nil
	}
	return m.server.Close()
}

// serve runs "redlane serve" until ctx ends. started, when not nil, gets the listening
// HTTP address (tests use port 0).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, started chan<- string) error {
	m := &serveMain{stderr: stderr}
	if err := m.ParseFlags(args, getenv); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	if started != nil {
		started <- m.server.Addr()
	}
	werr := m.server.Wait(ctx)
	if err := m.Close(); werr == nil {
		werr = err
	}
	return werr
}
