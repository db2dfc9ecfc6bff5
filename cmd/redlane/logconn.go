package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
)

// logConn is a connection to the event log for the commands besides serve: to the
// server at --nats-url, or else to an embedded server started on --data (which only works
// while no redlane serve holds that directory).
type logConn struct {
	js    jetstream.JetStream
	store *jsstore.Store
	close func()
}

func openLog(ctx context.Context, nf natsFlags, dataDir string) (*logConn, error) {
	url := nf.url
	var srv *natsserver.Server
	if url == "" {
		if _, err := os.Stat(filepath.Join(dataDir, "nats")); err != nil {
			return nil, fmt.Errorf("no --nats-url given and no event store in %s: %w", dataDir, err)
		}
		var err error
		srv, err = natsserver.Start(natsserver.Config{DataDir: filepath.Join(dataDir, "nats"), Host: "127.0.0.1", Port: -1, SyncAlways: true})
		if err != nil {
			return nil, fmt.Errorf("open %s (is redlane serve running on it? then pass --nats-url nats://127.0.0.1:4222): %w", dataDir, err)
		}
		url = srv.ClientURL()
	}
	nc, err := nf.connect(url, "redlane cli")
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
	js, err := jetstream.New(nc)
	if err != nil {
		closeAll()
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := jsstore.Open(octx, js, jsstore.Config{Stream: nf.stream, Replicas: nf.replicas})
	if err != nil {
		closeAll()
		return nil, err
	}
	return &logConn{js: js, store: store, close: closeAll}, nil
}

// progressBar draws progress on a terminal, or writes a plain line every few seconds
// when the output is not one.
type progressBar struct {
	w        io.Writer
	tty      bool
	label    string
	start    time.Time
	lastLine time.Time
}

func newProgress(w io.Writer, label string) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, tty: tty, label: label, start: time.Now()}
}

func (p *progressBar) update(done, total uint64) {
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

var errUsage = errors.New("usage")
