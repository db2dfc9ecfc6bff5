package jetstream

import (
	"context"
	"fmt"
	"time"
)

// writableTimeout bounds Writable's stream info request: a cluster without a meta
// leader does not answer it at all.
const writableTimeout = time.Second

// peerSilence is how long a replica may go unheard before Writable stops counting it
// towards a quorum; replicas hear from their leader every second.
const peerSilence = 3 * time.Second

// Writable reports why the stream cannot take an append now, or nil. On a single
// server it is enough that the stream answers. On a cluster the stream's group must
// also have a leader and a quorum of its replicas (the leader among them) up and
// recently heard from: a leader that has lost its quorum keeps its title for some
// seconds, yet every append it takes times out.
func (s *Store) Writable(ctx context.Context) error {
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > writableTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, writableTimeout)
		defer cancel()
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s does not answer: %w", s.name, err)
	}
	c := info.Cluster
	if c == nil || info.Config.Replicas <= 1 && len(c.Replicas) == 0 {
		return nil
	}
	if c.Leader == "" {
		return fmt.Errorf("stream %s has no leader: its cluster has lost its quorum", s.name)
	}
	up, size := 1, 1+len(c.Replicas)
	for _, p := range c.Replicas {
		if !p.Offline && p.Active <= peerSilence {
			up++
		}
	}
	if need := size/2 + 1; up < need {
		return fmt.Errorf("stream %s has %d of %d replicas up, fewer than the %d a write needs", s.name, up, size, need)
	}
	return nil
}
