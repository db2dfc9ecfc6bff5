package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
)

// logConn is a connection to the event log for the commands besides serve: to the
// server at --nats-url, or else to an embedded server started on --data (which only works
// while no redlane serve holds that directory). Its store obeys only events signed by a
// trusted key (pinTrusted).
type Log struct {
	JS    jetstream.JetStream
	Store *jsstore.Store
	Close func()
}

// openLog connects a command to the log. A writer connects as Redlane's service, may
// create what is missing, and signs with the data directory's key; a reader only reads,
// which is all the auditor's and reporting's NATS users may do.
func OpenLog(ctx context.Context, nf NATS, dataDir string, writer bool, stderr io.Writer) (*Log, error) {
	url := nf.URL
	var srv *natsserver.Server
	var seed string
	if url == "" {
		if _, err := os.Stat(filepath.Join(dataDir, "nats")); err != nil {
			return nil, fmt.Errorf("no --nats-url given and no event store in %s: %w", dataDir, err)
		}
		var err error
		srv, err = StartEmbedded(dataDir, "127.0.0.1", -1, true, nil, "", "", nil)
		if err != nil {
			return nil, fmt.Errorf("open %s (is redlane serve running on it? then pass --nats-url nats://127.0.0.1:4222 --nats-nkey %s): %w", dataDir, filepath.Join(dataDir, ServiceSeedFile), err)
		}
		url = srv.ClientURL()
		seed = filepath.Join(dataDir, ServiceSeedFile)
	} else if p := filepath.Join(dataDir, map[bool]string{true: ServiceSeedFile, false: AuditorSeedFile}[writer]); dataDir != "" && FileExists(p) {
		// Without credentials, the data directory's user with the least rights that
		// does the job: the service's to write, the auditor's to read.
		seed = p
	}
	nc, err := nf.Connect(url, "redlane cli", seed, writer)
	if err != nil {
		if srv != nil {
			srv.Shutdown()
		}
		return nil, err
	}
	closeAll := func() {
		nc.Close()
		if srv != nil {
			srv.Shutdown()
		}
	}
	fail := func(err error) (*Log, error) {
		closeAll()
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fail(err)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := nf.ResolveStream(octx, js); err != nil {
		return fail(err)
	}
	rejected, err := jsstore.NewRejections(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
	if err != nil {
		return fail(err)
	}
	cfg := jsstore.Config{Stream: nf.Stream, Replicas: nf.Replicas, Keys: jsstore.NewKeyring(), Rejected: rejected, ReadOnly: !writer}
	if writer {
		if p := filepath.Join(dataDir, SigningKeyFile); FileExists(p) {
			if cfg.Signer, err = jsstore.LoadSigner(p, false); err != nil {
				return fail(err)
			}
		}
	}
	store, err := jsstore.Open(octx, js, cfg)
	if err != nil {
		return fail(err)
	}
	if err := pinTrusted(octx, store, nf.Trusted, dataDir, stderr); err != nil {
		return fail(err)
	}
	if err := acceptLegacy(octx, store, nf.Legacy, dataDir, os.Getenv); err != nil {
		return fail(err)
	}
	return &Log{JS: js, Store: store, Close: closeAll}, nil
}

// Progress draws progress on a terminal, or writes a plain line every few seconds
// when the output is not one.
type Progress struct {
	w        io.Writer
	tty      bool
	label    string
	start    time.Time
	lastLine time.Time
}

func NewProgress(w io.Writer, label string) *Progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &Progress{w: w, tty: tty, label: label, start: time.Now()}
}

func (p *Progress) Update(done, total uint64) {
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	if p.tty {
		const width = 30
		filled := int(pct / 100 * width)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if i < filled {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(p.w, "\r%s [%s] %5.1f%% %d/%d events %8.0f/s", p.label, bar, pct, done, total, rate)
		if done >= total {
			fmt.Fprintln(p.w)
		}
		return
	}
	if done >= total || time.Since(p.lastLine) > 2*time.Second {
		fmt.Fprintf(p.w, "%s: %d/%d events (%.1f%%), %.0f/s\n", p.label, done, total, pct, rate)
		p.lastLine = time.Now()
	}
}
