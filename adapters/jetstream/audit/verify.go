package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/domain"
)

// Kinds of problem Verify reports.
const (
	// ProblemMissing: stream positions with no message: deleted or purged.
	ProblemMissing = "missing"
	// ProblemUnsigned: an event without a signature.
	ProblemUnsigned = "unsigned"
	// ProblemUnknownKey: signed with a key the keyring does not hold: forged, or a key
	// the verification was not given.
	ProblemUnknownKey = "unknown-key"
	// ProblemBadSignature: the signature does not match the event: forged or altered.
	ProblemBadSignature = "bad-signature"
	// ProblemMalformed: the body is not an envelope of the aggregate its subject names,
	// or its id is not its Nats-Msg-Id.
	ProblemMalformed = "malformed"
	// ProblemVersion: an aggregate's versions do not follow one another: one of its
	// events was removed, or a copy of one was inserted.
	ProblemVersion = "version"
	// ProblemSealMismatch: the events up to a seal are not those that were sealed.
	ProblemSealMismatch = "seal-mismatch"
	// ProblemSealForged: a seal whose signature does not hold.
	ProblemSealForged = "seal-forged"
	// ProblemSealMissing: seals are missing from the seal stream.
	ProblemSealMissing = "seal-missing"
	// ProblemTruncated: a seal covers positions past the end of the stream.
	ProblemTruncated = "truncated"
	// ProblemAnchor: the chain at an anchor the auditor gave is not the one they recorded.
	ProblemAnchor = "anchor-mismatch"
	// ProblemPeriodLink: a period's first seal does not name the final seal of the
	// period before, as that period's stream holds it.
	ProblemPeriodLink = "period-link"
)

// PeriodLink is what Verify found of the link from a period's stream to the one before.
type PeriodLink struct {
	Prev      string `json:"prev"`       // the previous period's stream
	PrevUpto  uint64 `json:"prev_upto"`  // the final seal of it that this stream's first seal names
	PrevChain string `json:"prev_chain"` // and its chain
	// Status is "ok" (the previous stream is on the server, sealed, and its final seal
	// is the one named), "archived" (its stream is not on this server: not checked),
	// "unsealed" (this stream has no seal yet to name it) or "broken".
	Status string `json:"status"`
}

// Problem is one finding of Verify.
type Problem struct {
	Seq    uint64 `json:"seq"`           // the first stream position it concerns
	Until  uint64 `json:"until"`         // the last, when it is a range; else Seq
	Kind   string `json:"kind"`          // one of the Problem… constants
	Detail string `json:"detail"`        // what was found, in English
	Events bool   `json:"event_problem"` // about events themselves (not only seals)
}

// Anchor is a chain value an auditor recorded from an earlier verification: the chain
// after position Seq was Chain.
type Anchor struct {
	Seq   uint64
	Chain string
}

// ParseAnchor reads "SEQ:CHAIN".
func ParseAnchor(s string) (Anchor, error) {
	seq, chain, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || len(chain) != 64 {
		return Anchor{}, fmt.Errorf("anchor %q: want SEQ:CHAIN, the chain as 64 hex digits", s)
	}
	return Anchor{Seq: n, Chain: strings.ToLower(chain)}, nil
}

