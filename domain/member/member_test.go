package member_test

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
	"github.com/redlane/redlane/domain/member"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	admin = domain.Actor{ID: "tok-admin", Role: domain.RoleAdmin}
)

var nonAdmins = []domain.Role{domain.RoleSteward, domain.RoleMember, domain.RoleOperator, domain.RoleAuditor,
	domain.RoleResident, domain.RoleSystem, ""}

var liu = member.Registered{Name: "刘党员", Community: "tayuan", Skills: []string{"repair", "electrical"}, Teams: []string{"红色方舟"}}

// given folds events into a member's state through JSON, as the runner does, and reports
// whether the member exists.
func given(tb testing.TB, events ...domain.Event) (member.State, bool) {
	tb.Helper()
	var s member.State
	for i, ev := range events {
		envs, err := domain.Seal(member.AggregateType, "m-1", uint64(i), []domain.Event{ev}, []string{fmt.Sprint("e", i)},
			domain.Meta{Actor: admin, Time: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			tb.Fatal(err)
		}
		b, err := json.Marshal(envs[0])
		if err != nil {
			tb.Fatal(err)
		}
		env, err := domain.DecodeEnvelope(b)
		if err != nil {
			tb.Fatal(err)
		}
		decoded, err := member.Events.Decode(env)
		if err != nil {
			tb.Fatal(err)
		}
		s = member.Evolve(s, decoded, env)
	}
	return s, len(events) > 0
}

type outcome struct {
	refused bool
	kind    domain.Kind
	fields  []string
	events  []domain.Event
}

func yields(evs ...domain.Event) outcome { return outcome{events: evs} }
func refused(k domain.Kind) outcome      { return outcome{refused: true, kind: k} }
func invalid(fields ...string) outcome {
	return outcome{refused: true, kind: domain.KindInvalid, fields: fields}
}

func checkOutcome(tb testing.TB, got []domain.Event, err error, want outcome) {
	tb.Helper()
	if want.refused {
		if err == nil {
			tb.Fatalf("decided %#v, want it refused %v", got, want.kind)
		}
		if len(got) != 0 {
			tb.Errorf("a refused command yielded %#v", got)
		}
		if k := domain.KindOf(err); k != want.kind {
			tb.Fatalf("refused as %v (%v), want %v", k, err, want.kind)
		}
		var de *domain.Error
		if !errors.As(err, &de) {
			tb.Fatalf("error %v is not a *domain.Error", err)
		}
		var fields []string
		for _, f := range de.Fields {
			fields = append(fields, f.Field)
		}
		if !slices.Equal(fields, want.fields) {
			tb.Errorf("fields at fault = %v, want %v", fields, want.fields)
		}
		return
	}
	if err != nil {
		tb.Fatalf("refused as %v: %v", domain.KindOf(err), err)
	}
	if len(got) != len(want.events) || (len(got) > 0 && !reflect.DeepEqual(got, want.events)) {
		tb.Fatalf("decided %#v, want %#v", got, want.events)
	}
}

func words(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

type memberCase struct {
	name  string
	given []domain.Event
	cmd   member.Command
	by    domain.Actor
	want  outcome
	after *member.State // the state the yielded events make, when checked
}

func TestDecide(t *testing.T) {
	retired := []domain.Event{liu, member.Retired{Reason: "搬家"}}
	tests := []memberCase{
		{
			name: "admin registering a member yields Registered with skills and teams tidied",
			cmd: member.Register{Name: " 刘党员 ", Community: "tayuan",
				Skills: []string{" repair", "electrical", "", "repair "}, Teams: []string{"红色方舟", " ", "红色方舟"}},
			by: admin, want: yields(liu),
			after: &member.State{ID: "m-1", Profile: member.Profile(liu), Active: true},
		},
		{
			name: "member without skills or teams yields Registered with empty lists",
			cmd:  member.Register{Name: "陈", Community: "yingchun"}, by: admin,
			want: yields(member.Registered{Name: "陈", Community: "yingchun", Skills: []string{}, Teams: []string{}}),
		},
		{
			name: "twenty skills and teams yield Registered",
			cmd:  member.Register{Name: "n", Community: "c", Skills: words("s", 20), Teams: words("t", 20)}, by: admin,
			want: yields(member.Registered{Name: "n", Community: "c", Skills: words("s", 20), Teams: words("t", 20)}),
		},
		{
			name: "twenty-one copies of one skill yield Registered with it once",
			cmd:  member.Register{Name: "n", Community: "c", Skills: slices.Repeat([]string{"legal"}, 21)}, by: admin,
			want: yields(member.Registered{Name: "n", Community: "c", Skills: []string{"legal"}, Teams: []string{}}),
		},
		{name: "twenty-one skills is invalid skills", cmd: member.Register{Name: "n", Community: "c", Skills: words("s", 21)}, by: admin, want: invalid("skills")},
		{name: "twenty-one teams is invalid teams", cmd: member.Register{Name: "n", Community: "c", Teams: words("t", 21)}, by: admin, want: invalid("teams")},
		{name: "missing name is invalid name", cmd: member.Register{Community: "c"}, by: admin, want: invalid("name")},
		{name: "blank name is invalid name", cmd: member.Register{Name: "\n", Community: "c"}, by: admin, want: invalid("name")},
		{name: "community that is no id is invalid community", cmd: member.Register{Name: "n", Community: "塔苑"}, by: admin, want: invalid("community")},
		{name: "community of 65 characters is invalid community", cmd: member.Register{Name: "n", Community: strings.Repeat("c", 65)}, by: admin, want: invalid("community")},
		{
			name: "every fault at once is invalid name community skills and teams",
			cmd:  member.Register{Skills: words("s", 21), Teams: words("t", 21)}, by: admin,
			want: invalid("name", "community", "skills", "teams"),
		},
		{
			name: "a phone written as people write it yields Registered with it normalised",
			cmd:  member.Register{Name: "陈", Community: "c", Phone: "+86 138 0000 1111"}, by: admin,
			want: yields(member.Registered{Name: "陈", Community: "c", Skills: []string{}, Teams: []string{}, Phone: "13800001111"}),
		},
		{name: "a phone that is no number is invalid phone", cmd: member.Register{Name: "n", Community: "c", Phone: "call me"}, by: admin, want: invalid("phone")},
		{name: "a phone too short is invalid phone", cmd: member.Update{Name: "n", Community: "c", Phone: "1234"}, given: []domain.Event{liu}, by: admin, want: invalid("phone")},
		{
			name: "update of the phone alone yields Updated", given: []domain.Event{liu},
			cmd: member.Update{Name: "刘党员", Community: "tayuan", Skills: liu.Skills, Teams: liu.Teams, Phone: "13800001111"}, by: admin,
			want: yields(member.Updated{Name: "刘党员", Community: "tayuan", Skills: liu.Skills, Teams: liu.Teams, Phone: "13800001111"}),
		},
		{name: "registering a member twice is refused conflict", given: []domain.Event{liu}, cmd: member.Register(liu), by: admin, want: refused(domain.KindConflict)},
		{name: "registering a retired member again is refused conflict", given: retired, cmd: member.Register(liu), by: admin, want: refused(domain.KindConflict)},
		{
			name: "update of skills yields Updated", given: []domain.Event{liu},
			cmd: member.Update{Name: "刘党员", Community: "tayuan", Skills: []string{"repair", "fire safety"}, Teams: []string{"红色方舟"}}, by: admin,
			want: yields(member.Updated{Name: "刘党员", Community: "tayuan", Skills: []string{"repair", "fire safety"}, Teams: []string{"红色方舟"}}),
			after: &member.State{ID: "m-1", Active: true,
				Profile: member.Profile{Name: "刘党员", Community: "tayuan", Skills: []string{"repair", "fire safety"}, Teams: []string{"红色方舟"}}},
		},
		{
			name: "update moving to another community yields Updated", given: []domain.Event{liu},
			cmd: member.Update{Name: "刘党员", Community: "yingchun", Skills: liu.Skills, Teams: liu.Teams}, by: admin,
			want: yields(member.Updated{Name: "刘党员", Community: "yingchun", Skills: liu.Skills, Teams: liu.Teams}),
		},
		{
			name: "update with skills in another order yields Updated", given: []domain.Event{liu},
			cmd: member.Update{Name: "刘党员", Community: "tayuan", Skills: []string{"electrical", "repair"}, Teams: liu.Teams}, by: admin,
			want: yields(member.Updated{Name: "刘党员", Community: "tayuan", Skills: []string{"electrical", "repair"}, Teams: liu.Teams}),
		},
		{name: "update changing nothing yields nothing", given: []domain.Event{liu}, cmd: member.Update(liu), by: admin, want: yields()},
		{
			name: "update changing only spaces and repeats yields nothing", given: []domain.Event{liu},
			cmd: member.Update{Name: "刘党员 ", Community: "tayuan", Skills: []string{"repair", " electrical", "repair"}, Teams: []string{"红色方舟", ""}},
			by:  admin, want: yields(),
		},
		{
			name:  "update of a member with no skills to no skills yields nothing",
			given: []domain.Event{member.Registered{Name: "陈", Community: "c", Skills: []string{}, Teams: []string{}}},
			cmd:   member.Update{Name: "陈", Community: "c"}, by: admin, want: yields(),
		},
		{
			name: "update of a retired member yields Updated and keeps them retired", given: retired,
			cmd: member.Update{Name: "刘党员", Community: "yingchun", Skills: liu.Skills, Teams: liu.Teams}, by: admin,
			want:  yields(member.Updated{Name: "刘党员", Community: "yingchun", Skills: liu.Skills, Teams: liu.Teams}),
			after: &member.State{ID: "m-1", Active: false, Profile: member.Profile{Name: "刘党员", Community: "yingchun", Skills: liu.Skills, Teams: liu.Teams}},
		},
		{name: "update of a missing member is refused not found", cmd: member.Update(liu), by: admin, want: refused(domain.KindNotFound)},
		{name: "update with no name is invalid name", given: []domain.Event{liu}, cmd: member.Update{Community: "tayuan"}, by: admin, want: invalid("name")},
		{
			name: "retiring an active member yields Retired with the reason trimmed", given: []domain.Event{liu},
			cmd: member.Retire{Reason: " 搬家 "}, by: admin, want: yields(member.Retired{Reason: "搬家"}),
			after: &member.State{ID: "m-1", Profile: member.Profile(liu), Active: false},
		},
		{
			name: "retiring without a reason yields Retired", given: []domain.Event{liu},
			cmd: member.Retire{}, by: admin, want: yields(member.Retired{}),
		},
		{name: "retiring a retired member yields nothing", given: retired, cmd: member.Retire{Reason: "again"}, by: admin, want: yields()},
		{name: "retiring a missing member is refused not found", cmd: member.Retire{}, by: admin, want: refused(domain.KindNotFound)},
		{name: "nil command is refused internal", cmd: nil, by: admin, want: refused(domain.KindInternal)},
	}
	for _, role := range nonAdmins {
		by := domain.Actor{ID: "tok-x", Role: role, Member: "m-1"}
		tests = append(tests,
			memberCase{name: fmt.Sprintf("register by role %q is refused forbidden", role), cmd: member.Register(liu), by: by, want: refused(domain.KindForbidden)},
			memberCase{name: fmt.Sprintf("update by role %q is refused forbidden", role), given: []domain.Event{liu},
				cmd: member.Update{Name: "x", Community: "c"}, by: by, want: refused(domain.KindForbidden)},
			memberCase{name: fmt.Sprintf("retire by role %q is refused forbidden", role), given: []domain.Event{liu},
				cmd: member.Retire{Reason: "x"}, by: by, want: refused(domain.KindForbidden)},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, exists := given(t, tt.given...)
			got, err := member.Decide(s, tt.cmd, member.Env{Actor: tt.by, Exists: exists})
			checkOutcome(t, got, err, tt.want)
			if tt.after != nil {
				after, _ := given(t, append(slices.Clone(tt.given), got...)...)
				if !reflect.DeepEqual(after, *tt.after) {
					t.Errorf("state after = %+v, want %+v", after, *tt.after)
				}
			}
		})
	}
}

func TestEventsRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		event domain.Event
		json  string
	}{
		{"Registered", liu, `{"name":"刘党员","community":"tayuan","skills":["repair","electrical"],"teams":["红色方舟"]}`},
		{"Updated", member.Updated{Name: "n", Community: "c", Skills: []string{}, Teams: []string{}}, `{"name":"n","community":"c","skills":[],"teams":[]}`},
		{"Retired", member.Retired{Reason: "搬家"}, `{"reason":"搬家"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" keeps its wire form and decodes to itself", func(t *testing.T) {
			envs, err := domain.Seal(member.AggregateType, "m-1", 0, []domain.Event{tt.event}, []string{"e1"}, domain.Meta{Actor: admin, Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			if string(envs[0].Data) != tt.json {
				t.Errorf("data = %s, want %s", envs[0].Data, tt.json)
			}
			ev, err := member.Events.Decode(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, tt.event) {
				t.Errorf("decoded %#v, want %#v", ev, tt.event)
			}
		})
	}
}

func TestShowsPhone(t *testing.T) {
	m := member.State{ID: "m-1", Profile: member.Profile{Community: "tayuan"}}
	communityOf := func(lane string) string { return map[string]string{"rouqiao": "tayuan", "kongyuan": "yingchun"}[lane] }
	tests := []struct {
		name string
		by   domain.Actor
		want bool
	}{
		{"the admin sees it", admin, true},
		{"the member themself sees it", domain.Actor{Role: domain.RoleMember, Member: "m-1"}, true},
		{"another member does not", domain.Actor{Role: domain.RoleMember, Member: "m-2"}, false},
		{"a steward of a lane in the community sees it", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"kongyuan", "rouqiao"}}, true},
		{"a steward of a lane elsewhere does not", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"kongyuan"}}, false},
		{"a steward of an unknown lane does not", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"nowhere"}}, false},
		{"the auditor does not", domain.Actor{Role: domain.RoleAuditor}, false},
		{"an operator does not", domain.Actor{Role: domain.RoleOperator}, false},
		{"the public does not", domain.Actor{Role: domain.RoleResident}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := member.ShowsPhone(tt.by, m, communityOf); got != tt.want {
				t.Errorf("ShowsPhone = %v, want %v", got, tt.want)
			}
		})
	}
}
