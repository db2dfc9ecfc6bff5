package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/projections/report"
)

// checkpointKey holds a view's position: the last event it applied (README, "Storage").
const checkpointKey = "_checkpoint"

// readDoc reads one view document into dst, and reports whether there was one.
func (h *handler) readDoc(ctx context.Context, view, key string, dst any) (bool, error) {
	b, err := h.views.Get(ctx, view, key)
	if err != nil {
		return false, fmt.Errorf("read %s %s: %w", view, key, err)
	}
	if b == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return false, fmt.Errorf("decode %s %s: %w", view, key, err)
	}
	return true, nil
}

// backlogSeq is the position of the last event the backlog view applied.
func (h *handler) backlogSeq(ctx context.Context) (uint64, error) {
	var c struct {
		Seq uint64 `json:"seq"`
	}
	_, err := h.readDoc(ctx, backlog.Name, checkpointKey, &c)
	return c.Seq, err
}

// awaitBacklog waits, at most limit, until the backlog view has applied the event at
// seq: a page drawn right after an action then shows it. The views trail the log by
// milliseconds.
func (h *handler) awaitBacklog(ctx context.Context, seq uint64, limit time.Duration) {
	if seq == 0 {
		return
	}
	deadline := time.Now().Add(limit)
	for {
		got, err := h.backlogSeq(ctx)
		if err != nil || got >= seq || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// parseSeq reads a sequence number from a query parameter; anything else is 0.
func parseSeq(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// backlogs reads the backlog documents of lanes; a lane with none yet has an empty one.
func (h *handler) backlogs(ctx context.Context, lanes []string) ([]backlog.Lane, error) {
	out := make([]backlog.Lane, 0, len(lanes))
	for _, id := range lanes {
		doc := backlog.Lane{Lane: id}
		if _, err := h.readDoc(ctx, backlog.Name, backlog.LaneKey(id), &doc); err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}

// monthReport reads a community's report for a period; nil when it has none yet.
func (h *handler) monthReport(ctx context.Context, community, period string) (*report.Report, error) {
	var rep report.Report
	found, err := h.readDoc(ctx, report.Name, "report."+community+"."+period, &rep)
	if err != nil || !found {
		return nil, err
	}
	return &rep, nil
}

// memberRecord reads a member's record for a period; nil when there is none.
func (h *handler) memberRecord(ctx context.Context, memberID, period string) (*record.Record, error) {
	var rec record.Record
	found, err := h.readDoc(ctx, record.Name, record.RecordKey(memberID, period), &rec)
	if err != nil || !found {
		return nil, err
	}
	return &rec, nil
}

// pastDue reports whether a live order has passed a deadline it has not met, before the
// system has marked it (as the API's backlog does).
func pastDue(it backlog.Item, now time.Time) bool {
	switch it.Status {
	case order.StatusOpen, order.StatusDispatched:
		return now.After(it.AcceptBy) || now.After(it.CompleteBy)
	case order.StatusAccepted:
		return now.After(it.CompleteBy)
	}
	return false
}

// maxThemes bounds the theme cache; past it the cache starts again.
const maxThemes = 50_000

// theme returns an order's thematic campaign (主题式服务), "" for none. The backlog does
// not carry it, so it comes from the order, once: it never changes after submission.
func (h *handler) theme(ctx context.Context, id string) string {
	h.themeMu.Lock()
	t, ok := h.themes[id]
	h.themeMu.Unlock()
	if ok {
		return t
	}
	snap, err := h.svc.Order(ctx, id)
	if err != nil {
		return ""
	}
	h.themeMu.Lock()
	if len(h.themes) >= maxThemes {
		h.themes = map[string]string{}
	}
	h.themes[id] = snap.State.Theme
	h.themeMu.Unlock()
	return snap.State.Theme
}