// VerifyConfig configures Verify.
type VerifyConfig struct {
	// Keys are the audit keys whose signatures are accepted.
	Keys *jsstore.Keyring
	// UnsignedUntil accepts unsigned events at or below this position: those written
	// before signing was switched on. They are still checked against the seals.
	UnsignedUntil uint64
	// Anchors are chain values recorded earlier, outside NATS.
	Anchors []Anchor
	// MaxProblems bounds the problems listed (default 1000); the count goes on.
	MaxProblems int
	// jsstore.Progress, when set, is told how far the read has come.
	Progress jsstore.Progress
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Stream        string    `json:"stream"`
	FirstSeq      uint64    `json:"first_seq"` // as the stream reports them when the check began
	LastSeq       uint64    `json:"last_seq"`
	Events        uint64    `json:"events"`         // messages read
	Signed        uint64    `json:"signed"`         // with a valid signature
	Keys          []string  `json:"keys"`           // the key ids accepted
	Seals         int       `json:"seals"`          // seals read
	SealsMatched  int       `json:"seals_matched"`  // seals the events match
	SealedUpto    uint64    `json:"sealed_upto"`    // the last seal's upto (0: none)
	SealedAt      time.Time `json:"sealed_at"`      // when it was made
	Unsealed      uint64    `json:"unsealed"`       // events after the last seal: signed but not yet sealed
	Chain         string    `json:"chain"`          // the chain after the last event read
	ChainSeq      uint64    `json:"chain_seq"`      // its position
	FirstBad      uint64    `json:"first_bad"`      // the first bad event's position; 0 when none
	ProblemsFound int       `json:"problems_found"` // all of them, listed or not
	Problems      []Problem `json:"problems"`       // by position
	// Link is the link to the previous period (nil: the stream is a first period).
	Link *PeriodLink `json:"period_link,omitempty"`
}

// OK reports whether nothing was found.
func (r *VerifyReport) OK() bool { return r.ProblemsFound == 0 }

