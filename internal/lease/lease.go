// Package lease is how Redlane's background writers (the view writers, the sealer, the
// EventStoreDB mirror) keep to one process at a time: a lease under a key of a NATS KV
// bucket, {"owner","until"}, taken when free or run out, renewed by compare-and-set,
// and handed back on a graceful stop.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// record is a lease as the bucket stores it. Its JSON is read by operators.
type record struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// Lease is a lease held by this process.
type Lease struct {
	kv      jetstream.KeyValue
	key     string
	owner   string
	ttl     time.Duration
	rev     uint64
	renewAt time.Time
}

func body(owner string, ttl time.Duration) []byte {
	b, _ := json.Marshal(record{Owner: owner, Until: time.Now().Add(ttl).UTC()})
	return b
}

// Acquire takes the lease under key for owner if it is free, has run out, or is owner's
// already. It returns nil and no error when another process holds it.
func Acquire(ctx context.Context, kv jetstream.KeyValue, key, owner string, ttl time.Duration) (*Lease, error) {
	l := &Lease{kv: kv, key: key, owner: owner, ttl: ttl, renewAt: time.Now().Add(ttl / 3)}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		rev, err := kv.Create(ctx, key, body(owner, ttl))
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, nil
		}
		l.rev = rev
		return l, err
	}
	if err != nil {
		return nil, err
	}
	var held record
	_ = json.Unmarshal(e.Value(), &held)
	if held.Owner != owner && time.Now().Before(held.Until) {
		return nil, nil
	}
	rev, err := kv.Update(ctx, key, body(owner, ttl), e.Revision())
	if err != nil {
		return nil, nil // someone else renewed or took it first
	}
	l.rev = rev
	return l, nil
}

// ErrLost is Renew's error: another holder has the lease now, or it could not be renewed.
var ErrLost = errors.New("lease lost")

// Renew extends the lease once a third of its time has passed; before that it does
// nothing. An error means the lease is lost: the holder must stop writing.
func (l *Lease) Renew(ctx context.Context) error {
	if time.Now().Before(l.renewAt) {
		return nil
	}
	rev, err := l.kv.Update(ctx, l.key, body(l.owner, l.ttl), l.rev)
	if err != nil {
		return fmt.Errorf("lease %s: %w: %w", l.key, ErrLost, err)
	}
	l.rev, l.renewAt = rev, time.Now().Add(l.ttl/3)
	return nil
}

// Release hands the lease back at once, if it is still this one, rather than letting it
// run out.
func (l *Lease) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = l.kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
}
