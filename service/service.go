// Package service is Redlane's application layer: it takes commands from any edge (HTTP,
// CLI, schedules), resolves what they name (lanes, members, the acting token), and runs
// them against the aggregates through the command runner. It holds no business rules of
// its own; those are in domain.
package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/campaign"
	"github.com/redlane/redlane/domain/category"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/erasure"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
	"github.com/redlane/redlane/domain/street"
)

// Config wires a Service.
type Config struct {
	Store   domain.EventStore
	Clock   domain.Clock
	NewID   func() string // event ids: UUIDv7
	Catalog order.Catalog
	// AdminToken is the bootstrap admin secret; it acts as the admin role.
	AdminToken string
	// ReceiptKey derives residents' receipts from order ids; the same key must serve every
	// process on one log.
	ReceiptKey []byte
	// Loc is where local dates are reckoned (order numbers); Asia/Shanghai.
	Loc *time.Location
	// Rules are the escalation rules; nil takes order.DefaultRules.
	Rules *order.Rules
	// Vault seals residents' personal details; nil writes them in the clear (tests).
	Vault Vault
	// Credentials keeps accounts' password hashes; nil: no accounts.
	Credentials Credentials
	// PasswordCost is bcrypt's cost for new passwords (0: bcrypt.DefaultCost).
	PasswordCost int
	// CacheBytes bounds the memory the orders kept in memory take (default 64 MiB; a
	// negative value: no bound but the count).
	CacheBytes int64
	// Earlier, when set, reads orders left behind in the periods before the store's
	// (docs/scale.md): Order and History fall back to it, read-only; commands never do.
	Earlier Earlier
	// Observe, when set, is told of every command: its aggregate, its name ("submit",
	// "dispatch", …), how long it took and how it ended (metrics).
	Observe func(aggregate, command string, took time.Duration, err error)
}

// Earlier reads aggregates from the periods before the current one, read-only
// (jetstream.Earlier). Positions in what it returns are those of the earlier stream.
type Earlier interface {
	// Load returns the aggregate's events from the latest earlier period holding it,
	// and that period's stream; none when no earlier period holds it.
	Load(ctx context.Context, aggType, aggID string) ([]domain.Recorded, string, error)
	// History is Load with the events not obeyed there marked Rejected.
	History(ctx context.Context, aggType, aggID string) ([]domain.Recorded, error)
}

// Service runs commands and answers lookups.
type Service struct {
	cfg     Config
	Dir     *Directory
	Orders  *domain.Runner[order.State]
	lanes   *domain.Runner[lane.State]
	members *domain.Runner[member.State]
	tokens  *domain.Runner[access.State]

	schedules *domain.Runner[schedule.State]
	campaigns *domain.Runner[campaign.State]
	erasures  *domain.Runner[erasure.State]

	categories *domain.Runner[category.State]

	streets     *domain.Runner[street.State]
	communities *domain.Runner[community.State]

	dummyOnce sync.Once // dummyHash
	dummy     []byte
}

// DefaultCacheBytes is Config.CacheBytes's default.
const DefaultCacheBytes = 64 << 20

func cacheBytes(n int64) int64 {
	if n == 0 {
		return DefaultCacheBytes
	}
	return max(n, 0)
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	if cfg.Rules == nil {
		r := order.DefaultRules
		cfg.Rules = &r
	}
	return &Service{
		cfg:     cfg,
		Dir:     NewDirectory(),
		Orders:  domain.NewRunner(cfg.Store, order.Aggregate, cfg.NewID, domain.WithCacheBytes(cacheBytes(cfg.CacheBytes), order.State.Size)),
		lanes:   domain.NewRunner(cfg.Store, lane.Aggregate, cfg.NewID),
		members: domain.NewRunner(cfg.Store, member.Aggregate, cfg.NewID),
		tokens:  domain.NewRunner(cfg.Store, access.Aggregate, cfg.NewID),

		schedules: domain.NewRunner(cfg.Store, schedule.Aggregate, cfg.NewID),
		campaigns: domain.NewRunner(cfg.Store, campaign.Aggregate, cfg.NewID),
		erasures:  domain.NewRunner(cfg.Store, erasure.Aggregate, cfg.NewID, domain.WithCacheSize(0)),

		categories: domain.NewRunner(cfg.Store, category.Aggregate, cfg.NewID),

		streets:     domain.NewRunner(cfg.Store, street.Aggregate, cfg.NewID),
		communities: domain.NewRunner(cfg.Store, community.Aggregate, cfg.NewID),
	}
}

