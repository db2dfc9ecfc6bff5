package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/httpapi"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/service"
)

// rawStream holds the raw baseline's publishes: configured as Redlane's stream is, so
// the two differ only in what Redlane does around the publish.
const rawStream = "RAW"

// rig is one embedded server with Redlane wired on it as redlane serve wires it (the
// event store, the residents' vault, the service and the HTTP API), once on the plain
// store and once on the group-committing one, plus a connection of its own for the raw
// baseline.
type rig struct {
	dir        string
	syncAlways bool
	srv        *natsserver.Server
	seedFile   string              // the service user's nkey seed: the server admits no one else
	js         jetstream.JetStream // Redlane's
	fillJS     jetstream.JetStream // async publishes for filling
	rawJS      jetstream.JetStream // the baseline's, on a connection of its own
	store      *jsstore.Store
	group      *jsstore.GroupStore
	svc, gsvc  *service.Service
	vault      *jsvault.Vault
	d          *district
	baseURL    string // host:port of the API on the plain store
	groupURL   string // host:port of the API on the group store
	closers    []func()
	wiresMu    sync.Mutex
	wires      []*wire
	fillErrs   atomic.Int64
	fillErr    atomic.Value
	sealed     []*order.Sealed
}

func (r *rig) sync() string {
	if r.syncAlways {
		return "always"
	}
	return "interval"
}

func newRig(ctx context.Context, dir string, syncAlways bool, group jsstore.GroupConfig) (_ *rig, err error) {
	r := &rig{dir: dir, syncAlways: syncAlways}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	// As serve runs it: no anonymous client, the service signing in with its nkey.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	seedFile := filepath.Join(dir, "service.nk")
	r.seedFile = seedFile
	pub, err := natsserver.EnsureUserSeed(seedFile)
	if err != nil {
		return nil, err
	}
	asService, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		return nil, err
	}
	if r.srv, err = natsserver.Start(natsserver.Config{DataDir: dir, Host: "127.0.0.1", Port: -1, SyncAlways: syncAlways, NKeys: []string{pub}}); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, r.srv.Shutdown)
	connect := func(name string, opts ...jetstream.JetStreamOpt) (jetstream.JetStream, error) {
		nc, err := nats.Connect(r.srv.ClientURL(), nats.Name(name), asService)
		if err != nil {
			return nil, err
		}
		r.closers = append(r.closers, nc.Close)
		return jetstream.New(nc, opts...)
	}
	if r.js, err = connect("redlane bench"); err != nil {
		return nil, err
	}
	if r.rawJS, err = connect("raw jetstream bench"); err != nil {
		return nil, err
	}
	if r.fillJS, err = connect("redlane bench fill", jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			if r.fillErrs.Add(1) == 1 {
				r.fillErr.Store(err)
			}
		})); err != nil {
		return nil, err
	}
	// Every event signed, and checked on every read, as serve does.
	signer := jsstore.GenerateSigner()
	if r.store, err = jsstore.Open(ctx, r.js, jsstore.Config{Signer: signer, Keys: jsstore.NewKeyring(signer.PublicKey())}); err != nil {
		return nil, err
	}
	if _, err := r.rawJS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: rawStream, Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1,
		Duplicates: 2 * time.Minute, AllowDirect: true, AllowAtomicPublish: true,
	}); err != nil {
		return nil, err
	}
	if r.vault, err = jsvault.Open(ctx, r.js, randomBytes(32), 1); err != nil {
		return nil, err
	}
	// As serve keeps them: in memory, while a watch tells of every change.
	watch, stop := context.WithCancel(context.Background())
	r.closers = append(r.closers, stop)
	if err := r.vault.CacheKeys(watch, jsvault.KeyCacheConfig{}); err != nil {
		return nil, err
	}
	receiptKey := randomBytes(32)
	newService := func(store domain.EventStore) *service.Service {
		return service.New(service.Config{
			Store: store, Clock: domain.ClockFunc(time.Now), NewID: newID, Catalog: order.DefaultCatalog(),
			AdminToken: "bench-admin", ReceiptKey: receiptKey, Loc: projections.Shanghai, Vault: r.vault,
		})
	}
	r.group = jsstore.NewGroupStore(r.store, group)
	r.svc, r.gsvc = newService(r.store), newService(r.group)
	if r.d, err = seed(ctx, r.svc); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	// The second service learns the district from the log, as a second process would.
	if err := r.store.ReadAll(ctx, 1, r.gsvc.Dir.Apply); err != nil {
		return nil, err
	}
	for _, phone := range r.d.phones[:16] {
		s, err := r.vault.Seal(ctx, order.Requester{Name: "张阿姨", Phone: phone})
		if err != nil {
			return nil, err
		}
		r.sealed = append(r.sealed, s)
	}
	if r.baseURL, err = r.serveHTTP(r.svc); err != nil {
		return nil, err
	}
	if r.groupURL, err = r.serveHTTP(r.gsvc); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, r.closeWires)
	return r, nil
}