// Verify proves that no stored event has been altered, removed, inserted or reordered
// since it was written, as far as the signatures and the seals can tell: it reads the
// whole event stream from position 1 and checks that
//
//   - positions follow one another from 1 to the stream's last (a deleted event leaves
//     a hole that is reported by its position);
//   - each event is signed by a key of the keyring, over its own subject, id and body
//     (a forged or altered event is reported by its position);
//   - each body is an envelope of the aggregate its subject names, with the id the
//     message was deduplicated on, and each aggregate's versions go 1, 2, 3… (a copy
//     of a signed event published again is reported by its position);
//   - the hash chain over the stream equals every seal's, each seal is signed, and the
//     seals follow one another (what a seal does not match was changed at or after the
//     position after the last seal that matched).
//
// Events after the last seal are counted as signed but not yet sealed: the sealer has
// not reached them, or is not running. Verify only reads; it returns an error only when
// it cannot read.
func Verify(ctx context.Context, js jetstream.JetStream, store *jsstore.Store, cfg VerifyConfig) (*VerifyReport, error) {
	if cfg.Keys == nil {
		cfg.Keys = jsstore.NewKeyring()
	}
	store.ResolveKeysFromLog(cfg.Keys) // keys introduced on the log, looked up as met
	if cfg.MaxProblems <= 0 {
		cfg.MaxProblems = 1000
	}
	info, err := store.Stream().Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: stream %s: %w", store.StreamName(), err)
	}
	rep := &VerifyReport{Stream: store.StreamName(), FirstSeq: info.State.FirstSeq, LastSeq: info.State.LastSeq, Keys: cfg.Keys.IDs()}
	slices.Sort(rep.Keys)
	add := func(p Problem) {
		if p.Until == 0 {
			p.Until = p.Seq
		}
		rep.ProblemsFound++
		if len(rep.Problems) < cfg.MaxProblems {
			rep.Problems = append(rep.Problems, p)
		}
	}

	seals, err := readSeals(ctx, js, store.StreamName())
	if err != nil {
		return nil, err
	}
	rep.Seals = len(seals)
	var valid []storedSeal
	var prevUpto uint64
	for _, s := range seals {
		if err := cfg.Keys.CheckSeal(s.header, s.body); err != nil {
			add(Problem{Seq: s.Prev + 1, Until: s.Upto, Kind: ProblemSealForged, Detail: fmt.Sprintf("the seal up to %d (seal stream position %d) is %v: it was not made by a Redlane sealer", s.Upto, s.msgSeq, err)})
			continue
		}
		if s.Stream != store.StreamName() {
			add(Problem{Seq: s.Prev + 1, Until: s.Upto, Kind: ProblemSealForged, Detail: fmt.Sprintf("the seal up to %d is of stream %q", s.Upto, s.Stream)})
			continue
		}
		if s.Upto <= prevUpto && len(valid) > 0 {
			add(Problem{Seq: s.Upto, Kind: ProblemSealMissing, Detail: fmt.Sprintf("the seal up to %d comes after the seal up to %d", s.Upto, prevUpto)})
			continue
		}
		if s.Prev != prevUpto {
			add(Problem{Seq: prevUpto + 1, Until: s.Prev, Kind: ProblemSealMissing, Detail: fmt.Sprintf("the seal up to %d follows a seal up to %d, but the seal before it in the seal stream is up to %d: seals were removed", s.Upto, s.Prev, prevUpto)})
		}
		valid = append(valid, s)
		prevUpto = s.Upto
	}

	if err := checkLink(ctx, js, store, cfg.Keys, valid, add, rep); err != nil {
		return nil, err
	}

	c := newChain()
	next := uint64(1)               // the position expected next
	versions := map[string]uint64{} // subject → the aggregate version last seen
	var lastMatched uint64          // the last seal (or anchor) the chain matched
	anchors := slices.Clone(cfg.Anchors)
	slices.SortFunc(anchors, func(a, b Anchor) int { return cmp.Compare(a.Seq, b.Seq) })
	var sealedUpto uint64
	if len(valid) > 0 {
		sealedUpto = valid[len(valid)-1].Upto
	}
	si := 0
	// settle compares the chain with the seals and anchors that end before position seq.
	settle := func(seq uint64) {
		for si < len(valid) && valid[si].Upto < seq {
			s := valid[si]
			si++
			if s.Count == c.count && s.Chain == c.hex() {
				rep.SealsMatched++
				lastMatched = s.Upto
				continue
			}
			add(Problem{Seq: lastMatched + 1, Until: s.Upto, Kind: ProblemSealMismatch, Detail: fmt.Sprintf(
				"the events up to %d are not those sealed at %s (sealed: %d events, chain %.12s…; now: %d events, chain %.12s…): altered, removed, inserted or reordered at or after %d",
				s.Upto, s.At.Format(time.RFC3339), s.Count, s.Chain, c.count, c.hex(), lastMatched+1)})
			// Go on from what was sealed, so that later seals are checked on their own.
			if sum, err := decodeChain(s.Chain); err == nil {
				c.sum, c.count = sum, s.Count
			}
			lastMatched = s.Upto
		}
		for len(anchors) > 0 && anchors[0].Seq < seq {
			a := anchors[0]
			anchors = anchors[1:]
			if a.Chain != c.hex() {
				add(Problem{Seq: 1, Until: a.Seq, Kind: ProblemAnchor, Detail: fmt.Sprintf("the chain after %d is %s, not the %s recorded: the events up to %d have changed since", a.Seq, c.hex(), a.Chain, a.Seq)})
			}
		}
	}

	tick := time.Now()
	err = checkAll(ctx, store, cfg.Keys, func(ck *checked) {
		ev := ck.ev
		settle(ev.Seq)
		if ev.Seq > next {
			add(Problem{Seq: next, Until: ev.Seq - 1, Kind: ProblemMissing, Events: true, Detail: missing(next, ev.Seq-1)})
		}
		next = ev.Seq + 1
		rep.Events++
		if ev.Seq > sealedUpto {
			rep.Unsealed++
		}
		switch err := ck.sigErr; {
		case err == nil:
			rep.Signed++
		case errors.Is(err, jsstore.ErrUnsigned) && ev.Seq <= cfg.UnsignedUntil:
		case errors.Is(err, jsstore.ErrUnsigned):
			add(Problem{Seq: ev.Seq, Kind: ProblemUnsigned, Events: true, Detail: fmt.Sprintf("the event at %d on %s has no signature: it was not appended by Redlane (or before signing was switched on: see --unsigned-until)", ev.Seq, ev.Subject)})
		case errors.Is(err, jsstore.ErrUnknownKey) && len(ev.Header.Get(jsstore.HeaderKey)) == 8:
			add(Problem{Seq: ev.Seq, Kind: ProblemUnknownKey, Events: true, Detail: fmt.Sprintf("the event at %d on %s is signed with key %q, the shared HMAC audit key of logs written before Ed25519: pass --legacy-key-file with that key to check it", ev.Seq, ev.Subject, ev.Header.Get(jsstore.HeaderKey))})
		case errors.Is(err, jsstore.ErrUnknownKey):
			add(Problem{Seq: ev.Seq, Kind: ProblemUnknownKey, Events: true, Detail: fmt.Sprintf("the event at %d on %s is signed with key %q, which no trusted key introduced", ev.Seq, ev.Subject, ev.Header.Get(jsstore.HeaderKey))})
		default:
			add(Problem{Seq: ev.Seq, Kind: ProblemBadSignature, Events: true, Detail: fmt.Sprintf("the signature of the event at %d on %s does not match it: forged or altered", ev.Seq, ev.Subject)})
		}
		if ck.sigErr != nil && !(errors.Is(ck.sigErr, jsstore.ErrUnsigned) && ev.Seq <= cfg.UnsignedUntil) {
			// Not Redlane's: never part of an aggregate's history, so its version is
			// not checked and does not count (its signature problem is reported).
		} else if kind, detail := checkEnvelope(store, ck, versions); detail != "" {
			add(Problem{Seq: ev.Seq, Kind: kind, Events: true, Detail: detail})
		}
		c.addSum(ev.Seq, ev.Subject, ck.id, ck.bodySum, ev.Header.Get(jsstore.HeaderSignature))
		if cfg.Progress != nil && time.Since(tick) > 200*time.Millisecond {
			cfg.Progress(ev.Seq, rep.LastSeq)
			tick = time.Now()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	end := max(rep.LastSeq, next-1) // events may have come in while reading
	if next <= end {
		add(Problem{Seq: next, Until: end, Kind: ProblemMissing, Events: true, Detail: missing(next, end)})
	}
	settle(end + 1)
	for _, s := range valid[si:] {
		add(Problem{Seq: end + 1, Until: s.Upto, Kind: ProblemTruncated, Events: true, Detail: fmt.Sprintf("the seal made at %s covers positions up to %d, but the stream ends at %d: the events after %d were removed", s.At.Format(time.RFC3339), s.Upto, end, end)})
	}
	for _, a := range anchors {
		add(Problem{Seq: end + 1, Until: a.Seq, Kind: ProblemAnchor, Events: true, Detail: fmt.Sprintf("an anchor was recorded at %d, but the stream ends at %d", a.Seq, end)})
	}
	if cfg.Progress != nil {
		cfg.Progress(end, end)
	}
	rep.Chain, rep.ChainSeq = c.hex(), c.last
	if len(valid) > 0 {
		last := valid[len(valid)-1]
		rep.SealedUpto, rep.SealedAt = last.Upto, last.At
	}
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int { return cmp.Compare(a.Seq, b.Seq) })
	rep.FirstBad = firstBad(rep.Problems)
	return rep, nil
}

// firstBad names the first bad event: the first problem found in an event itself, and
// else the first seal that does not match. A seal mismatch only bounds where the change
// is; when a problem in an event explains it, that event is the one to name.
func firstBad(ps []Problem) uint64 {
	for _, p := range ps {
		if p.Events {
			return p.Seq
		}
	}
	if len(ps) > 0 {
		return max(ps[0].Seq, 1)
	}
	return 0
}

func missing(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("the event at %d is gone: deleted from the stream", from)
	}
	return fmt.Sprintf("the events at %d to %d (%d of them) are gone: deleted or purged from the stream", from, to, to-from+1)
}

