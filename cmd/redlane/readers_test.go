package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redlane/redlane/internal/app"
)

// TestManyReadersCostTheServerNothingPerRead holds 1,000 live streams open (the public
// feed and station screens) and makes 2,000 feed reads, against a served binary: the
// feed and the screens still answer, every stream gets a new entry within seconds, and
// the NATS server's consumer count does not grow with readers.
func TestManyReadersCostTheServerNothingPerRead(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a thousand connections take a while")
	}
	dir := t.TempDir()
	port := strconv.Itoa(freePort(t))
	base, _ := startServe(t, dir, nil, "--nats-listen", "127.0.0.1:"+port, "--max-streams", "3000", "--max-streams-per-address", "3000", "--intake-rate", "-1", "--feed-rate", "-1")
	waitReady(t, base)
	js := connectAs(t, "nats://127.0.0.1:"+port, filepath.Join(dir, app.ServiceSeedFile))
	ctx := context.Background()
	consumers := func() int {
		n := 0
		for info := range js.ListStreams(ctx).Info() {
			n += info.State.Consumers
		}
		return n
	}
	before := consumers()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	streamCtx, stop := context.WithCancel(ctx)
	defer stop()
	const streams = 1000
	var open, heard atomic.Int64
	var wg sync.WaitGroup
	for i := range streams {
		path := "/api/v1/feed/stream"
		if i%2 == 1 {
			path = "/screen/rouqiao-houxiang/events"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(streamCtx, "GET", base+path, nil)
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("stream %s: %d", path, resp.StatusCode)
				return
			}
			open.Add(1)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "id:") {
					heard.Add(1)
					return
				}
			}
		}()
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("1,000 streams open", func() bool { return open.Load() == streams })

	// 2,000 feed reads, 40 at a time, while the streams stay open.
	var reads, failed atomic.Int64
	var rw sync.WaitGroup
	for w := range 40 {
		rw.Add(1)
		go func() {
			defer rw.Done()
			for i := w; i < 2000; i += 40 {
				resp, err := client.Get(base + "/api/v1/feed?limit=50&after=" + strconv.Itoa(i%7))
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				reads.Add(1)
			}
		}()
	}
	rw.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d feed reads failed", failed.Load(), reads.Load())
	}
	if resp, err := client.Get(base + "/screen/rouqiao-houxiang"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the station screen under load: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if got := consumers(); got > before {
		t.Errorf("consumers: %d before the readers, %d with 1,000 streams and 2,000 reads", before, got)
	}

	// A new order reaches every stream.
	body := `{"lane":"rouqiao-houxiang","category":"repair","title":"楼道灯不亮了","requester":{"name":"张阿姨","phone":"13812345678"}}`
	resp, err := client.Post(base+"/api/v1/orders", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(fmt.Sprintf("the new entry on every stream (%d heard)", heard.Load()), func() bool { return heard.Load() == streams })
	stop()
	wg.Wait()
	if got := consumers(); got > before {
		t.Errorf("consumers after: %d, before: %d", got, before)
	}
}

// TestAnonymousFeedReadsAreLimitedPerAddress: a burst of anonymous feed reads from one
// address meets 429 with Retry-After once past its allowance, and so does the station
// screen's page; a caller with a token is not limited.
func TestAnonymousFeedReadsAreLimitedPerAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a server")
	}
	dir := t.TempDir()
	base, _ := startServe(t, dir, nil, "--feed-rate", "5")
	waitReady(t, base)
	token := readDemoTokens(t, dir)["审计"]
	count := func(auth string, n int) (ok, limited int) {
		for range n {
			req, _ := http.NewRequest("GET", base+"/api/v1/feed?limit=5", nil)
			if auth != "" {
				req.Header.Set("Authorization", "Bearer "+auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				limited++
				if resp.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			default:
				t.Errorf("feed: %d", resp.StatusCode)
			}
		}
		return ok, limited
	}
	if ok, limited := count("", 120); limited == 0 || ok < 50 {
		t.Errorf("120 anonymous reads at once (5 a second, bursts of 50): %d answered, %d refused", ok, limited)
	}
	// The station screen shares the address's allowance: of ten quick loads at least
	// one is refused (a slow machine may let a token or two refill between them).
	screens := map[int]int{}
	for range 10 {
		st, _ := httpGet(t, nil, base+"/screen/rouqiao-houxiang")
		screens[st]++
	}
	if screens[http.StatusTooManyRequests] == 0 {
		t.Errorf("ten station screens from a limited address: %v, want some 429", screens)
	}
	if _, limited := count(token, 120); limited != 0 {
		t.Errorf("a token's reads were limited %d times", limited)
	}
}

// httpGet GETs u with client (nil: the default) and returns the status and the body.
func httpGet(t *testing.T, client *http.Client, u string) (int, string) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
