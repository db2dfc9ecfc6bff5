package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestRunTiny runs every phase with a couple of hundred events and a few callers, so the
// bench's code runs in CI. It checks what was measured, never how fast.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := Config{
		Rounds: 1, Warmup: 20 * time.Millisecond, Duration: 60 * time.Millisecond,
		Small: 200, Events: 400, History: 5, Syncs: []bool{true, false},
		RunnerCallers: []int{1, 32}, GroupCallers: []int{32, 128}, HTTPClients: []int{1, 4},
		Orders: 50, Subjects: 2_000,
		Dir: t.TempDir(), ProfileDir: t.TempDir(),
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, row := range rep.Rows {
		if keys[row.Key] {
			t.Errorf("key %s appears twice", row.Key)
		}
		keys[row.Key] = true
		// Memory measured in this process (no child) may even shrink with a collection.
		if row.Redlane <= 0 && !strings.Contains(row.Key, "_per_") {
			t.Errorf("%s: no Redlane figure", row.Key)
		}
	}
	for _, want := range []string{
		"runner_c1_sync_always", "runner_c32_sync_interval", "group_c128_sync_always", "http_c4_sync_always",
		"http_c4_p99_over_p50_sync_interval", "http_group_c4_sync_always", "group_gain_runner_c32_sync_always",
		"fsync_kept_runner_c1", "runner_c32_length_growth", "notes_c32_history", "rebuild_backlog",
		"rebuild_reports", "rebuild_records", "rebuild_feed", "rebuild_peak_rss", "disk_per_million",
		"serving_rss_per_10k_orders", "raw_atomic_batch_32_sync_always", "group_ceiling_c32_sync_always", "server_rss_per_million_subjects", "server_heap_per_million_subjects",
	} {
		if !keys[want] {
			t.Errorf("no row %s", want)
		}
	}
	if rep.Events < cfg.Events {
		t.Errorf("rebuilt %d events, want at least %d", rep.Events, cfg.Events)
	}

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(js.Bytes(), &obj); err != nil {
		t.Fatal(err)
	}
	if _, ok := obj["runner_c32_sync_always_ratio"].(float64); !ok {
		t.Errorf("JSON has no runner_c32_sync_always_ratio: %s", js.Bytes())
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "| measurement | sync | redlane | raw baseline | ratio | target | met | CPU ratio |") {
		t.Errorf("table without its header:\n%s", table.String())
	}
	t.Logf("\n%s", table.String())
}

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1.234: "1.23", 0.5: "0.5", 0.0016: "0.0016", 12.34: "12.3", 123.4: "123", 12345: "12 345", 1234567: "1 234 567"} {
		if got := number(v); got != want {
			t.Errorf("number(%v) = %q, want %q", v, got, want)
		}
	}
	for n, want := range map[uint64]string{200: "200", 10_000: "10 k", 1_000_000: "1 M", 1_032_005: "1 M", 1_200_000: "1.2 M"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
