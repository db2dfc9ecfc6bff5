package order_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// t0 is when the order in most tests was submitted; nothing here reads the clock.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// shanghai is UTC+8 without needing the time zone database.
var shanghai = time.FixedZone("CST", 8*60*60)

// defaultNow is when a command is decided unless a case says otherwise: well inside every
// deadline of a normal order submitted at t0.
var defaultNow = t0.Add(time.Hour)

var catalog = order.DefaultCatalog()

var lane1 = order.LaneRef{ID: "lane-1", Community: "comm-1", Street: "street-1"}

// The actors. Member m-1 is the one the order is dispatched to in the standard histories.
var (
	laneSteward   = domain.Actor{ID: "tok-steward", Name: "王管家", Role: domain.RoleSteward, Lanes: []string{"lane-1"}}
	coSteward     = domain.Actor{ID: "tok-steward-b", Name: "李管家", Role: domain.RoleSteward, Lanes: []string{"lane-9", "lane-1"}}
	otherSteward  = domain.Actor{ID: "tok-steward-2", Role: domain.RoleSteward, Lanes: []string{"lane-2"}}
	member1       = domain.Actor{ID: "tok-m1", Name: "刘党员", Role: domain.RoleMember, Member: "m-1"}
	member2       = domain.Actor{ID: "tok-m2", Role: domain.RoleMember, Member: "m-2"}
	foreignMember = domain.Actor{ID: "tok-mx", Role: domain.RoleMember, Member: "m-x"}
	unboundMember = domain.Actor{ID: "tok-m0", Role: domain.RoleMember}
	resident      = domain.Actor{ID: "resident", Role: domain.RoleResident}
	operator      = domain.Actor{ID: "tok-op", Role: domain.RoleOperator}
	auditor       = domain.Actor{ID: "tok-audit", Role: domain.RoleAuditor}
	admin         = domain.Actor{ID: "tok-admin", Role: domain.RoleAdmin}
	system        = domain.Actor{ID: "system", Role: domain.RoleSystem}
	// The offices: community staff of the order's community (comm-1) and of another,
	// street staff of its street (street-1) and of another.
	community1 = domain.Actor{ID: "tok-c1", Name: "塔苑社区", Role: domain.RoleCommunity, Communities: []string{"comm-9", "comm-1"}}
	community2 = domain.Actor{ID: "tok-c2", Role: domain.RoleCommunity, Communities: []string{"comm-2"}}
	street1    = domain.Actor{ID: "tok-s1", Name: "东城街道", Role: domain.RoleStreet, Streets: []string{"street-1"}}
	street2    = domain.Actor{ID: "tok-s2", Role: domain.RoleStreet, Streets: []string{"street-2"}}
)

// Members as the order sees them.
var (
	ref1       = order.MemberRef{ID: "m-1", Community: "comm-1", Active: true}
	ref2       = order.MemberRef{ID: "m-2", Community: "comm-1", Active: true}
	refForeign = order.MemberRef{ID: "m-x", Community: "comm-2", Active: true}
	refRetired = order.MemberRef{ID: "m-3", Community: "comm-1", Active: false}
)

func refOf(a domain.Actor) order.MemberRef {
	switch a.Member {
	case "m-1":
		return ref1
	case "m-x":
		return refForeign
	default:
		return ref2
	}
}

// submitted is the standard submission at t0, a normal repair, changed by changes.
func submitted(changes ...func(*order.Submitted)) order.Submitted {
	s := order.Submitted{
		Number: "R-20250301-0001", Lane: "lane-1", Community: "comm-1", Street: "street-1",
		Category: "repair", Title: "厨房水管漏水", Description: "楼下也在渗水",
		Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
		Mode:      order.ModeInstant, Channel: order.ChannelWeb, Priority: order.PriorityNormal,
		AcceptBy: t0.Add(24 * time.Hour), CompleteBy: t0.Add(72 * time.Hour),
	}
	for _, c := range changes {
		c(&s)
	}
	return s
}

// urgentMedical makes a submission an urgent medical one, with its 15-minute and 2-hour
// deadlines.
func urgentMedical(s *order.Submitted) {
	s.Category, s.Priority = "medical", order.PriorityUrgent
	s.AcceptBy, s.CompleteBy = t0.Add(15*time.Minute), t0.Add(2*time.Hour)
}