func decodeChain(s string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return out, fmt.Errorf("bad chain %q", s)
	}
	copy(out[:], b)
	return out, nil
}

// envHead is what Verify reads of an envelope. Only these attributes are decoded: a full
// decode would double the cost of a verification.
type envHead struct {
	SpecVersion   string `json:"specversion"`
	ID            string `json:"id"`
	Type          string `json:"type"`
	AggregateType string `json:"aggregatetype"`
	AggregateID   string `json:"aggregateid"`
	Version       uint64 `json:"aggregateversion"`
}

// checked is one stored message with the checks that need no other message done.
type checked struct {
	ev      jsstore.RawEvent
	id      string   // its Nats-Msg-Id (or the id in its body)
	sigErr  error    // Keyring.CheckEvent's answer
	head    envHead  // its envelope's attributes
	headErr string   // why the body is not an envelope, or ""
	bodySum [32]byte // SHA-256 of the body, for the chain
}

func (ck *checked) check(keys *jsstore.Keyring) {
	ev := ck.ev
	ck.id = ev.MsgID()
	ck.sigErr = keys.CheckEventAt(ev.Seq, ev.Header, ev.Subject, ck.id, ev.Data)
	ck.bodySum = sha256.Sum256(ev.Data)
	h := &ck.head
	if err := json.Unmarshal(ev.Data, h); err != nil {
		ck.headErr = fmt.Sprintf("the body at %d is not a Redlane event: %v", ev.Seq, err)
	} else if h.SpecVersion != domain.SpecVersion || h.ID == "" || h.Type == "" || h.AggregateType == "" || h.AggregateID == "" || h.Version == 0 {
		ck.headErr = fmt.Sprintf("the body at %d is not a Redlane event: a required attribute is missing", ev.Seq)
	}
}

