// Package natstest starts embedded NATS servers with JetStream for tests: on 127.0.0.1,
// a free port, a temporary data directory and no fsync per write, stopped when the test
// ends; alone, or as a three-member JetStream cluster (StartCluster).
package natstest

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver"
)

// Start runs a server for the test and connects a client to it. Both are closed when the
// test ends.
func Start(tb testing.TB) (*natsserver.Server, *nats.Conn) {
	tb.Helper()
	srv := StartServer(tb, natsserver.Config{DataDir: tb.TempDir(), Host: "127.0.0.1", Port: -1})
	return srv, Connect(tb, srv)
}

// StartServer runs a server with cfg and shuts it down when the test ends.
func StartServer(tb testing.TB, cfg natsserver.Config) *natsserver.Server {
	tb.Helper()
	srv, err := natsserver.Start(cfg)
	if err != nil {
		tb.Fatalf("start nats server: %v", err)
	}
	tb.Cleanup(srv.Shutdown)
	return srv
}

// Connect opens a client connection to srv, closed when the test ends.
func Connect(tb testing.TB, srv *natsserver.Server) *nats.Conn {
	tb.Helper()
	cfg := srv.Config()
	opts := []nats.Option{nats.Name(tb.Name()), nats.MaxReconnects(-1)}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	nc, err := nats.Connect(srv.ClientURL(), opts...)
	if err != nil {
		tb.Fatalf("connect to nats server: %v", err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// Restart shuts srv down and starts a new server on the same data directory and port,
// as a process restart would. It returns the new server and a new connection to it;
// connections to the old server should no longer be used.
func Restart(tb testing.TB, srv *natsserver.Server) (*natsserver.Server, *nats.Conn) {
	tb.Helper()
	srv.Shutdown()
	next := StartServer(tb, srv.Config())
	return next, Connect(tb, next)
}

// Cluster is a JetStream cluster of embedded servers on 127.0.0.1 for one test, each
// with its own temporary data directory. Members may be stopped and started again on
// the same ports and data, as a machine would go down and come back.
type Cluster struct {
	tb      testing.TB
	mu      sync.Mutex
	cfgs    []natsserver.Config
	opts    []nats.Option
	servers []*natsserver.Server // nil while stopped
}

// StartCluster starts an n-member cluster and waits until JetStream has a leader. Every
// member is shut down when the test ends.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return StartClusterWith(tb, n, nil)
}

// StartClusterWith is StartCluster with each member's configuration passed through
// change first (its users, say); the cluster's own connections (Connect, WaitLeader)
// are made with opts (credentials for those users).
func StartClusterWith(tb testing.TB, n int, change func(*natsserver.Config), opts ...nats.Option) *Cluster {
	tb.Helper()
	c := &Cluster{tb: tb, cfgs: make([]natsserver.Config, n), servers: make([]*natsserver.Server, n), opts: opts}
	ports := freePorts(tb, 2*n)
	var routes []string
	for i := range n {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(ports[n+i]))
	}
	for i := range n {
		c.cfgs[i] = natsserver.Config{
			DataDir: tb.TempDir(), Host: "127.0.0.1", Port: ports[i],
			ServerName: "n" + strconv.Itoa(i+1), ClusterName: "redlane-test",
			ClusterHost: "127.0.0.1", ClusterPort: ports[n+i], Routes: routes,
		}
		if change != nil {
			change(&c.cfgs[i])
		}
	}
	// Each member waits for its routes in the background, so they may start in turn.
	for i := range n {
		c.Start(i)
	}
	c.WaitLeader(tb, 30*time.Second)
	tb.Cleanup(func() {
		for i := range c.servers {
			c.Stop(i)
		}
	})
	return c
}

// URLs is every member's client URL, comma-separated, as nats.Connect takes them.
func (c *Cluster) URLs() string {
	var urls []string
	for _, cfg := range c.cfgs {
		urls = append(urls, "nats://127.0.0.1:"+strconv.Itoa(cfg.Port))
	}
	return strings.Join(urls, ",")
}

// Size is how many members the cluster has, running or not.
func (c *Cluster) Size() int { return len(c.cfgs) }

// Server returns member i, or nil while it is stopped.
func (c *Cluster) Server(i int) *natsserver.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[i]
}

// Stop shuts member i down; stopping a stopped member does nothing.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	srv := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
	}
}

// Start starts member i again on its ports and data; starting a running member does
// nothing.
func (c *Cluster) Start(i int) {
	c.tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.servers[i] != nil {
		return
	}
	srv, err := natsserver.Start(c.cfgs[i])
	if err != nil {
		c.tb.Fatalf("start cluster member %d: %v", i+1, err)
	}
	c.servers[i] = srv
}

// Connect opens a client connection to the cluster (any member, failing over to the
// others), closed when the test ends.
func (c *Cluster) Connect(tb testing.TB) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(c.URLs(), append([]nats.Option{nats.Name(tb.Name()), nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond)}, c.opts...)...)
	if err != nil {
		tb.Fatalf("connect to nats cluster: %v", err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// WaitLeader waits until JetStream answers through the cluster, that is until the
// members have elected a meta leader.
func (c *Cluster) WaitLeader(tb testing.TB, limit time.Duration) {
	tb.Helper()
	nc, err := nats.Connect(c.URLs(), append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond)}, c.opts...)...)
	if err != nil {
		tb.Fatalf("connect to nats cluster: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the cluster has no JetStream leader after %s: %v", limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}
