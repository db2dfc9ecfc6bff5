package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The watch logs one line when the period passes the limit (not one a check), one when
// it is back within it, and /readyz's degradation says so while it is over.
func TestPeriodWatchTellsOnce(t *testing.T) {
	w := newRollWorld(t)
	ctx := context.Background()
	n, err := w.store.SubjectCount(ctx)
	if err != nil || n < 5 {
		t.Fatalf("%d subjects (%v)", n, err)
	}
	var logs bytes.Buffer
	pw, err := newPeriodWatch(w.store, int(n)-1, slog.New(slog.NewTextHandler(&logs, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := pw.check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	d := pw.degraded()
	if d == nil || d["period_subjects"] != n || !strings.Contains(d["reason"].(string), "roll to the next period") {
		t.Errorf("degraded: %v", d)
	}
	if c := strings.Count(logs.String(), "more subjects than --period-max-subjects"); c != 1 {
		t.Errorf("told %d times, want once:\n%s", c, logs.String())
	}
	pw.max = n
	if err := pw.check(ctx); err != nil {
		t.Fatal(err)
	}
	if pw.degraded() != nil || !strings.Contains(logs.String(), "back within") {
		t.Errorf("within the limit: degraded %v, logs:\n%s", pw.degraded(), logs.String())
	}
	merged := mergeDegraded(nil, map[string]any{"reason": "a", "x": 1}, map[string]any{"reason": "b", "y": 2})
	if merged["reason"] != "a; b" || merged["x"] != 1 || merged["y"] != 2 || mergeDegraded(nil, nil) != nil {
		t.Errorf("merged: %v", merged)
	}
}