// checkAll reads the whole event stream and calls fn with each message in order, after
// checking its signature and decoding its envelope on every core: those checks need no
// other message, while fn, which does, runs on one goroutine.
func checkAll(ctx context.Context, store *jsstore.Store, keys *jsstore.Keyring, fn func(*checked)) error {
	return jsstore.ScanParallel(ctx, store, 1, func(ev jsstore.RawEvent) *checked {
		ck := &checked{ev: ev}
		ck.check(keys)
		return ck
	}, func(_ jsstore.RawEvent, ck *checked) error {
		fn(ck)
		return nil
	})
}

// checkEnvelope checks that a stored event is an envelope of the aggregate its subject
// names, carrying the id it was deduplicated on, at the next version of its aggregate.
// It returns the kind of problem and what is wrong, or "".
func checkEnvelope(store *jsstore.Store, ck *checked, versions map[string]uint64) (kind, detail string) {
	ev, env := ck.ev, ck.head
	if ck.headErr != "" {
		return ProblemMalformed, ck.headErr
	}
	if h := ev.Header.Get(jetstream.MsgIDHeader); h != "" && h != env.ID {
		return ProblemMalformed, fmt.Sprintf("the event at %d has id %s but was stored as %s", ev.Seq, env.ID, h)
	}
	if want := store.Subject(env.AggregateType, env.AggregateID); ev.Subject != want {
		return ProblemMalformed, fmt.Sprintf("the event at %d is of %s/%s but stored on %s", ev.Seq, env.AggregateType, env.AggregateID, ev.Subject)
	}
	last := versions[ev.Subject]
	versions[ev.Subject] = max(last, env.Version)
	switch {
	case env.Version == last+1:
		return "", ""
	case env.Version <= last:
		return ProblemVersion, fmt.Sprintf("the event at %d brings %s/%s to version %d, but it was at version %d already: a copy of an earlier event, or out of order", ev.Seq, env.AggregateType, env.AggregateID, env.Version, last)
	}
	gone := fmt.Sprintf("version %d is missing", last+1)
	if env.Version-1 > last+1 {
		gone = fmt.Sprintf("versions %d to %d are missing", last+1, env.Version-1)
	}
	return ProblemVersion, fmt.Sprintf("the event at %d brings %s/%s to version %d, but the one before it is version %d: %s", ev.Seq, env.AggregateType, env.AggregateID, env.Version, last, gone)
}