// Facts of the standard histories.
var (
	dispatched1 = order.Dispatched{Member: "m-1"}
	accepted1   = order.Accepted{Member: "m-1", OnTime: true}
	completed1  = order.Completed{Member: "m-1", Note: "换了阀门", Minutes: 45, OnTime: true}
	closedOK    = order.Rated{Member: "m-1", Solved: true, Stars: 5}
	cancelled   = order.Cancelled{Reason: "居民撤回"}
	declined1   = order.Declined{Member: "m-1", Reason: "不在本地"}
)

// statuses lists every status, none first.
var statuses = []order.Status{
	order.StatusNone, order.StatusOpen, order.StatusDispatched, order.StatusAccepted,
	order.StatusCompleted, order.StatusClosed, order.StatusCancelled,
}

// history returns the standard events that bring an order to st. From dispatched on
// (cancelled included) the order is with member m-1.
func history(st order.Status) []domain.Event {
	switch st {
	case order.StatusOpen:
		return []domain.Event{submitted()}
	case order.StatusDispatched:
		return []domain.Event{submitted(), dispatched1}
	case order.StatusAccepted:
		return []domain.Event{submitted(), dispatched1, accepted1}
	case order.StatusCompleted:
		return []domain.Event{submitted(), dispatched1, accepted1, completed1}
	case order.StatusClosed:
		return []domain.Event{submitted(), dispatched1, accepted1, completed1, closedOK}
	case order.StatusCancelled:
		return []domain.Event{submitted(), dispatched1, cancelled}
	}
	return nil
}

func statusName(st order.Status) string {
	if st == order.StatusNone {
		return "none"
	}
	return string(st)
}

// given folds events into an order's state the way the runner does: each is sealed into
// an envelope one minute after the one before it (the first at t0), encoded as JSON,
// decoded through order.Events and applied with order.Evolve.
func given(tb testing.TB, events ...domain.Event) order.State {
	tb.Helper()
	var s order.State
	for i, ev := range events {
		s = applyAt(tb, s, uint64(i), ev, t0.Add(time.Duration(i)*time.Minute))
	}
	return s
}

// applyAt applies ev, stored at time at as the aggregate's event version+1.
func applyAt(tb testing.TB, s order.State, version uint64, ev domain.Event, at time.Time) order.State {
	tb.Helper()
	env := sealed(tb, version, ev, at)
	decoded, err := order.Events.Decode(env)
	if err != nil {
		tb.Fatalf("decode %s: %v", env.Type, err)
	}
	return order.Evolve(s, decoded, env)
}

// sealed returns ev as a stored envelope after a trip through JSON.
func sealed(tb testing.TB, version uint64, ev domain.Event, at time.Time) domain.Envelope {
	tb.Helper()
	envs, err := domain.Seal(order.AggregateType, "o-1", version, []domain.Event{ev},
		[]string{fmt.Sprintf("ev-%d", version+1)}, domain.Meta{Actor: laneSteward, Time: at, CorrelationID: "corr"})
	if err != nil {
		tb.Fatalf("seal %T: %v", ev, err)
	}
	b, err := json.Marshal(envs[0])
	if err != nil {
		tb.Fatalf("encode %T: %v", ev, err)
	}
	env, err := domain.DecodeEnvelope(b)
	if err != nil {
		tb.Fatalf("decode envelope %s: %v", b, err)
	}
	return env
}

// outcome is what a command should come to: events (none is fine), or a refusal of one
// kind; for invalid input, the fields at fault.
type outcome struct {
	refused bool
	kind    domain.Kind
	fields  []string
	events  []domain.Event
}

func yields(evs ...domain.Event) outcome { return outcome{events: evs} }
func nothing() outcome                   { return outcome{} }
func refused(k domain.Kind) outcome      { return outcome{refused: true, kind: k} }
func invalid(fields ...string) outcome {
	return outcome{refused: true, kind: domain.KindInvalid, fields: fields}
}

// String names the outcome, for subtest names.
func (o outcome) String() string {
	switch {
	case o.refused && o.kind == domain.KindInvalid:
		return "invalid " + strings.Join(o.fields, " ")
	case o.refused:
		return "refused " + o.kind.String()
	case len(o.events) == 0:
		return "yields nothing"
	}
	names := make([]string, len(o.events))
	for i, ev := range o.events {
		names[i] = strings.TrimPrefix(fmt.Sprintf("%T", ev), "order.")
	}
	return "yields " + strings.Join(names, " ")
}