// observe tells Config.Observe how a command went; deferred by every command.
func (s *Service) observe(aggregate, command string, start time.Time, err *error) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(aggregate, command, time.Since(start), *err)
	}
}

// commandName is an order command's name for metrics: "dispatch", "accept", …
func commandName(cmd order.Command) string {
	name := fmt.Sprintf("%T", cmd)
	return strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])
}

// Catalog returns the category catalogue: the configured one, with the categories
// admins defined (Directory.Categories) over it.
func (s *Service) Catalog() order.Catalog { return s.cfg.Catalog.With(s.Dir.Categories()...) }

// Now reads the service's clock.
func (s *Service) Now() time.Time { return s.cfg.Clock.Now().UTC() }

// Meta returns the metadata for a command the actor issues now.
func (s *Service) Meta(a domain.Actor, correlation string) domain.Meta {
	if correlation == "" {
		correlation = s.cfg.NewID()
	}
	return domain.Meta{Actor: a, Time: s.Now(), CorrelationID: correlation, CausationID: correlation}
}

// Admin is the actor behind the bootstrap admin token.
var Admin = domain.Actor{ID: "admin", Name: "admin", Role: domain.RoleAdmin}

// Resident is the actor behind a valid receipt.
var Resident = domain.Actor{ID: "resident", Name: "居民", Role: domain.RoleResident}

// System is the actor of deadlines and schedules.
var System = domain.Actor{ID: "system", Name: "系统", Role: domain.RoleSystem}

// HashSecret returns the hex SHA-256 digest under which a token secret is stored.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the actor a bearer secret stands for.
func (s *Service) Authenticate(secret string) (domain.Actor, error) {
	if secret == "" {
		return domain.Actor{}, domain.Refuse(domain.KindUnauthorized, domain.CodeTokenRequired, "a bearer token is required")
	}
	if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.AdminToken)) == 1 {
		return Admin, nil
	}
	t, ok := s.Dir.TokenByHash(HashSecret(secret))
	if !ok || t.Revoked {
		return domain.Actor{}, domain.Refuse(domain.KindUnauthorized, domain.CodeTokenInvalid, "the token is not valid")
	}
	return actorOf(t), nil
}

// ActorOfToken returns who the token with id stands for, while it is valid: how a page
// session (which holds the token's id, never its secret) finds its user.
func (s *Service) ActorOfToken(id string) (domain.Actor, error) {
	if id == Admin.ID && s.cfg.AdminToken != "" {
		return Admin, nil
	}
	t, ok := s.Dir.Token(id)
	if !ok || t.Revoked {
		return domain.Actor{}, domain.Refuse(domain.KindUnauthorized, domain.CodeTokenInvalid, "the token is not valid")
	}
	return actorOf(t), nil
}

func actorOf(t access.State) domain.Actor {
	return domain.Actor{ID: t.ID, Name: t.Issued.Name, Role: t.Issued.Role, Lanes: t.Issued.Lanes, Member: t.Issued.Member,
		Communities: t.Issued.Communities, Streets: t.Issued.Streets}
}

// Receipt returns the resident's receipt for an order: a keyed digest of its id, so it
// needs no storage and every process derives the same one.
func (s *Service) Receipt(orderID string) string {
	m := hmac.New(sha256.New, s.cfg.ReceiptKey)
	m.Write([]byte("receipt:" + orderID))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:15]))
}

