package vault

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KeyCacheConfig tunes the vault's memory of keys it has read (Vault.CacheKeys).
type KeyCacheConfig struct {
	// Max is how many keys are kept (default 100 000: about 12 MiB); past it, one kept
	// key leaves for each new one.
	Max int
	// TTL is how long a key is used from memory before it is read again (default one
	// minute): the bound on staleness should the bucket's watch ever fall behind.
	TTL time.Duration
	// Log says when the watch ends and the cache is turned off.
	Log *slog.Logger
}

// keyCache holds keys read from the bucket, while a watch of the bucket tells it of
// every change: it is used only while that watch runs.
type keyCache struct {
	on    atomic.Bool
	hits  atomic.Int64
	mu    sync.Mutex
	keys  map[string]cachedKey
	max   int
	ttl   time.Duration
	epoch uint64 // bumped by every change the watch reports and every erasure here
}

type cachedKey struct {
	key []byte
	at  time.Time
}

// CacheKeys keeps the keys the vault reads in memory, so that a command's reply does not
// read its resident's key from the bucket each time (a round trip to the server per
// command). A watch on the bucket drops a key as soon as any process changes or erases
// it, and an erasure by this process drops it before the erasure returns; a key is read
// again at least every TTL besides. When the watch ends (ctx done, or the connection's
// consumer gone) the cache is turned off and every read goes to the bucket again.
//
// It returns once the watch runs.
func (v *Vault) CacheKeys(ctx context.Context, cfg KeyCacheConfig) error {
	if cfg.Max <= 0 {
		cfg.Max = 100_000
	}
	if cfg.TTL <= 0 {
		cfg.TTL = time.Minute
	}
	w, err := v.kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("vault: watch the keys: %w", err)
	}
	c := &v.cache
	c.mu.Lock()
	c.keys, c.max, c.ttl = map[string]cachedKey{}, cfg.Max, cfg.TTL
	c.mu.Unlock()
	c.on.Store(true)
	go func() {
		defer func() {
			c.on.Store(false)
			c.forgetAll()
			if ctx.Err() == nil && cfg.Log != nil {
				cfg.Log.Warn("vault key cache off: the watch of the keys ended; every key is read from the bucket")
			}
		}()
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				switch {
				case e == nil:
				case e.Operation() == jetstream.KeyValuePut:
					c.learn(e.Key(), e.Value())
				default:
					c.forget(e.Key())
				}
			}
		}
	}()
	return nil
}

// KeysCached reports whether the cache is on (its watch runs).
func (v *Vault) KeysCached() bool { return v.cache.on.Load() }

// CachedKeyReads returns how many key reads the cache answered.
func (v *Vault) CachedKeyReads() int64 { return v.cache.hits.Load() }

// get returns the key kept for name, if the cache is on and holds a fresh one.
func (c *keyCache) get(name string, now time.Time) ([]byte, bool) {
	if !c.on.Load() {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[name]
	if !ok || now.Sub(k.at) > c.ttl {
		return nil, false
	}
	c.hits.Add(1)
	return k.key, true
}

// start returns the epoch before a read of the bucket; put keeps what the read found
// only when nothing changed in between (else a key erased during the read could be
// kept).
func (c *keyCache) start() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

func (c *keyCache) put(name string, key []byte, epoch uint64, now time.Time) {
	if !c.on.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch || c.keys == nil {
		return
	}
	if _, ok := c.keys[name]; !ok && len(c.keys) >= c.max {
		for old := range c.keys { // any one: map order is random
			delete(c.keys, old)
			break
		}
	}
	c.keys[name] = cachedKey{key: key, at: now}
}

// learn keeps a key the watch saw written (made, most often, by this process).
func (c *keyCache) learn(name string, key []byte) {
	c.mu.Lock()
	c.epoch++
	epoch := c.epoch
	c.mu.Unlock()
	c.put(name, key, epoch, time.Now())
}

func (c *keyCache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	delete(c.keys, name)
}

func (c *keyCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.keys)
}