// checkOutcome fails unless a decision (got, err) is want. A refused command must yield
// no events.
func checkOutcome(tb testing.TB, got []domain.Event, err error, want outcome) {
	tb.Helper()
	if want.refused {
		if err == nil {
			tb.Fatalf("decided %#v, want it refused: %v", got, want)
		}
		if len(got) != 0 {
			tb.Errorf("a refused command yielded %d events: %#v", len(got), got)
		}
		var de *domain.Error
		if !errors.As(err, &de) {
			tb.Fatalf("error %q is not a *domain.Error", err)
		}
		if k := domain.KindOf(err); k != want.kind {
			tb.Fatalf("refused as %v (%v), want %v", k, err, want.kind)
		}
		if de.Message == "" {
			tb.Errorf("error has no message")
		}
		if want.kind == domain.KindInvalid {
			if got, want := fieldNames(de), sortedUnique(want.fields); !slices.Equal(got, want) {
				tb.Errorf("fields at fault = %v, want %v (%v)", got, want, err)
			}
		}
		return
	}
	if err != nil {
		tb.Fatalf("refused as %v: %v; want %v", domain.KindOf(err), err, want)
	}
	if len(want.events) == 0 {
		if len(got) != 0 {
			tb.Fatalf("decided %#v, want no events", got)
		}
		return
	}
	if !reflect.DeepEqual(got, want.events) {
		tb.Fatalf("decided\n%#v\nwant\n%#v", got, want.events)
	}
}

func fieldNames(e *domain.Error) []string {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		if f.Message == "" {
			names[i] = f.Field + " (without a message)"
			continue
		}
		names[i] = f.Field
	}
	return sortedUnique(names)
}

func sortedUnique(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// scenario is one row of a Decide table: given these events, this command by this actor
// at this time, want this outcome; then, optionally, a check of the state the yielded
// events make.
type scenario struct {
	name  string
	given []domain.Event
	cmd   order.Command
	by    domain.Actor
	now   time.Time // zero: defaultNow
	want  outcome
	then  func(tb testing.TB, s order.State)
}

func runScenarios(t *testing.T, tests []scenario) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = defaultNow
			}
			s := given(t, tt.given...)
			before := s
			got, err := order.Decide(s, tt.cmd, order.Env{Actor: tt.by, Now: now, Catalog: catalog})
			checkOutcome(t, got, err, tt.want)
			if !reflect.DeepEqual(s, before) {
				t.Errorf("Decide changed the state it was given")
			}
			if tt.then == nil {
				return
			}
			for i, ev := range got {
				s = applyAt(t, s, uint64(len(tt.given)+i), ev, now)
			}
			tt.then(t, s)
		})
	}
}

// Checks of a state, for scenario.then.

func wantStatus(st order.Status) func(testing.TB, order.State) {
	return func(tb testing.TB, s order.State) {
		tb.Helper()
		if s.Status != st {
			tb.Errorf("status = %q, want %q", s.Status, st)
		}
	}
}

func all(checks ...func(testing.TB, order.State)) func(testing.TB, order.State) {
	return func(tb testing.TB, s order.State) {
		tb.Helper()
		for _, c := range checks {
			c(tb, s)
		}
	}
}

func wantAssignee(m string) func(testing.TB, order.State) {
	return func(tb testing.TB, s order.State) {
		tb.Helper()
		if s.Assignee != m {
			tb.Errorf("assignee = %q, want %q", s.Assignee, m)
		}
	}
}

func wantDeadlines(acceptBy, completeBy time.Time) func(testing.TB, order.State) {
	return func(tb testing.TB, s order.State) {
		tb.Helper()
		if !s.AcceptBy.Equal(acceptBy) || !s.CompleteBy.Equal(completeBy) {
			tb.Errorf("deadlines = %v, %v; want %v, %v", s.AcceptBy, s.CompleteBy, acceptBy, completeBy)
		}
	}
}

func wantOverdueOn(ds ...order.DeadlineKind) func(testing.TB, order.State) {
	return func(tb testing.TB, s order.State) {
		tb.Helper()
		if !slices.Equal(s.OverdueOn, ds) {
			tb.Errorf("overdue on %v, want %v", s.OverdueOn, ds)
		}
		if s.Overdue() != (len(ds) > 0) {
			tb.Errorf("Overdue() = %v, want %v", s.Overdue(), len(ds) > 0)
		}
	}
}

func wantDeclines(n int) func(testing.TB, order.State) {
	return func(tb testing.TB, s order.State) {
		tb.Helper()
		if s.Declines != n {
			tb.Errorf("declines = %d, want %d", s.Declines, n)
		}
	}
}

func wantEscalation(l order.Level) func(testing.TB, order.State) {
	return func(tb testing.TB, s order.State) {
		tb.Helper()
		if s.Escalation != l {
			tb.Errorf("escalation = %q, want %q", s.Escalation, l)
		}
	}
}

func ptr[T any](v T) *T { return &v }