func (r *rig) serveHTTP(svc *service.Service) (string, error) {
	api := httpapi.New(httpapi.Config{Service: svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	hs := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { _ = hs.Serve(ln) })
	r.closers = append(r.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		wg.Wait()
	})
	return ln.Addr().String(), nil
}

// wire returns a new HTTP connection to the API at addr, closed with the rig. Its
// connection is made on first use: the op runs on one worker's goroutine.
func (r *rig) wire(addr string) *wire {
	w := &wire{addr: addr}
	r.wiresMu.Lock()
	r.wires = append(r.wires, w)
	r.wiresMu.Unlock()
	return w
}

// closeWires closes the HTTP connections made so far.
func (r *rig) closeWires() {
	r.wiresMu.Lock()
	defer r.wiresMu.Unlock()
	for _, w := range r.wires {
		w.close()
	}
	r.wires = nil
}

func (r *rig) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// fill appends whole order lives made by next with asynchronous publishes (as
// Store.Append would write them, less the concurrency check) until the stream holds at
// least n events, and returns the ids of the orders it wrote. Without ids, the events
// carry no Nats-Msg-Id: a million ids in the server's two-minute duplicate window would
// burden what is measured next, when in use the window holds two minutes' worth.
func (r *rig) fill(ctx context.Context, n uint64, ids bool, next func() ([]domain.Envelope, error)) ([]string, error) {
	have, err := r.store.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	var orders []string
	for have < n {
		envs, err := next()
		if err != nil {
			return nil, err
		}
		for i := range envs {
			e := &envs[i]
			body, err := json.Marshal(e)
			if err != nil {
				return nil, err
			}
			m := &nats.Msg{Subject: r.store.Subject(e.AggregateType, e.AggregateID), Data: body, Header: nats.Header{
				jsstore.HeaderType:    {e.Type},
				jsstore.HeaderVersion: {strconv.FormatUint(e.Version, 10)},
			}}
			if ids {
				m.Header.Set(jetstream.MsgIDHeader, e.ID)
			}
			m.Header.Set(jsstore.HeaderSignature, r.store.Signer().SignEvent(m.Subject, e.ID, body))
			m.Header.Set(jsstore.HeaderKey, r.store.Signer().KeyID())
			if _, err := r.fillJS.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute)); err != nil {
				return nil, err
			}
		}
		orders = append(orders, envs[0].AggregateID)
		have += uint64(len(envs))
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	select {
	case <-r.fillJS.PublishAsyncComplete():
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Minute):
		return nil, errors.New("fill: the server did not acknowledge the events")
	}
	if n := r.fillErrs.Load(); n > 0 {
		return nil, fmt.Errorf("fill: %d publishes failed, the first with %v", n, r.fillErr.Load())
	}
	return orders, nil
}

// bodies returns the JSON bodies of k usual order lives: what the raw baseline publishes.
func (r *rig) bodies(k int) ([][][]byte, int, error) {
	g := newLives(r.d, r.sealed, 7)
	out := make([][][]byte, k)
	total, count := 0, 0
	for i := range out {
		envs, err := g.standard()
		if err != nil {
			return nil, 0, err
		}
		for j := range envs {
			b, err := json.Marshal(&envs[j])
			if err != nil {
				return nil, 0, err
			}
			out[i] = append(out[i], b)
			total += len(b)
			count++
		}
	}
	return out, total / count, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return b
}
