package views_test

import (
	"context"
	"sync"
	"testing"
	"time"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/projections/feed"
)

// TestFeedFollowersCostTheServerNothing: hundreds of live followers and history reads
// make no consumer on the feed stream; every follower gets every new entry, in order,
// and one that resumes from an entry gets the rest without a gap or a repeat.
func TestFeedFollowersCostTheServerNothing(t *testing.T) {
	// As serve runs it: entries signed, and checked when read.
	signer := jsstore.GenerateSigner()
	w := newViewWorldWith(t, 41, jsstore.Config{Signer: signer, Keys: jsstore.NewKeyring(signer.PublicKey())})
	vs := w.views(t, "a", 2*time.Second)
	run(t, vs)
	w.steps(t, 20)
	waitCaughtUp(t, vs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	history, err := vs.Feed(ctx, feed.Query{Limit: 500})
	if err != nil || len(history) == 0 {
		t.Fatalf("feed: %d entries, %v", len(history), err)
	}
	const followers = 300
	var mu sync.Mutex
	got := make([][]uint64, followers)
	var wg sync.WaitGroup
	for i := range followers {
		q := feed.Query{}
		if i%3 == 0 {
			q.After = history[len(history)/2].Seq // resumes from the middle of the history
		}
		wg.Go(func() {
			_ = vs.FollowFeed(ctx, q, func(e feed.Entry) error {
				mu.Lock()
				got[i] = append(got[i], e.Seq)
				mu.Unlock()
				return nil
			})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); vs.Followers() < followers; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d followers joined", vs.Followers(), followers)
		}
	}
	st, err := w.js.Stream(ctx, jsviews.FeedStream)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(ctx)
	if info.State.Consumers != 0 {
		t.Errorf("%d consumers on the feed stream with %d followers; want none", info.State.Consumers, followers)
	}
	w.steps(t, 20)
	waitCaughtUp(t, vs)
	all, err := vs.Feed(ctx, feed.Query{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	lastSeq := all[len(all)-1].Seq
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		done := 0
		for _, g := range got {
			if len(g) > 0 && g[len(g)-1] == lastSeq {
				done++
			}
		}
		mu.Unlock()
		if done == followers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d followers got the last entry", done, followers)
		}
	}
	cancel()
	wg.Wait()
	want := map[uint64]int{}
	for i, e := range all {
		want[e.Seq] = i
	}
	for i, g := range got {
		for j := 1; j < len(g); j++ {
			if g[j] <= g[j-1] {
				t.Fatalf("follower %d: %d after %d", i, g[j], g[j-1])
			}
		}
		if i%3 == 0 { // from the middle: every entry after it, none missing
			from := want[history[len(history)/2].Seq] + 1
			if len(g) != len(all)-from || g[0] != all[from].Seq {
				t.Errorf("follower %d resumed with %d entries from %d; want %d from %d", i, len(g), g[0], len(all)-from, all[from].Seq)
			}
		}
	}
	if vs.Followers() != 0 {
		t.Errorf("%d followers left after all ended", vs.Followers())
	}
}
