package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/internal/app"
)

// launchOn starts serve against the NATS servers at urls, with three replicas, and waits
// until /readyz says it is ready.
func (b *binary) launchOn(urls string) *exec.Cmd {
	b.tb.Helper()
	cmd := exec.Command(b.path, "serve", "--demo", "--data", b.dir, "--replicas", "3",
		"--http", "127.0.0.1:"+strconv.Itoa(b.httpPort), "--nats-url", urls)
	cmd.Env = append(os.Environ(), "REDLANE_ADMIN_TOKEN=")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		b.tb.Fatal(err)
	}
	b.tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := waitStatus(b.base+"/readyz", 200, 60*time.Second); err != nil {
		b.tb.Fatalf("%v; logs:\n%s", err, logs.String())
	}
	return cmd
}

// readyz is /readyz's status now, 0 when it does not answer.
func readyz(base string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus waits until url answers status.
func waitStatus(url string, status int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return &statusError{url, status, limit}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type statusError struct {
	url    string
	status int
	limit  time.Duration
}

func (e *statusError) Error() string {
	return e.url + " did not answer " + strconv.Itoa(e.status) + " within " + e.limit.String()
}

// streamLeader names the member that leads the event stream.
func streamLeader(t *testing.T, c *natstest.Cluster) string {
	t.Helper()
	js, err := jetstream.New(c.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "REDLANE")
	if err != nil {
		t.Fatal(err)
	}
	if s.CachedInfo().Cluster == nil || len(s.CachedInfo().Cluster.Replicas) != 2 {
		t.Fatalf("the event stream is not replicated on three members: %+v", s.CachedInfo().Cluster)
	}
	return s.CachedInfo().Cluster.Leader
}

// TestClusterRidesThroughAMember runs the real binary against a three-member JetStream
// cluster with --replicas 3. While clients send commands, the member leading the event
// stream is stopped and, a few seconds later, started again: Redlane must go on taking
// commands with the other two, and every acknowledged command must be in the log exactly
// once afterwards. Then two members stop: with no quorum nothing can be written, and
// /readyz must say so within seconds; when they return it must say ready again, and a
// command must go through.
func TestClusterRidesThroughAMember(t *testing.T) {
	b := newBinary(t)
	// The cluster admits the data directory's users as "redlane nats-auth" prints them.
	svc, readers, err := app.NATSUsers(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	asService, err := nats.NkeyOptionFromSeed(filepath.Join(b.dir, app.ServiceSeedFile))
	if err != nil {
		t.Fatal(err)
	}
	c := natstest.StartClusterWith(t, 3, func(cfg *natsserver.Config) {
		cfg.NKeys, cfg.Readers, cfg.ReadScope = []string{svc}, readers, app.ReadScope()
	}, asService)
	b.launchOn(c.URLs())
	toks := readDemoTokens(t, b.dir)

	lc := newLoadClient(b.base)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				lc.life(toks, crews[w%2], w%4 >= 2, stop)
				time.Sleep(pace)
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	leader := streamLeader(t, c)
	down := -1
	for i := range c.Size() {
		if c.Server(i).Config().ServerName == leader {
			down = i
		}
	}
	if down < 0 {
		t.Fatalf("no member is named %q", leader)
	}
	stopped := time.Now()
	c.Stop(down)
	time.Sleep(4 * time.Second)
	restarted := time.Now()
	c.Start(down)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	var during, firstAck time.Duration
	for _, cmd := range lc.rec.commands {
		if cmd.status/100 != 2 || cmd.answered.Before(stopped) || !cmd.answered.Before(restarted) {
			continue
		}
		during++
		if d := cmd.answered.Sub(stopped); firstAck == 0 || d < firstAck {
			firstAck = d
		}
	}
	t.Logf("member %s (the stream's leader) was down for %s: %d commands acknowledged meanwhile, the first %s after it stopped",
		leader, restarted.Sub(stopped).Round(time.Millisecond), during, firstAck.Round(time.Millisecond))
	if during == 0 {
		t.Errorf("no command was acknowledged while one member of three was down")
	}
	checkLog(t, c.URLs(), filepath.Join(b.dir, app.AuditorSeedFile), lc.rec.commands)

	// No quorum: /readyz must turn 503 within seconds, and 200 once the members return.
	others := []int{}
	for i := range c.Size() {
		if i != down {
			others = append(others, i)
		}
	}
	lost := time.Now()
	for _, i := range others[:2] {
		c.Stop(i)
	}
	if err := waitStatus(b.base+"/readyz", 503, 5*time.Second); err != nil {
		t.Fatalf("with two of three members down: %v (it answers %d; serve's Ready must ask store.Writable)", err, readyz(b.base))
	}
	t.Logf("/readyz turned 503 %s after two of three members stopped", time.Since(lost).Round(time.Millisecond))
	back := time.Now()
	for _, i := range others[:2] {
		c.Start(i)
	}
	if err := waitStatus(b.base+"/readyz", 200, 45*time.Second); err != nil {
		t.Fatalf("after the members returned: %v (it answers %d)", err, readyz(b.base))
	}
	t.Logf("/readyz turned 200 %s after they were started again", time.Since(back).Round(time.Millisecond))
	after := newLoadClient(b.base)
	after.life(toks, crews[0], false, nil)
	for _, cmd := range after.rec.commands {
		if cmd.status/100 != 2 {
			t.Errorf("%s after the quorum returned: status %d", cmd.kind, cmd.status)
		}
	}
	if len(after.rec.commands) != 5 {
		t.Errorf("an order's life after the quorum returned took %d commands, not 5", len(after.rec.commands))
	}
}
