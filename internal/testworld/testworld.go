// Package testworld is the one test harness of Redlane's packages: a real embedded NATS
// server on 127.0.0.1 in a temporary directory, the event store on it, the service over
// the store, and, when asked, the views written and the backlog index watching them, as
// a serving process runs them. Each package's tests add their own surface (the API over
// httptest, the pages and a browser, a mirror) and their own district on top.
package testworld

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	jsvault "github.com/redlane/redlane/adapters/jetstream/vault"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/all"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
	"github.com/redlane/redlane/service"
)

// AdminToken is the admin token of every world's service.
const AdminToken = "test-admin-token"

// ReceiptKey is the key every world's service signs receipts with.
var ReceiptKey = []byte("test receipt key")

// Options say what a world holds besides the server, the store and the service.
type Options struct {
	// Clock is the service's clock; nil: the real time, moved ahead by Advance.
	Clock domain.Clock
	// Store configures the event store (signing, trust); the zero value signs nothing.
	Store jsstore.Config
	// Views runs every view's writer and the backlog index, as serve does.
	Views bool
	// Directory loads the directory of lanes, members and tokens from the log, as a
	// process that starts on an existing log does.
	Directory bool
	// Vault seals residents' details with the privacy vault on NATS, as serve does;
	// without it they are written in the clear.
	Vault bool
}

// World is a running district's back end, reached as a serving process reaches it.
type World struct {
	TB     testing.TB
	Server *natsserver.Server
	NC     *nats.Conn
	JS     jetstream.JetStream
	Store  *jsstore.Store
	Svc    *service.Service
	Views  *jsviews.Views // nil without Options.Views
	Index  *query.Index   // nil without Options.Views
	// Sessions keeps sign-ins, as serve keeps them (the pages' and the API's).
	Sessions *jsvault.Sessions
	offset   atomic.Int64
}

// NewID is a fresh event id, as serve makes them.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Start starts an embedded server in a temporary directory and a world on it; both stop
// when the test ends.
func Start(tb testing.TB, opts Options) *World {
	tb.Helper()
	srv, _ := natstest.Start(tb)
	return Open(tb, srv, opts)
}

// Open opens a world on a running server, as a new process would: a restart opens a
// new one on the same server's data.
func Open(tb testing.TB, srv *natsserver.Server, opts Options) *World {
	tb.Helper()
	w := &World{TB: tb, Server: srv, NC: natstest.Connect(tb, srv)}
	var err error
	if w.JS, err = jetstream.New(w.NC); err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if w.Store, err = jsstore.Open(ctx, w.JS, opts.Store); err != nil {
		tb.Fatal(err)
	}
	creds, err := jsvault.OpenCredentials(ctx, w.JS, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if w.Sessions, err = jsvault.OpenSessions(ctx, w.JS, time.Hour, 1); err != nil {
		tb.Fatal(err)
	}
	var vault service.Vault
	if opts.Vault {
		v, err := jsvault.Open(ctx, w.JS, []byte("test pepper"), 1)
		if err != nil {
			tb.Fatal(err)
		}
		// As serve runs it: keys kept in memory while a watch tells of every change.
		watch, stop := context.WithCancel(ctx)
		tb.Cleanup(stop)
		if err := v.CacheKeys(watch, jsvault.KeyCacheConfig{}); err != nil {
			tb.Fatal(err)
		}
		vault = v
	}
	clock := opts.Clock
	if clock == nil {
		clock = domain.ClockFunc(func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) })
	}
	w.Svc = service.New(service.Config{
		Store: w.Store, Clock: clock, NewID: NewID, Catalog: order.DefaultCatalog(),
		AdminToken: AdminToken, ReceiptKey: ReceiptKey, Loc: projections.Shanghai,
		Credentials: creds, PasswordCost: bcrypt.MinCost, Vault: vault,
	})
	if opts.Directory {
		w.loadDirectory()
	}
	if opts.Views {
		w.runViews()
	}
	return w
}

// Advance moves the service's clock ahead by d (with the default clock).
func (w *World) Advance(d time.Duration) { w.offset.Add(int64(d)) }

func (w *World) loadDirectory() {
	w.TB.Helper()
	err := w.Store.ReadAll(context.Background(), 1, func(rec domain.Recorded) error {
		for _, t := range service.DirectoryTypes {
			if rec.AggregateType == t {
				return w.Svc.Dir.Apply(rec)
			}
		}
		return nil
	})
	if err != nil {
		w.TB.Fatal(err)
	}
}

func (w *World) runViews() {
	w.TB.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var err error
	w.Views, err = jsviews.New(ctx, w.JS, w.Store, jsviews.Config{Owner: "test", LeaseTTL: 2 * time.Second})
	if err != nil {
		stop()
		w.TB.Fatal(err)
	}
	w.Index = query.NewIndex(query.IndexConfig{})
	written, watched := make(chan struct{}), make(chan struct{})
	go func() { defer close(written); _ = w.Views.Run(ctx, all.Views()...) }()
	go func() { defer close(watched); _ = w.Views.Watch(ctx, backlog.Name, query.BacklogKeys, w.Index) }()
	w.TB.Cleanup(func() { stop(); <-written; <-watched })
}

// Settle waits until every view has applied every stored event and the backlog index
// has read the backlog view up to its checkpoint. It waits up to a minute: a liveness
// check, not a speed one (thousands of orders under -race on a busy machine have taken
// more than 20 s).
func (w *World) Settle() {
	w.TB.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, nv := range all.Views() {
		for {
			ok, err := w.Views.CaughtUp(context.Background(), nv())
			if err != nil {
				w.TB.Fatal(err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				w.TB.Fatalf("view %s did not catch up", nv().Name())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for {
		cp, err := w.Views.Checkpoint(context.Background(), backlog.Name)
		if err == nil && w.Index.Seq() >= cp {
			return
		}
		if time.Now().After(deadline) {
			w.TB.Fatalf("the backlog index did not catch up: at %d, the view at %d (%v)", w.Index.Seq(), cp, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Count is how many messages the event stream holds.
func (w *World) Count() uint64 {
	w.TB.Helper()
	n, err := w.Store.MessageCount(context.Background())
	if err != nil {
		w.TB.Fatal(err)
	}
	return n
}
