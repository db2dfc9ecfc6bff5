package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"
)

// TestTheReceiptSlip: a station or the hotline prints a slip with the order's number, the
// receipt code in groups of four (which works typed back with its spaces), the
// receipt's whole link and a QR code of exactly that link.
func TestTheReceiptSlip(t *testing.T) {
	h := newHarness(t)
	h.seed()
	id, receipt := h.submit("楼道灯不亮了", "repair")
	b := h.browser()
	p := must(t, b.get("/receipt/"+id+"/slip?r="+receipt), http.StatusOK, "居民点单回执", "打印回执单", "<svg class=\"qr\"")
	m := regexp.MustCompile(`id="slip-code" class="code">([a-z2-7 ]+)<`).FindStringSubmatch(p.body)
	if m == nil || strings.ReplaceAll(m[1], " ", "") != receipt || len(strings.Fields(m[1])) != (len(receipt)+3)/4 {
		t.Fatalf("the code on the slip is %q, want %q in groups of four", m, receipt)
	}
	link := regexp.MustCompile(`id="slip-link">([^<]+)<`).FindStringSubmatch(p.body)
	want := h.url + "/receipt/" + id + "?r=" + receipt
	if link == nil || link[1] != want {
		t.Fatalf("the slip's link is %q, want %q", link, want)
	}
	// The QR code is the link's: as many dark modules as the code of that link has.
	q, err := qrcode.New(want, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	dark := 0
	for _, row := range q.Bitmap() {
		for _, on := range row {
			if on {
				dark++
			}
		}
	}
	if got := strings.Count(p.body, "h1v1h-1z"); got != dark {
		t.Errorf("the QR code has %d dark modules, the link's has %d", got, dark)
	}
	// Read out over the phone, the code comes back in its groups: it still opens the order.
	must(t, b.get("/receipt/"+id+"?r="+strings.ReplaceAll(m[1], " ", "+")), http.StatusOK, "楼道灯不亮了")
	must(t, b.get("/receipt/"+id+"/slip?r=wrong"), http.StatusNotFound)
}

// TestAResidentFindsTheReceiptPageAgain: the number and the phone, written any usual
// way, lead back to the receipt's page; a wrong phone and an unknown number get the same
// answer.
func TestAResidentFindsTheReceiptPageAgain(t *testing.T) {
	h := newHarness(t)
	h.seed()
	id, receipt := h.submit("楼道灯不亮了", "repair")
	snap, err := h.svc.Order(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	b := h.browser()
	must(t, b.get("/receipt"), http.StatusOK, "查询回执", `name="number"`, `name="phone"`)
	p := b.post("/receipt", url.Values{"number": {strings.ToLower(snap.State.Number)}, "phone": {"+86 138 1234 5678"}})
	if p.status != http.StatusSeeOther || p.location() != "/receipt/"+id+"?r="+receipt {
		t.Fatalf("found: %d to %q, want 303 to the receipt", p.status, p.location())
	}
	wrong := must(t, b.post("/receipt", url.Values{"number": {snap.State.Number}, "phone": {"13900000000"}}), http.StatusNotFound, "没有找到")
	unknown := must(t, b.post("/receipt", url.Values{"number": {"20200101-AAAAAA"}, "phone": {"13812345678"}}), http.StatusNotFound, "没有找到")
	if strings.Contains(wrong.body, receipt) || strings.Contains(unknown.body, receipt) {
		t.Error("a refused lookup shows the receipt")
	}
}
