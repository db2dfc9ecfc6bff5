package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
)

// signingRows measure what a signature costs per event: signing when an event is
// appended, checking when one is read, Ed25519 (what Redlane does) beside the
// HMAC-SHA256 under a shared key it used before, on a typical 600-byte envelope.
func (b *bench) signingRows() {
	env := domain.Envelope{
		SpecVersion: domain.SpecVersion, ID: "01a21bbf-0000-7000-8000-000000000001", Type: "redlane.order.submitted.v1",
		Source: domain.Source, Subject: "order/01a21bbf-0000-7000-8000-000000000002", Time: time.Now().UTC(),
		DataContentType: "application/json", Actor: "resident", Role: domain.RoleResident,
		AggregateType: "order", AggregateID: "01a21bbf-0000-7000-8000-000000000002", Version: 1,
		Data: json.RawMessage(`{"number":"20261127-K3QZ7A","lane":"rouqiao-houxiang","community":"taoyuan","street":"dongcheng","category":"repair","title":"楼道灯不亮了","description":"三单元二楼的感应灯坏了","mode":"instant","channel":"station","priority":"normal","accept_by":"2026-11-28T02:15:04Z","complete_by":"2026-11-30T02:15:04Z"}`),
	}
	body, _ := json.Marshal(env)
	subject := "redlane.events.order." + env.AggregateID
	signer := jsstore.GenerateSigner()
	keys := jsstore.NewKeyring(signer.PublicKey())
	hmacKey := []byte("a shared audit key of 32 bytes..")
	mac := func() []byte {
		h := hmac.New(sha256.New, hmacKey)
		h.Write([]byte("redlane-event-v1"))
		for _, f := range [][]byte{[]byte(subject), []byte(env.ID), body} {
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(f))))
			h.Write(f)
		}
		return h.Sum(nil)
	}
	perOp := func(n int, fn func()) float64 {
		start := time.Now()
		for range n {
			fn()
		}
		return float64(time.Since(start).Microseconds()) / float64(n)
	}
	n := 20_000
	if b.cfg.Quick {
		n = 5_000
	}
	sig := signer.SignEvent(subject, env.ID, body)
	h := nats.Header{jsstore.HeaderSignature: {sig}, jsstore.HeaderKey: {signer.KeyID()}}
	want := hex.EncodeToString(mac())
	signEd := perOp(n, func() { _ = signer.SignEvent(subject, env.ID, body) })
	signMAC := perOp(n, func() { _ = hex.EncodeToString(mac()) })
	checkEd := perOp(n, func() { _ = keys.CheckEvent(h, subject, env.ID, body) })
	checkMAC := perOp(n, func() { _ = hmac.Equal([]byte(want), []byte(hex.EncodeToString(mac()))) })
	b.rep.Rows = append(b.rep.Rows, []Row{
		{Key: "sign_event", Name: "sign one event (Ed25519; baseline: HMAC-SHA256)", Unit: "µs/event", Redlane: signEd, Raw: signMAC, RawLabel: "HMAC", Ratio: div(signEd, signMAC)},
		{Key: "check_event", Name: "check one event's signature (Ed25519; baseline: HMAC-SHA256)", Unit: "µs/event", Redlane: checkEd, Raw: checkMAC, RawLabel: "HMAC", Ratio: div(checkEd, checkMAC)},
	}...)
	b.logf("signing: Ed25519 %.1f µs to sign, %.1f µs to check; HMAC %.1f and %.1f", signEd, checkEd, signMAC, checkMAC)
}