// FindReceipt finds the order numbered number whose requester gave phone, so that a
// resident who lost their receipt gets it again: its id (the receipt is Receipt(id)).
// byNumber finds an order's id by its number (the backlog index). An unknown number and
// a wrong phone are the same refusal, so that the answer tells a guesser nothing.
func (s *Service) FindReceipt(ctx context.Context, byNumber func(string) (string, bool), number, phone string) (string, error) {
	notFound := domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no order has that number and phone")
	id, ok := byNumber(strings.ToUpper(strings.TrimSpace(number)))
	if !ok {
		return "", notFound
	}
	snap, err := s.Order(ctx, id)
	if err != nil {
		return "", notFound
	}
	who, erased, err := s.Requester(ctx, snap.State)
	if err != nil {
		return "", err
	}
	if erased || order.PhoneKey(who.Phone) == "" || order.PhoneKey(who.Phone) != order.PhoneKey(phone) {
		return "", notFound
	}
	return id, nil
}

// CheckReceipt reports whether r is the receipt of the order.
func (s *Service) CheckReceipt(orderID, r string) bool {
	// Read out over the phone, a code comes back in groups, with spaces or hyphens.
	r = strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(r))
	return r != "" && hmac.Equal([]byte(r), []byte(s.Receipt(orderID)))
}

// IssueToken issues a token and returns its id and its secret, shown only this once.
func (s *Service) IssueToken(ctx context.Context, m domain.Meta, req access.Issue) (_ string, _ string, err error) {
	defer s.observe("token", "issue", time.Now(), &err)
	if m.Actor.Role != domain.RoleAdmin {
		return "", "", domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages tokens")
	}
	return s.IssueTokenAs(ctx, m, s.cfg.NewID(), req)
}

// IssueTokenAs is IssueToken with the token's id chosen by the caller: a form sent twice
// under one id makes one token (the second is refused as token.exists), so a page
// reloaded after issuing cannot issue a second secret nobody has seen.
func (s *Service) IssueTokenAs(ctx context.Context, m domain.Meta, id string, req access.Issue) (_ string, _ string, err error) {
	if m.Actor.Role != domain.RoleAdmin {
		return "", "", domain.Refuse(domain.KindForbidden, domain.CodeAdminOnly, "only an admin manages tokens")
	}
	if !domain.ValidID(id) {
		return "", "", domain.Invalid("id", domain.IDRule)
	}
	secret := "rl_" + strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "")
	return s.issue(ctx, m, id, req, secret)
}

// issue records a token with id whose secret is secret, after the checks of the lanes
// and member it is bound to.
func (s *Service) issue(ctx context.Context, m domain.Meta, id string, req access.Issue, secret string) (string, string, error) {
	var v domain.Validator
	for i, l := range req.Lanes {
		_, ok := s.Dir.Lane(l)
		v.Check(ok, fmt.Sprintf("lanes[%d]", i), "no such lane: "+l)
	}
	if req.Member != "" {
		_, ok := s.Dir.Member(req.Member)
		v.Check(ok, "member", "no such member: "+req.Member)
	}
	for i, c := range req.Communities {
		_, ok := s.Dir.Community(c)
		v.Check(ok, fmt.Sprintf("communities[%d]", i), "no such community: "+c)
	}
	for i, st := range req.Streets {
		_, ok := s.Dir.Street(st)
		v.Check(ok, fmt.Sprintf("streets[%d]", i), "no such street: "+st)
	}
	if err := v.Err(); err != nil {
		return "", "", err
	}
	req.Hash = HashSecret(secret)
	_, recs, err := s.tokens.Execute(ctx, id, m, func(snap domain.Snapshot[access.State]) ([]domain.Event, error) {
		return access.Decide(snap.State, req, access.Env{Actor: m.Actor, Exists: snap.Exists()})
	})
	if err != nil {
		return "", "", err
	}
	return id, secret, s.applyAll(recs)
}