// readSeals returns every seal of the event stream, in the order they were stored.
func readSeals(ctx context.Context, js jetstream.JetStream, stream string) ([]storedSeal, error) {
	st, err := js.Stream(ctx, SealStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal stream: %w", err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, SealSubjectRoot+"."+stream); errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("seal stream: %w", err)
	}
	var out []storedSeal
	err = jsstore.ScanStream(ctx, st, 1, []string{SealSubjectRoot + "." + stream}, func(ev jsstore.RawEvent) error {
		s := storedSeal{msgSeq: ev.Seq, header: ev.Header, body: ev.Data}
		if err := json.Unmarshal(ev.Data, &s.Seal); err != nil {
			s.Seal = Seal{Stream: "?", Upto: 0}
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seal stream: %w", err)
	}
	return out, nil
}

// checkLink checks that the first seal of a period's stream names the final seal of the
// period before, as the previous period's stream and seals stand on the server.
func checkLink(ctx context.Context, js jetstream.JetStream, store *jsstore.Store, keys *jsstore.Keyring, valid []storedSeal, add func(Problem), rep *VerifyReport) error {
	period, err := store.Period(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if period.Prev == "" {
		return nil
	}
	link := &PeriodLink{Prev: period.Prev, Status: "broken"}
	rep.Link = link
	if len(valid) == 0 {
		link.Status = "unsealed"
		return nil
	}
	first := valid[0]
	link.PrevUpto, link.PrevChain = first.PrevUpto, first.PrevChain
	broken := func(format string, args ...any) {
		add(Problem{Seq: 1, Until: first.Upto, Kind: ProblemPeriodLink, Detail: fmt.Sprintf(format, args...)})
	}
	if first.Prev != 0 || first.PrevStream != period.Prev || first.PrevChain == "" {
		broken("this period follows %s, but its first seal (up to %d) names %q as the period before: the link between the periods is gone", period.Prev, first.Upto, first.PrevStream)
		return nil
	}
	prev, err := js.Stream(ctx, period.Prev)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		link.Status = "archived"
		return nil
	}
	if err != nil {
		return fmt.Errorf("verify: the previous period's stream %s: %w", period.Prev, err)
	}
	prevSeals, err := readSeals(ctx, js, period.Prev)
	if err != nil {
		return err
	}
	var last *storedSeal
	for i := len(prevSeals) - 1; i >= 0; i-- {
		if keys.CheckSeal(prevSeals[i].header, prevSeals[i].body) == nil && prevSeals[i].Stream == period.Prev {
			last = &prevSeals[i]
			break
		}
	}
	info, err := prev.Info(ctx)
	if err != nil {
		return fmt.Errorf("verify: the previous period's stream %s: %w", period.Prev, err)
	}
	switch {
	case last == nil:
		broken("the previous period %s has no valid seal; this period's first seal names its final seal up to %d: its seals were removed", period.Prev, first.PrevUpto)
	case last.Upto != first.PrevUpto || last.Chain != first.PrevChain:
		broken("this period's first seal names the final seal of %s up to %d (chain %.12s…), but the last seal of %s is up to %d (chain %.12s…): the previous period's seals were changed or removed",
			period.Prev, first.PrevUpto, first.PrevChain, period.Prev, last.Upto, last.Chain)
	case info.State.LastSeq != first.PrevUpto:
		broken("the previous period %s ends at %d, but its final seal covers up to %d", period.Prev, info.State.LastSeq, first.PrevUpto)
	case !info.Config.Sealed:
		broken("the previous period's stream %s is not sealed: it may still take events", period.Prev)
	default:
		link.Status = "ok"
	}
	return nil
}
