package httpapi

import (
	"net/http"
	"strings"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// lookupRequest is the body of POST /api/v1/receipts/lookup.
type lookupRequest struct {
	Number string `json:"number"`
	Phone  string `json:"phone"`
}

// Receipt lookups a client address may make: one every six seconds on average, in
// bursts of ten (a resident who mistypes can try again; a guesser cannot sweep).
const (
	lookupRate  = 1.0 / 6
	lookupBurst = 10
)

// lookupReceipt answers POST /api/v1/receipts/lookup: a resident who has the order's
// number and the phone they gave finds the order and its receipt again. An unknown
// number and a wrong phone get the same 404, so the answer tells a guesser nothing.
func (a *API) lookupReceipt(w http.ResponseWriter, r *http.Request) {
	if ok, wait := a.lookups.Allow(ClientIP(r, a.cfg.TrustedProxies)); !ok {
		TooManyRequests(w, r, wait)
		return
	}
	if _, sent := bearer(r); sent { // a token is not needed, but a bad one is refused
		if _, err := a.actor(r); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	var req lookupRequest
	if err := readBody(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	req.Number, req.Phone = strings.ToUpper(strings.TrimSpace(req.Number)), strings.TrimSpace(req.Phone)
	var fields []domain.FieldError
	if req.Number == "" || len(req.Number) > 40 {
		fields = append(fields, domain.FieldError{Field: "number", Message: "the order's number, such as 20261130-G4HNJM, is required"})
	}
	if order.PhoneKey(req.Phone) == "" || len(req.Phone) > 40 {
		fields = append(fields, domain.FieldError{Field: "phone", Message: "the phone number given with the request is required"})
	}
	if len(fields) > 0 {
		a.fail(w, r, &domain.Error{Kind: domain.KindInvalid, Message: "invalid input", Fields: fields})
		return
	}
	if a.index == nil {
		a.fail(w, r, domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no order has that number and phone"))
		return
	}
	id, err := a.svc.FindReceipt(r.Context(), a.index.ByNumber, req.Number, req.Phone)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "number": req.Number, "receipt": a.svc.Receipt(id)})
}
