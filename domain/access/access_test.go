package access_test

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
	"github.com/redlane/redlane/domain/access"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	admin = domain.Actor{ID: "tok-admin", Role: domain.RoleAdmin}
)

var nonAdmins = []domain.Role{domain.RoleSteward, domain.RoleMember, domain.RoleOperator, domain.RoleAuditor,
	domain.RoleResident, domain.RoleSystem, ""}

// hash is the SHA-256 of the empty string: any 64 hex digits will do.
const hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

var stewardToken = access.Issued{Role: domain.RoleSteward, Lanes: []string{"rouqiao", "kongyuan"}, Name: "王管家", Hash: hash}

// given folds events into a token's state through JSON, as the runner does, and reports
// whether the token exists.
func given(tb testing.TB, events ...domain.Event) (access.State, bool) {
	tb.Helper()
	var s access.State
	for i, ev := range events {
		envs, err := domain.Seal(access.AggregateType, "tok-1", uint64(i), []domain.Event{ev}, []string{fmt.Sprint("e", i)},
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
		decoded, err := access.Events.Decode(env)
		if err != nil {
			tb.Fatal(err)
		}
		s = access.Evolve(s, decoded, env)
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

type tokenCase struct {
	name  string
	given []domain.Event
	cmd   access.Command
	by    domain.Actor
	want  outcome
	after *access.State // the state the yielded events make, when checked
}

func TestDecide(t *testing.T) {
	issue := func(role domain.Role, lanes []string, member string) access.Issue {
		return access.Issue{Role: role, Lanes: lanes, Member: member, Name: "token", Hash: hash}
	}
	issued := func(role domain.Role, lanes []string, member string) access.Issued {
		return access.Issued(issue(role, lanes, member))
	}
	tests := []tokenCase{
		{
			name: "steward token bound to lanes yields Issued", cmd: access.Issue(stewardToken), by: admin,
			want:  yields(stewardToken),
			after: &access.State{ID: "tok-1", Issued: stewardToken},
		},
		{
			name: "account with a username yields Issued with it", by: admin,
			cmd:  access.Issue{Role: domain.RoleSteward, Lanes: []string{"rouqiao"}, Name: "王芳", Hash: hash, Username: "wang.fang-2"},
			want: yields(access.Issued{Role: domain.RoleSteward, Lanes: []string{"rouqiao"}, Name: "王芳", Hash: hash, Username: "wang.fang-2"}),
		},
		{
			name: "an account whose username is taken is refused conflict", by: admin,
			given: []domain.Event{access.Issued{Role: domain.RoleAuditor, Name: "审计", Hash: hash, Username: "shenji"}},
			cmd:   access.Issue{Role: domain.RoleSteward, Lanes: []string{"rouqiao"}, Name: "王芳", Hash: hash, Username: "shenji"},
			want:  refused(domain.KindConflict),
		},
		{name: "username in capitals is invalid username", by: admin, cmd: access.Issue{Role: domain.RoleAuditor, Hash: hash, Username: "WangFang"}, want: invalid("username")},
		{name: "username of two letters is invalid username", by: admin, cmd: access.Issue{Role: domain.RoleAuditor, Hash: hash, Username: "wf"}, want: invalid("username")},
		{name: "username starting with a dot is invalid username", by: admin, cmd: access.Issue{Role: domain.RoleAuditor, Hash: hash, Username: ".wang"}, want: invalid("username")},
		{name: "username in Chinese is invalid username", by: admin, cmd: access.Issue{Role: domain.RoleAuditor, Hash: hash, Username: "王芳芳"}, want: invalid("username")},
		{name: "username of 33 characters is invalid username", by: admin, cmd: access.Issue{Role: domain.RoleAuditor, Hash: hash, Username: strings.Repeat("w", 33)}, want: invalid("username")},
		{name: "member token bound to a member yields Issued", cmd: issue(domain.RoleMember, nil, "m-1"), by: admin, want: yields(issued(domain.RoleMember, nil, "m-1"))},
		{name: "admin token yields Issued", cmd: issue(domain.RoleAdmin, nil, ""), by: admin, want: yields(issued(domain.RoleAdmin, nil, ""))},
		{name: "operator token yields Issued", cmd: issue(domain.RoleOperator, nil, ""), by: admin, want: yields(issued(domain.RoleOperator, nil, ""))},
		{name: "auditor token yields Issued", cmd: issue(domain.RoleAuditor, nil, ""), by: admin, want: yields(issued(domain.RoleAuditor, nil, ""))},
		{
			name: "name with spaces around it yields Issued with the name trimmed",
			cmd:  access.Issue{Role: domain.RoleAuditor, Name: "  审计 ", Hash: hash}, by: admin,
			want: yields(access.Issued{Role: domain.RoleAuditor, Name: "审计", Hash: hash}),
		},
		{
			name: "name of 50 characters yields Issued",
			cmd:  access.Issue{Role: domain.RoleAuditor, Name: strings.Repeat("审", 50), Hash: hash}, by: admin,
			want: yields(access.Issued{Role: domain.RoleAuditor, Name: strings.Repeat("审", 50), Hash: hash}),
		},
		{name: "resident token is invalid role", cmd: issue(domain.RoleResident, nil, ""), by: admin, want: invalid("role")},
		{name: "system token is invalid role", cmd: issue(domain.RoleSystem, nil, ""), by: admin, want: invalid("role")},
		{name: "token without a role is invalid role", cmd: issue("", nil, ""), by: admin, want: invalid("role")},
		{name: "token of an unknown role is invalid role", cmd: issue("root", nil, ""), by: admin, want: invalid("role")},
		{name: "steward token without lanes is invalid lanes", cmd: issue(domain.RoleSteward, nil, ""), by: admin, want: invalid("lanes")},
		{name: "operator token bound to lanes is invalid lanes", cmd: issue(domain.RoleOperator, []string{"rouqiao"}, ""), by: admin, want: invalid("lanes")},
		{name: "member token without a member is invalid member", cmd: issue(domain.RoleMember, nil, ""), by: admin, want: invalid("member")},
		{name: "steward token bound to a member is invalid member", cmd: issue(domain.RoleSteward, []string{"rouqiao"}, "m-1"), by: admin, want: invalid("member")},
		{name: "admin token bound to a member is invalid member", cmd: issue(domain.RoleAdmin, nil, "m-1"), by: admin, want: invalid("member")},
		{
			name: "member token bound to lanes and no member is invalid lanes and member",
			cmd:  issue(domain.RoleMember, []string{"rouqiao"}, ""), by: admin, want: invalid("lanes", "member"),
		},
		{
			name: "community token bound to communities yields Issued", by: admin,
			cmd:  access.Issue{Role: domain.RoleCommunity, Communities: []string{"taoyuan", "yingchun"}, Name: "塔苑社区", Hash: hash},
			want: yields(access.Issued{Role: domain.RoleCommunity, Communities: []string{"taoyuan", "yingchun"}, Name: "塔苑社区", Hash: hash}),
		},
		{
			name: "street account bound to a street yields Issued", by: admin,
			cmd:  access.Issue{Role: domain.RoleStreet, Streets: []string{"dongcheng"}, Name: "东城街道", Hash: hash, Username: "dongcheng"},
			want: yields(access.Issued{Role: domain.RoleStreet, Streets: []string{"dongcheng"}, Name: "东城街道", Hash: hash, Username: "dongcheng"}),
		},
		{name: "community token without communities is invalid communities", by: admin, cmd: access.Issue{Role: domain.RoleCommunity, Hash: hash}, want: invalid("communities")},
		{name: "street token without streets is invalid streets", by: admin, cmd: access.Issue{Role: domain.RoleStreet, Hash: hash}, want: invalid("streets")},
		{name: "steward token bound to communities is invalid communities", by: admin, cmd: access.Issue{Role: domain.RoleSteward, Lanes: []string{"rouqiao"}, Communities: []string{"taoyuan"}, Hash: hash}, want: invalid("communities")},
		{name: "community token bound to streets is invalid streets", by: admin, cmd: access.Issue{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}, Streets: []string{"dongcheng"}, Hash: hash}, want: invalid("streets")},
		{name: "street token bound to lanes is invalid lanes", by: admin, cmd: access.Issue{Role: domain.RoleStreet, Streets: []string{"dongcheng"}, Lanes: []string{"rouqiao"}, Hash: hash}, want: invalid("lanes")},
		{name: "community token bound to a member is invalid member", by: admin, cmd: access.Issue{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}, Member: "m-1", Hash: hash}, want: invalid("member")},
		{name: "auditor token bound to streets is invalid streets", by: admin, cmd: access.Issue{Role: domain.RoleAuditor, Streets: []string{"dongcheng"}, Hash: hash}, want: invalid("streets")},
		{name: "community named twice is invalid communities[1]", by: admin, cmd: access.Issue{Role: domain.RoleCommunity, Communities: []string{"taoyuan", "taoyuan"}, Hash: hash}, want: invalid("communities[1]")},
		{name: "street id with a space is invalid streets[0]", by: admin, cmd: access.Issue{Role: domain.RoleStreet, Streets: []string{"dong cheng"}, Hash: hash}, want: invalid("streets[0]")},
		{name: "short hash is invalid hash", cmd: access.Issue{Role: domain.RoleAuditor, Hash: hash[1:]}, by: admin, want: invalid("hash")},
		{name: "missing hash is invalid hash", cmd: access.Issue{Role: domain.RoleAuditor}, by: admin, want: invalid("hash")},
		{name: "name of 51 characters is invalid name", cmd: access.Issue{Role: domain.RoleAuditor, Name: strings.Repeat("审", 51), Hash: hash}, by: admin, want: invalid("name")},
		{name: "every fault at once is invalid role hash and name", cmd: access.Issue{Role: "x", Name: strings.Repeat("n", 51)}, by: admin, want: invalid("role", "hash", "name")},
		{name: "issuing a token twice is refused conflict", given: []domain.Event{stewardToken}, cmd: access.Issue(stewardToken), by: admin, want: refused(domain.KindConflict)},
		{name: "issuing a revoked token again is refused conflict", given: []domain.Event{stewardToken, access.Revoked{}}, cmd: access.Issue(stewardToken), by: admin, want: refused(domain.KindConflict)},
		{
			name: "revoking a token yields Revoked", given: []domain.Event{stewardToken}, cmd: access.Revoke{}, by: admin,
			want: yields(access.Revoked{}), after: &access.State{ID: "tok-1", Issued: stewardToken, Revoked: true},
		},
		{name: "revoking a revoked token yields nothing", given: []domain.Event{stewardToken, access.Revoked{}}, cmd: access.Revoke{}, by: admin, want: yields()},
		{name: "revoking a missing token is refused not found", cmd: access.Revoke{}, by: admin, want: refused(domain.KindNotFound)},
		{name: "nil command is refused internal", cmd: nil, by: admin, want: refused(domain.KindInternal)},
	}
	for _, role := range nonAdmins {
		by := domain.Actor{ID: "tok-x", Role: role, Lanes: []string{"rouqiao"}}
		tests = append(tests,
			tokenCase{name: fmt.Sprintf("issue by role %q is refused forbidden", role), cmd: access.Issue(stewardToken), by: by, want: refused(domain.KindForbidden)},
			tokenCase{name: fmt.Sprintf("revoke by role %q is refused forbidden", role), given: []domain.Event{stewardToken}, cmd: access.Revoke{}, by: by, want: refused(domain.KindForbidden)},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, exists := given(t, tt.given...)
			got, err := access.Decide(s, tt.cmd, access.Env{Actor: tt.by, Exists: exists})
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
		{"Issued to a steward", stewardToken, `{"role":"steward","lanes":["rouqiao","kongyuan"],"name":"王管家","hash":"` + hash + `"}`},
		{"Issued to a member", access.Issued{Role: domain.RoleMember, Member: "m-1", Hash: hash}, `{"role":"member","member":"m-1","name":"","hash":"` + hash + `"}`},
		{"Issued to community staff", access.Issued{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}, Name: "塔苑社区", Hash: hash},
			`{"role":"community","communities":["taoyuan"],"name":"塔苑社区","hash":"` + hash + `"}`},
		{"Issued to street staff", access.Issued{Role: domain.RoleStreet, Streets: []string{"dongcheng"}, Name: "东城街道", Hash: hash},
			`{"role":"street","streets":["dongcheng"],"name":"东城街道","hash":"` + hash + `"}`},
		{"Revoked", access.Revoked{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" keeps its wire form and decodes to itself", func(t *testing.T) {
			envs, err := domain.Seal(access.AggregateType, "tok-1", 0, []domain.Event{tt.event}, []string{"e1"}, domain.Meta{Actor: admin, Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			if string(envs[0].Data) != tt.json {
				t.Errorf("data = %s, want %s", envs[0].Data, tt.json)
			}
			ev, err := access.Events.Decode(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, tt.event) {
				t.Errorf("decoded %#v, want %#v", ev, tt.event)
			}
		})
	}
}

// Every valid username gives a valid aggregate id, and two usernames never the same one.
func TestAccountID(t *testing.T) {
	seen := map[string]string{}
	for _, u := range []string{"wangfang", "ouyang.taoyuan", "ouyang_taoyuan", "ouyang-taoyuan", "a.b.c", "abd", "a.d", "a_d", "a-d"} {
		if !access.ValidUsername(u) {
			t.Fatalf("%s is not a valid username", u)
		}
		id := access.AccountID(u)
		if !domain.ValidID(id) {
			t.Errorf("%s gives the invalid id %q", u, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s give the same id %q", u, other, id)
		}
		seen[id] = u
	}
}
