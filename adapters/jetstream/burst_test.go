package jetstream

import (
	"context"
	"sync"
	"testing"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
)

// TestBurstOfBatches opens more atomic batches at once than the server keeps open per
// stream (50), from two stores as two processes would: none may fail.
func TestBurstOfBatches(t *testing.T) {
	srv, nc := natstest.Start(t)
	stores := []*Store{open(t, nc), open(t, natstest.Connect(t, srv))}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		s := stores[i%2]
		wg.Go(func() {
			id := storetest.NewID()
			if _, err := s.Append(context.Background(), "order", id, 0, storetest.Seal(t, "order", id, 0, 3)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := stores[0].MessageCount(context.Background()); err != nil || n != 600 {
		t.Fatalf("%d messages stored, want 600 (%v)", n, err)
	}
}