// RevokeToken revokes a token at once.
func (s *Service) RevokeToken(ctx context.Context, m domain.Meta, id string) (err error) {
	defer s.observe("token", "revoke", time.Now(), &err)
	if !domain.ValidID(id) {
		return domain.Refuse(domain.KindNotFound, domain.CodeTokenNotFound, "no such token")
	}
	_, recs, err := s.tokens.Execute(ctx, id, m, func(snap domain.Snapshot[access.State]) ([]domain.Event, error) {
		return access.Decide(snap.State, access.Revoke{}, access.Env{Actor: m.Actor, Exists: snap.Exists()})
	})
	if err != nil {
		return err
	}
	return s.applyAll(recs)
}

// RegisterLane registers a lane.
func (s *Service) RegisterLane(ctx context.Context, m domain.Meta, id string, cmd lane.Register) (_ lane.State, err error) {
	defer s.observe("lane", "register", time.Now(), &err)
	if !domain.ValidID(id) {
		return lane.State{}, domain.Invalid("id", domain.IDRule)
	}
	snap, recs, err := s.lanes.Execute(ctx, id, m, func(snap domain.Snapshot[lane.State]) ([]domain.Event, error) {
		return lane.Decide(snap.State, cmd, lane.Env{Actor: m.Actor, Exists: snap.Exists(), CommunityStreet: s.communityStreet(cmd.Community)})
	})
	if err != nil {
		return lane.State{}, err
	}
	return snap.State, s.applyAll(recs)
}

// DefineCategory defines the category with code, or changes it, and returns it as the
// catalogue now holds it.
func (s *Service) DefineCategory(ctx context.Context, m domain.Meta, code string, cmd category.Define) (_ order.Category, err error) {
	defer s.observe("category", "define", time.Now(), &err)
	if !domain.ValidID(code) {
		return order.Category{}, domain.Invalid("code", domain.IDRule)
	}
	_, recs, err := s.categories.Execute(ctx, code, m, func(snap domain.Snapshot[category.State]) ([]domain.Event, error) {
		return category.Decide(snap.State, cmd, category.Env{Actor: m.Actor, Code: code, Catalog: s.Catalog()})
	})
	if err == nil {
		err = s.applyAll(recs)
	}
	if err != nil {
		return order.Category{}, err
	}
	c, _ := s.Catalog().Lookup(code)
	return c, nil
}

func (s *Service) applyAll(recs []domain.Recorded) error {
	for _, r := range recs {
		if err := s.Dir.Apply(r); err != nil {
			return err
		}
	}
	return nil
}

// SubmitRequest is a request to place an order.
type SubmitRequest struct {
	order.Submit
	LaneID string
	// IdempotencyKey, when set, makes a retried submit return the first order.
	IdempotencyKey string
	// IdempotencyScope is whose keys IdempotencyKey is among: the caller's token id, or
	// for an anonymous resident their address. Nobody can take another caller's key
	// (a hotline's predictable one, say) and make its request fail.
	IdempotencyScope string
	// Fingerprint identifies the request's content, so that a key reused for another
	// request is refused rather than answered with the wrong order.
	Fingerprint string
}

// idempotencySpace namespaces order ids derived from idempotency keys.
var idempotencySpace = uuid.MustParse("6f1c3f0e-5b8a-4d53-9a38-2f1d8f9c7a41")

