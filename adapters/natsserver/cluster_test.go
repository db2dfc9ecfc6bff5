package natsserver_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
)

// TestClusterSurvivesAMember runs a three-member cluster with a three-replica stream: it
// takes writes with one member down, and the member comes back on its ports and data.
// (adapters/jetstream's cluster test takes the quorum away.)
func TestClusterSurvivesAMember(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	nc := c.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if info := s.CachedInfo(); info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("the stream is not replicated on three members: %+v", info.Cluster)
	}
	publish := func(body string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := js.Publish(pctx, "s.a", []byte(body), jetstream.WithMsgID(body))
			cancel()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("publish %s: %v", body, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	publish("1")
	route := c.Server(0).ClusterURL()
	c.Stop(0)
	publish("2")
	c.Start(0)
	c.WaitLeader(t, 30*time.Second)
	publish("3")
	if got := c.Server(0).ClusterURL(); got != route {
		t.Fatalf("member 1 came back with routes on %s, not %s", got, route)
	}
	info, err := s.Info(ctx)
	if err != nil || info.State.Msgs != 3 {
		t.Fatalf("stream holds %v messages (%v), want 3", info, err)
	}
}

func TestClusterConfigRefused(t *testing.T) {
	for name, cfg := range map[string]natsserver.Config{
		"routes without a cluster":  {Routes: []string{"nats-route://127.0.0.1:1"}},
		"member without a name":     {ClusterName: "c", ClusterPort: -1},
		"member without a port":     {ClusterName: "c", ServerName: "a"},
		"route that is not a URL":   {ClusterName: "c", ServerName: "a", ClusterPort: -1, Routes: []string{"::"}},
		"cluster user, no password": {ClusterName: "c", ServerName: "a", ClusterPort: -1, ClusterUser: "u"},
	} {
		cfg.DataDir, cfg.Host, cfg.Port = t.TempDir(), "127.0.0.1", -1
		if srv, err := natsserver.Start(cfg); err == nil {
			srv.Shutdown()
			t.Errorf("%s: started", name)
		}
	}
}

// TestClusterRoutesAuthenticate starts three members that require a route password of
// each other: they form a cluster that replicates a stream three ways, and a server that
// routes to them with the wrong password is kept out.
func TestClusterRoutesAuthenticate(t *testing.T) {
	ports := make([]int, 4)
	var routes []string
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(ports[i]))
	}
	member := func(i int, password string) natsserver.Config {
		return natsserver.Config{DataDir: t.TempDir(), Host: "127.0.0.1", Port: -1,
			ServerName: "a" + strconv.Itoa(i), ClusterName: "auth", ClusterHost: "127.0.0.1", ClusterPort: ports[i],
			Routes: routes[:3], ClusterUser: "route", ClusterPassword: password}
	}
	var srvs []*natsserver.Server
	for i := range 3 {
		srvs = append(srvs, natstest.StartServer(t, member(i, "r0ute")))
	}
	intruder := natstest.StartServer(t, member(3, "guess"))
	js, err := jetstream.New(natstest.Connect(t, srvs[2]))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Replicas: 3})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no three-replica stream on members with route passwords: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The intruder's routes are refused: its clients reach none of the cluster's streams.
	ijs, err := jetstream.New(natstest.Connect(t, intruder))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := ijs.Stream(ctx, "S"); err == nil {
		t.Fatal("a server with the wrong route password reaches the cluster's stream")
	}
}
