package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redlane/redlane/projections/feed"
)

// Timings of the live streams.
const (
	heartbeatEvery = 15 * time.Second
	pollViewsEvery = 40 * time.Millisecond
	// viewsPatience is how long a "changed" waits for the backlog to apply the event
	// before it is sent anyway (an event the backlog skips, such as a note, never moves
	// the backlog's documents, but it does move the checkpoint).
	viewsPatience = 3 * time.Second
)

// startStream prepares a Server-Sent Events answer; false when the connection cannot
// stream.
func startStream(w http.ResponseWriter) (http.Flusher, bool) {
	f, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return nil, false
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": redlane\nretry: 2000\n\n")
	f.Flush()
	return f, true
}

// resumeAfter is where a stream starts: after=SEQ, or the Last-Event-ID of a reconnect.
func resumeAfter(r *http.Request) uint64 {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		return parseSeq(id)
	}
	return parseSeq(r.URL.Query().Get("after"))
}

// follow runs FollowFeed for each query, from after, and sends the entries to a channel
// until ctx ends. When a follower fails, the error is sent on the second channel: the
// stream then ends, and the browser reconnects from the last event it saw.
func (h *handler) follow(ctx context.Context, qs []feed.Query, after uint64) (<-chan feed.Entry, <-chan error) {
	out := make(chan feed.Entry, 64)
	failed := make(chan error, len(qs))
	for _, q := range qs {
		q.After = after
		go func() {
			err := h.views.FollowFeed(ctx, q, func(e feed.Entry) error {
				select {
				case out <- e:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			if err != nil && ctx.Err() == nil {
				h.log.Warn("pages: follow the feed", "err", err)
				failed <- err
			}
		}()
	}
	return out, failed
}

// liveChanges streams "changed" events for the feed entries matching qs: each says the
// backlog has applied everything up to its id, so a page may fetch its fragment again.
// Several entries in quick succession make one event.
func (h *handler) liveChanges(w http.ResponseWriter, r *http.Request, qs []feed.Query) {
	flusher, ok := startStream(w)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	entries, failed := h.follow(ctx, qs, resumeAfter(r))
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	poll := time.NewTicker(pollViewsEvery)
	defer poll.Stop()
	var pending, sent uint64
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-failed:
			return
		case <-heartbeat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		case e := <-entries:
			if e.Seq > pending {
				if pending <= sent {
					since = time.Now()
				}
				pending = e.Seq
			}
		case <-poll.C:
			if pending <= sent {
				continue
			}
			if h.backlogSeq() < pending && time.Since(since) < viewsPatience {
				continue
			}
			fmt.Fprintf(w, "id: %d\nevent: changed\ndata: {\"seq\":%d}\n\n", pending, pending)
			flusher.Flush()
			sent = pending
		}
	}
}

// writeEvent writes one SSE event whose data may span lines.
func writeEvent(w http.ResponseWriter, id uint64, event, data string) {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %d\nevent: %s\n", id, event)
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimRight(line, "\r"))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	_, _ = w.Write([]byte(b.String()))
}