// Submit places an order and returns it. With an idempotency key, a retry returns the
// order the first attempt made, and created is false.
func (s *Service) Submit(ctx context.Context, m domain.Meta, req SubmitRequest) (snap domain.Snapshot[order.State], created bool, err error) {
	defer s.observe("order", "submit", time.Now(), &err)
	l, ok := s.Dir.Lane(req.LaneID)
	if req.LaneID != "" && !ok {
		return snap, false, domain.Invalid("lane", "no such lane: "+req.LaneID)
	}
	req.Lane = order.LaneRef{ID: l.ID, Community: l.Community, Street: l.Street}
	id := s.cfg.NewID()
	if req.IdempotencyKey != "" {
		scoped := req.IdempotencyScope + "\x00" + req.IdempotencyKey
		id = uuid.NewSHA1(idempotencySpace, []byte(scoped)).String()
		// Keyed, because the fingerprint covers the requester's phone.
		mac := hmac.New(sha256.New, s.cfg.ReceiptKey)
		mac.Write([]byte("idempotency:" + scoped + "\x00" + req.Fingerprint))
		req.Idempotency = hex.EncodeToString(mac.Sum(nil))
	}
	req.Number = s.number(id)
	if req.Theme == "" {
		req.Theme = s.themeFor(l.Community, req.Category, m.Time)
	}
	env := order.Env{Actor: m.Actor, Now: m.Time, Catalog: s.Catalog(), Rules: *s.cfg.Rules}
	execute := s.Orders.Execute
	if req.IdempotencyKey == "" {
		execute = s.Orders.ExecuteNew // a fresh UUIDv7: nothing to read first
	}
	snap, recs, err := execute(ctx, id, m, func(snap domain.Snapshot[order.State]) ([]domain.Event, error) {
		if snap.Exists() && req.Idempotency != "" {
			if snap.State.Idempotency != req.Idempotency {
				return nil, domain.Refuse(domain.KindConflict, domain.CodeIdempotencyReused, "this Idempotency-Key was already used for a different request")
			}
			return nil, nil // the retry of a submit that went through
		}
		if req.Idempotency != "" {
			// A retry of a submit whose order a roll left behind: not a new order.
			if err := s.refuseEarlier(ctx, id); err != nil {
				return nil, err
			}
		}
		events, err := order.Decide(snap.State, req.Submit, env)
		if err != nil {
			return nil, err
		}
		return s.sealEvents(ctx, events)
	})
	return snap, len(recs) > 0, err
}

// number makes the order's human number from the local date and its id.
func (s *Service) number(id string) string {
	sum := sha256.Sum256([]byte(id))
	code := base32.StdEncoding.EncodeToString(sum[:5])[:6]
	return s.Now().In(s.cfg.Loc).Format("20060102") + "-" + code
}

// Act runs an order command on behalf of the actor. ifMatch, when not zero, is the
// version the caller saw: the command is refused if the order has moved on.
func (s *Service) Act(ctx context.Context, m domain.Meta, id string, cmd order.Command, ifMatch uint64) (_ domain.Snapshot[order.State], err error) {
	defer s.observe("order", commandName(cmd), time.Now(), &err)
	if !domain.ValidID(id) {
		return domain.Snapshot[order.State]{}, domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no such order")
	}
	cmd, err = s.resolve(m.Actor, cmd)
	if err != nil {
		return domain.Snapshot[order.State]{}, err
	}
	env := order.Env{Actor: m.Actor, Now: m.Time, Catalog: s.Catalog(), Rules: *s.cfg.Rules}
	snap, _, err := s.Orders.Execute(ctx, id, m, func(snap domain.Snapshot[order.State]) ([]domain.Event, error) {
		if ifMatch != 0 && snap.Exists() && snap.Version != ifMatch {
			return nil, domain.Refuse(domain.KindConflict, domain.CodeVersionMismatch, "the order is at version %d, not %d: reload it", snap.Version, ifMatch)
		}
		if !snap.Exists() {
			if err := s.refuseEarlier(ctx, id); err != nil {
				return nil, err
			}
		}
		events, err := order.Decide(snap.State, cmd, env)
		if err != nil {
			return nil, err
		}
		return s.redactActs(ctx, snap.State, events)
	})
	return snap, err
}

