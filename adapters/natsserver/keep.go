package natsserver

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// JetStreamOn reports whether JetStream runs. The server turns it off by itself when it
// runs out of disk space.
func (s *Server) JetStreamOn() bool { return s.ns.JetStreamEnabled() }

// KeepJetStream watches JetStream until ctx ends. When the disk fills, the server either
// turns JetStream off or leaves each stream that failed a write refusing every write
// after, until it is opened again. Either way report is told at once (on false, and
// why); every interval after, once the store's disk has at least reserve bytes free,
// (or a tenth of the disk, on a small one) JetStream is started again on the same data
// and report is told (on true): an operator
// who frees space needs no restart.
func (s *Server) KeepJetStream(ctx context.Context, interval time.Duration, reserve uint64, report func(on bool, why error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	wasOn := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		full := s.hook.noSpace.Load()
		if s.ns.JetStreamEnabled() && !full {
			if !wasOn {
				report(true, nil)
				wasOn = true
			}
			continue
		}
		if wasOn {
			why := fmt.Errorf("the embedded NATS server turned JetStream off (out of disk space in %s?)", s.dir)
			if full {
				why = fmt.Errorf("the disk that holds %s is full: writes are refused", s.dir)
			}
			report(false, why)
			wasOn = false
		}
		if free, size, ok := diskSpace(s.dir); ok && free < min(reserve, size/10) {
			continue // still full: starting again would only fail again
		}
		// Open every stream again from disk: that clears the write errors they keep.
		if s.ns.JetStreamEnabled() {
			if err := s.ns.ShutdownJetStream(); err != nil {
				report(false, fmt.Errorf("stop JetStream to open it again: %w", err))
				continue
			}
		}
		s.hook.noSpace.Store(false)
		if err := s.ns.EnableJetStream(&server.JetStreamConfig{StoreDir: s.dir}); err != nil {
			report(false, fmt.Errorf("start JetStream again: %w", err))
			continue
		}
		report(true, nil)
		wasOn = true
	}
}
