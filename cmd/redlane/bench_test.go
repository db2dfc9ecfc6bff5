package main

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// TestBenchRebuildsInAProcessOfItsOwn runs the built binary's rebuild phase, whose
// children connect to the bench's own server, which admits only the service's nkey (as
// serve's does): a child that connected anonymously failed the whole full run at its
// end. What is measured is not checked, only that every rebuild row is there.
func TestBenchRebuildsInAProcessOfItsOwn(t *testing.T) {
	b := newBinary(t)
	out, err := exec.CommandContext(t.Context(), b.path, "bench", "--quick", "--phases", "rebuild", "--events", "20000", "--json").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("redlane bench: %v\n%s", err, stderr)
	}
	var report struct {
		Rows []struct {
			Key string `json:"key"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("%v: %.500s", err, out)
	}
	have := map[string]bool{}
	for _, r := range report.Rows {
		have[r.Key] = true
	}
	for _, k := range []string{"rebuild_backlog", "rebuild_records", "rebuild_feed", "rebuild_reports", "rebuild_peak_rss"} {
		if !have[k] {
			t.Errorf("no row %s in %v", k, have)
		}
	}
}