// refuseEarlier refuses a command on an order that the current period does not hold but
// an earlier one does: it was left behind by a roll and is read-only. Its history goes
// on nowhere: appending to the current stream at a position of the old one would conflict
// for ever, and from nothing would start a second history.
func (s *Service) refuseEarlier(ctx context.Context, id string) error {
	if s.cfg.Earlier == nil {
		return nil
	}
	recs, stream, err := s.cfg.Earlier.Load(ctx, order.AggregateType, id)
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		return domain.Refuse(domain.KindConflict, domain.CodeInEarlierPeriod,
			"the order was left behind in the earlier period %s: it can be read, not acted on", stream)
	}
	return nil
}

// resolve fills in what a command names from the directory.
func (s *Service) resolve(a domain.Actor, cmd order.Command) (order.Command, error) {
	ref := func(id string) (order.MemberRef, error) {
		if id == "" {
			return order.MemberRef{}, nil // the domain names the missing field
		}
		mem, ok := s.Dir.Member(id)
		if !ok {
			return order.MemberRef{}, domain.Invalid("member", "no such member: "+id)
		}
		return order.MemberRef{ID: mem.ID, Community: mem.Community, Active: mem.Active}, nil
	}
	var err error
	switch c := cmd.(type) {
	case order.Dispatch:
		c.Member, err = ref(c.Member.ID)
		return c, err
	case order.Reassign:
		c.Member, err = ref(c.Member.ID)
		return c, err
	case order.Claim:
		if a.Role == domain.RoleMember {
			c.Member, err = ref(a.Member)
			if err != nil {
				return c, domain.Refuse(domain.KindForbidden, domain.CodeMemberGone, "this token's member no longer exists")
			}
		}
		return c, nil
	}
	return cmd, nil
}

// Order returns an order's current state.
func (s *Service) Order(ctx context.Context, id string) (domain.Snapshot[order.State], error) {
	snap, _, err := s.OrderFrom(ctx, id)
	return snap, err
}

// OrderFrom is Order, and the earlier period's stream when the order was left behind
// there by a roll ("" when the current period holds it): such an order is read-only.
func (s *Service) OrderFrom(ctx context.Context, id string) (snap domain.Snapshot[order.State], earlier string, err error) {
	if !domain.ValidID(id) {
		return snap, "", domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no such order")
	}
	snap, err = s.Orders.Load(ctx, id)
	if err == nil && !snap.Exists() && s.cfg.Earlier != nil {
		// Left behind by a roll, perhaps: folded, not kept (the runner's cache holds
		// the current period's orders only, which commands start from).
		var recs []domain.Recorded
		if recs, earlier, err = s.cfg.Earlier.Load(ctx, order.AggregateType, id); err == nil {
			snap, err = s.Orders.Fold(domain.Snapshot[order.State]{ID: id}, recs)
		}
	}
	if err == nil && !snap.Exists() {
		err = domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no such order")
	}
	if err != nil {
		earlier = ""
	}
	return snap, earlier, err
}

// History returns an order's stored events, oldest first. When the store can tell, the
// events it does not obey (not signed by Redlane) are there too, marked Rejected, for
// an audit to show as what they are; nothing may act on those. An order the current
// period does not hold is looked for in the earlier ones (Config.Earlier).
func (s *Service) History(ctx context.Context, id string) ([]domain.Recorded, error) {
	var recs []domain.Recorded
	var err error
	if h, ok := s.cfg.Store.(interface {
		History(ctx context.Context, aggType, aggID string) ([]domain.Recorded, error)
	}); ok {
		recs, err = h.History(ctx, order.AggregateType, id)
	} else {
		recs, err = s.cfg.Store.Load(ctx, order.AggregateType, id, 0)
	}
	if err == nil && len(recs) == 0 && s.cfg.Earlier != nil {
		return s.cfg.Earlier.History(ctx, order.AggregateType, id)
	}
	return recs, err
}
