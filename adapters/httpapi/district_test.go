package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/service"
)

// TestABusyLaneHolds puts thousands of open orders in one lane, through the real path
// (commands, JetStream, the view writer, the KV watch, the index, HTTP), and reads it as
// a steward would: counts exact, every order reachable by paging with no duplicate, a
// new urgent order on the first page within seconds, the other lane's board unaffected,
// and no view document over 256 KiB. REDLANE_BUSY_LANE sets the number (default 4,000).
func TestABusyLaneHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: thousands of orders take a while")
	}
	n := 4000
	if s := os.Getenv("REDLANE_BUSY_LANE"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	h := newHarness(t)
	w := h.seed()
	ctx := context.Background()
	quiet := h.submitTo("wudongqiao", "五洞桥路灯不亮", order.PriorityNormal)

	// Residents submit in parallel, as a busy morning would.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				_, _, err := h.svc.Submit(ctx, h.svc.Meta(service.Resident, ""), service.SubmitRequest{LaneID: "rouqiao-houxiang",
					Submit: order.Submit{Category: "repair", Title: fmt.Sprintf("楼道灯不亮了 %d", i), Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}}})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	h.settle()

	// A new urgent medical order: on the first page within seconds.
	urgent := h.submitTo("rouqiao-houxiang", "独居老人突发头晕", order.PriorityUrgent)
	deadline := time.Now().Add(10 * time.Second)
	for {
		first := h.must(200, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", w.steward, nil))
		items, _ := first.body["items"].([]any)
		if len(items) > 0 && items[0].(map[string]any)["id"] == urgent {
			if len(items) != 50 {
				t.Errorf("the first page holds %d items, want 50", len(items))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new urgent order is not first on the board after 10 s: %v", items[0])
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Every order once, by pages of the largest size.
	seen := map[string]bool{}
	cursor := ""
	var counts map[string]any
	for pages := 0; ; pages++ {
		q := url.Values{"limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := h.must(200, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog?"+q.Encode(), w.steward, nil))
		if pages == 0 {
			counts, _ = r.body["counts"].(map[string]any)
		}
		items, _ := r.body["items"].([]any)
		for _, it := range items {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("page %d: %s again", pages, id)
			}
			seen[id] = true
		}
		if cursor = r.str("next_cursor"); cursor == "" {
			break
		}
	}
	if len(seen) != n+1 {
		t.Errorf("paging reached %d orders, want %d", len(seen), n+1)
	}
	if counts["open"] != float64(n+1) || counts["live"] != float64(n+1) {
		t.Errorf("counts %v, want %d open and live", counts, n+1)
	}

	// The other lane's board: its one order, at once.
	other := h.must(200, h.do("GET", "/api/v1/lanes/wudongqiao/backlog", w.otherSteward, nil))
	if items, _ := other.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != quiet {
		t.Errorf("the quiet lane's board: %s", other.raw)
	}

	// A search by number finds the one order.
	num := h.must(200, h.do("GET", "/api/v1/orders/"+urgent, w.steward, nil)).str("number")
	found := h.must(200, h.do("GET", "/api/v1/orders?q="+url.QueryEscape(num), w.steward, nil))
	if items, _ := found.body["items"].([]any); len(items) != 1 {
		t.Errorf("search by number %s: %s", num, found.raw)
	}

	// No view document is over 256 KiB.
	keys, err := h.views.Keys(ctx, backlog.Name, ">")
	if err != nil {
		t.Fatal(err)
	}
	biggest, at := 0, ""
	for _, k := range keys {
		if k != "lane.rouqiao-houxiang" && k != "_checkpoint" && k[:6] != "order." {
			continue
		}
		if k[:6] == "order." && k != "order."+urgent {
			continue // order documents are alike: one stands for all
		}
		b, err := h.views.Get(ctx, backlog.Name, k)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > biggest {
			biggest, at = len(b), k
		}
	}
	if biggest > 256<<10 || biggest == 0 {
		t.Errorf("the largest backlog document, %s, is %d bytes", at, biggest)
	}
	t.Logf("%d orders in one lane: largest document %s, %d bytes", n+1, at, biggest)
}

func (h *harness) submitTo(laneID, title string, p order.Priority) string {
	h.t.Helper()
	body := map[string]any{"lane": laneID, "category": "repair", "title": title,
		"requester": map[string]any{"name": "张阿姨", "phone": "13812345678"}, "mode": "instant", "channel": "station", "priority": string(p)}
	if p == order.PriorityUrgent {
		body["category"] = "medical"
	}
	return h.must(201, h.do("POST", "/api/v1/orders", "", body)).str("id")
}
