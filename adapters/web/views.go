package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/projections/report"
)

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

// backlogSeq is the position of the last event the backlog index has seen applied.
func (h *handler) backlogSeq() uint64 { return h.index.Seq() }

// awaitBacklog waits, at most limit, until the backlog index has seen the event at seq
// applied: a page drawn right after an action then shows it. The views trail the log
// by milliseconds.
func (h *handler) awaitBacklog(ctx context.Context, seq uint64, limit time.Duration) {
	if seq > 0 {
		h.index.Await(ctx, seq, limit)
	}
}

// parseSeq reads a sequence number from a query parameter; anything else is 0.
func parseSeq(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
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
