//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAFullDiskIsToldAndOutlived runs serve on a small disk of its own (a 48 MiB tmpfs,
// which needs root to mount: the test says so and skips without it), fills the disk,
// and frees it again: while full, writes are refused with 503 at once, /readyz says why
// and redlane_jetstream_on is 0; once space is back, writes are taken again with no
// restart, and every order acknowledged before is still there.
func TestAFullDiskIsToldAndOutlived(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: fills a disk")
	}
	disk := t.TempDir()
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, "size=48m"); err != nil {
		t.Skipf("SKIP LOUDLY: cannot mount a small tmpfs to fill (%v): run the tests as root to check a full disk", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(disk, syscall.MNT_DETACH) })
	dir := filepath.Join(disk, "data")
	base, _ := startServe(t, dir, nil, "--intake-rate", "-1")
	waitReady(t, base)
	client := &http.Client{Timeout: 20 * time.Second}
	acked := map[string]string{} // order id → receipt, of every 201
	submit := func() (int, string) {
		body := `{"lane":"rouqiao-houxiang","category":"repair","title":"楼道灯不亮了","requester":{"name":"张阿姨","phone":"13812345678"}}`
		resp, err := client.Post(base+"/api/v1/orders", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusCreated {
			var o struct{ ID, Receipt string }
			if err := json.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			acked[o.ID] = o.Receipt
		}
		return resp.StatusCode, string(b)
	}
	get := func(path string) (int, string) { return httpGet(t, client, base+path) }
	if st, b := submit(); st != http.StatusCreated {
		t.Fatalf("before: %d %s", st, b)
	}

	// Fill the disk.
	filler, err := os.Create(filepath.Join(disk, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	filler.Close()

	// The first writes fail (the server finds out); then they are refused at once.
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, b := submit()
		if st == http.StatusServiceUnavailable && strings.Contains(b, "full") {
			break
		}
		if st == http.StatusCreated {
			continue // a write that still fitted
		}
		if time.Now().After(deadline) {
			t.Fatalf("a full disk: writes answer %d %s", st, b)
		}
	}
	start := time.Now()
	if st, _ := submit(); st != http.StatusServiceUnavailable || time.Since(start) > 2*time.Second {
		t.Errorf("while full: %d after %s, want 503 at once", st, time.Since(start))
	}
	if st, b := get("/readyz"); st != http.StatusServiceUnavailable || !strings.Contains(b, "full") {
		t.Errorf("/readyz while full: %d %s", st, b)
	}
	if _, b := get("/metrics"); !strings.Contains(b, "redlane_jetstream_on 0") {
		t.Error("redlane_jetstream_on is not 0 while the disk is full")
	}
	if st, _ := get("/api/v1/feed?limit=5"); st != http.StatusOK {
		t.Errorf("reads while full: %d", st)
	}

	// Free it: writes come back with no restart.
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		st, _ := get("/readyz")
		if st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			_, b := get("/readyz")
			t.Fatalf("space freed, not ready again after 60 s: %s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st, b := submit(); st != http.StatusCreated {
		t.Fatalf("after: %d %s", st, b)
	}
	if _, b := get("/metrics"); !strings.Contains(b, "redlane_jetstream_on 1") {
		t.Error("redlane_jetstream_on is not back to 1")
	}
	for id, receipt := range acked {
		req, _ := http.NewRequest("GET", base+"/api/v1/orders/"+id, nil)
		req.Header.Set("X-Receipt", receipt)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("order %s, acknowledged with 201: %d", id, resp.StatusCode)
		}
	}
	t.Logf("%d orders acknowledged across the full disk, all readable after", len(acked))
}
