package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/redlane/redlane/domain"
)

// slipPage is the printable receipt slip a station or the hotline hands a resident: the
// order's number, the receipt code in groups of four (read out over the phone), the
// receipt's link and its QR code.
type slipPage struct {
	base
	Order   orderView
	Station string
	Code    string // the receipt, in groups of four
	Link    string // absolute
	QR      template.HTML
}

// groupsOfFour writes a code in groups of four, as people read it out: abcd efgh ….
func groupsOfFour(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// absoluteLink is path on the host the request came to, over HTTPS when the pages are
// (--secure-cookies, behind a TLS proxy).
func (h *handler) absoluteLink(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil || h.secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// qrSVG draws text's QR code as an inline SVG: dark modules as one path, with the quiet
// zone qrcode leaves around them. It holds nothing but numbers.
func qrSVG(text string) (template.HTML, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bits := q.Bitmap()
	var d strings.Builder
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&d, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	n := len(bits)
	return template.HTML(fmt.Sprintf(`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="回执二维码"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		n, n, n, n, d.String())), nil // #nosec: only numbers and fixed text
}

// slip answers GET /receipt/{id}/slip?r=R: the printable receipt slip.
func (h *handler) slip(w http.ResponseWriter, r *http.Request) {
	receipt := strings.TrimSpace(r.URL.Query().Get("r"))
	snap, err := h.receiptSnap(r.Context(), r.PathValue("id"), receipt)
	if err != nil {
		h.failErr(w, r, nil, err)
		return
	}
	receipt = h.svc.Receipt(snap.ID)
	link := h.absoluteLink(r, withParams("/receipt/"+snap.ID, "r", receipt))
	qr, err := qrSVG(link)
	if err != nil {
		h.failErr(w, r, nil, domain.Errorf(domain.KindInternal, "qr code: %v", err))
		return
	}
	var signedIn *session
	if s, signed, _ := h.who(r); signed {
		signedIn = &s
	}
	station := ""
	if l, ok := h.svc.Dir.Lane(snap.State.Lane); ok {
		station = l.Station
	}
	h.render(w, http.StatusOK, "slip", slipPage{base: h.base(r, signedIn, "回执单 "+snap.State.Number),
		Order: h.orderView(r.Context(), snap, false), Station: station, Code: groupsOfFour(receipt), Link: link, QR: qr})
}

// findPage is the form that finds a receipt again by the order's number and the phone
// the resident gave.
type findPage struct {
	base
	Number, Phone string
}

// findForm answers GET /receipt: the form.
func (h *handler) findForm(w http.ResponseWriter, r *http.Request) {
	var signedIn *session
	if s, signed, _ := h.who(r); signed {
		signedIn = &s
	}
	h.render(w, http.StatusOK, "find", findPage{base: h.base(r, signedIn, "查询回执"), Number: r.URL.Query().Get("number")})
}

// find answers POST /receipt: to the receipt's page when the number and the phone are
// an order's; else the form again, with the same words for an unknown number as for a
// wrong phone. redlane serve limits it per address, as the API's lookup.
func (h *handler) find(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, nil) {
		return
	}
	p := findPage{base: h.base(r, nil, "查询回执"), Number: strings.TrimSpace(r.PostForm.Get("number")), Phone: strings.TrimSpace(r.PostForm.Get("phone"))}
	id, err := "", error(nil)
	if h.index == nil || p.Number == "" || p.Phone == "" {
		err = domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no order has that number and phone")
	} else {
		id, err = h.svc.FindReceipt(r.Context(), h.index.ByNumber, p.Number, p.Phone)
	}
	if err != nil {
		if domain.KindOf(err) != domain.KindNotFound {
			h.failErr(w, r, nil, err)
			return
		}
		p.Problem = &problem{Status: http.StatusNotFound, Title: "没有找到", Lines: []string{"编号和电话对不上任何诉求，请核对后再试。"}}
		h.render(w, http.StatusNotFound, "find", p)
		return
	}
	http.Redirect(w, r, withParams("/receipt/"+id, "r", h.svc.Receipt(id)), http.StatusSeeOther)
}
