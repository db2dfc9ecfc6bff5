package order_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// eventSamples holds one or more facts of every order event type, each with the history
// it is applied on.
var eventSamples = []struct {
	name  string
	given []domain.Event
	event domain.Event
}{
	{"Submitted", nil, submitted(func(s *order.Submitted) {
		s.Mode, s.Channel, s.Priority, s.Idempotency = order.ModeThematic, order.ChannelHotline, order.PriorityUrgent, "sha256:1"
	})},
	{"Dispatched", history(order.StatusOpen), dispatched1},
	{"Reassigned", history(order.StatusAccepted), order.Reassigned{From: "m-1", Member: "m-2", Reason: "换人"}},
	{"Claimed", history(order.StatusOpen), order.Claimed{Member: "m-2"}},
	{"Accepted", history(order.StatusDispatched), order.Accepted{Member: "m-1", OnTime: false}},
	{"Declined", history(order.StatusDispatched), declined1},
	{"Completed", history(order.StatusAccepted), order.Completed{Member: "m-1", Note: "修好了", Minutes: 90, OnTime: false}},
	{"Rated solved", history(order.StatusCompleted), order.Rated{Member: "m-1", Solved: true, Stars: 4, Comment: "不错"}},
	{"Rated unsolved", history(order.StatusCompleted), order.Rated{Member: "m-1", Stars: 2,
		AcceptBy: t0.Add(100 * time.Hour), CompleteBy: t0.Add(148 * time.Hour)}},
	{"Cancelled", history(order.StatusDispatched), cancelled},
	{"Escalated", history(order.StatusOpen), order.Escalated{Level: order.LevelStreet, Reason: "街道兜底"}},
	{"Returned", []domain.Event{submitted(), order.Escalated{Level: order.LevelStreet, Reason: "跨社区"}}, order.Returned{From: order.LevelStreet, Level: order.LevelCommunity, Reason: "社区可以协调"}},
	{"Reopened", history(order.StatusClosed), order.Reopened{Reason: "又坏了", AcceptBy: t0.Add(100 * time.Hour), CompleteBy: t0.Add(148 * time.Hour)}},
	{"Noted", history(order.StatusAccepted), order.Noted{Text: "已联系", Internal: true}},
	{"MarkedOverdue", history(order.StatusOpen), order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(24 * time.Hour)}},
}

// TestEvolveRoundTrip checks that every event type, sealed and sent through JSON, decodes
// through order.Events to the fact that was written and evolves the same state.
func TestEvolveRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, tt := range eventSamples {
		t.Run(tt.name+" evolves the same state after JSON", func(t *testing.T) {
			base := given(t, tt.given...)
			at := t0.Add(90 * time.Hour)
			envs, err := domain.Seal(order.AggregateType, "o-1", uint64(len(tt.given)), []domain.Event{tt.event}, []string{"ev-x"},
				domain.Meta{Actor: laneSteward, Time: at.In(shanghai), CorrelationID: "c", CausationID: "d"})
			if err != nil {
				t.Fatal(err)
			}
			direct := order.Evolve(base, tt.event, envs[0])

			b, err := json.Marshal(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			env, err := domain.DecodeEnvelope(b)
			if err != nil {
				t.Fatalf("DecodeEnvelope: %v", err)
			}
			if env.Type != tt.event.EventType() || env.AggregateType != "order" || env.Subject != "order/o-1" {
				t.Errorf("envelope type %q, aggregate %q, subject %q", env.Type, env.AggregateType, env.Subject)
			}
			ev, err := order.Events.Decode(env)
			if err != nil {
				t.Fatalf("Events.Decode: %v", err)
			}
			if !reflect.DeepEqual(ev, tt.event) {
				t.Errorf("decoded %#v, want %#v", ev, tt.event)
			}
			if got := order.Evolve(base, ev, env); !reflect.DeepEqual(got, direct) {
				t.Errorf("state after the JSON trip =\n%+v\nwant\n%+v", got, direct)
			}
			if !direct.UpdatedAt.Equal(at) || direct.ID != "o-1" {
				t.Errorf("updated at %v, id %q; want %v, o-1", direct.UpdatedAt, direct.ID, at)
			}
			seen[tt.event.EventType()] = true
		})
	}
	t.Run("covers every registered type", func(t *testing.T) {
		types := order.Events.Types()
		slices.Sort(types)
		covered := slices.Sorted(func(yield func(string) bool) {
			for k := range seen {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(covered, types) {
			t.Errorf("samples cover %v, registry has %v", covered, types)
		}
	})
}

// TestEventWireFormat pins the JSON of every order event: the stream is a public contract
// and its fields are never renamed.
func TestEventWireFormat(t *testing.T) {
	tests := []struct {
		event domain.Event
		want  string
	}{
		{submitted(), `{"number":"R-20250301-0001","lane":"lane-1","community":"comm-1","street":"street-1","category":"repair",` +
			`"title":"厨房水管漏水","description":"楼下也在渗水","requester":{"name":"张阿姨","phone":"13812345678"},` +
			`"mode":"instant","channel":"web","priority":"normal","accept_by":"2025-03-02T09:00:00Z","complete_by":"2025-03-04T09:00:00Z"}`},
		{dispatched1, `{"member":"m-1"}`},
		{order.Reassigned{From: "m-1", Member: "m-2", Reason: "r"}, `{"from":"m-1","member":"m-2","reason":"r"}`},
		{order.Claimed{Member: "m-2"}, `{"member":"m-2","on_time":false}`},
		{accepted1, `{"member":"m-1","on_time":true}`},
		{declined1, `{"member":"m-1","reason":"不在本地"}`},
		{completed1, `{"member":"m-1","note":"换了阀门","minutes":45,"on_time":true}`},
		{closedOK, `{"member":"m-1","solved":true,"stars":5}`},
		{order.Rated{Member: "m-1", Stars: 2, Comment: "c", AcceptBy: t0, CompleteBy: t0},
			`{"member":"m-1","solved":false,"stars":2,"comment":"c","accept_by":"2025-03-01T09:00:00Z","complete_by":"2025-03-01T09:00:00Z"}`},
		{cancelled, `{"reason":"居民撤回"}`},
		{order.Escalated{Level: order.LevelCommunity, Reason: "r"}, `{"level":"community","reason":"r"}`},
		{order.Reopened{Reason: "r", AcceptBy: t0, CompleteBy: t0}, `{"reason":"r","accept_by":"2025-03-01T09:00:00Z","complete_by":"2025-03-01T09:00:00Z"}`},
		{order.Returned{From: order.LevelCommunity, Level: order.LevelLane, Reason: "r"}, `{"from":"community","level":"lane","reason":"r"}`},
		{order.Noted{Text: "t"}, `{"text":"t","internal":false}`},
		{order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: t0}, `{"deadline":"complete","due":"2025-03-01T09:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.event.EventType(), func(t *testing.T) {
			b, err := json.Marshal(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("JSON =\n%s\nwant\n%s", b, tt.want)
			}
		})
	}
}

func TestEvolve(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	tests := []struct {
		name  string
		given []domain.Event
		want  order.State
	}{
		{
			name:  "submission opens the order at lane level",
			given: []domain.Event{submitted()},
			want: order.State{
				ID: "o-1", Number: "R-20250301-0001", Lane: "lane-1", Community: "comm-1", Street: "street-1",
				Category: "repair", Title: "厨房水管漏水", Description: "楼下也在渗水",
				Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
				Mode:      order.ModeInstant, Channel: order.ChannelWeb, Priority: order.PriorityNormal,
				Status: order.StatusOpen, Escalation: order.LevelLane,
				SubmittedAt: t0, UpdatedAt: t0, CycleStart: t0,
				AcceptBy: t0.Add(24 * time.Hour), CompleteBy: t0.Add(72 * time.Hour),
			},
		},
		{
			name:  "a whole life ends closed with its rating",
			given: history(order.StatusClosed),
			want: order.State{
				ID: "o-1", Number: "R-20250301-0001", Lane: "lane-1", Community: "comm-1", Street: "street-1",
				Category: "repair", Title: "厨房水管漏水", Description: "楼下也在渗水",
				Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
				Mode:      order.ModeInstant, Channel: order.ChannelWeb, Priority: order.PriorityNormal,
				Status: order.StatusClosed, Assignee: "m-1", Escalation: order.LevelLane,
				Rating:      &order.Rating{Solved: true, Stars: 5, Member: "m-1", At: at(4)},
				SubmittedAt: t0, UpdatedAt: at(4), CycleStart: t0, AcceptedAt: at(2),
				AcceptBy: t0.Add(24 * time.Hour), CompleteBy: t0.Add(72 * time.Hour),
			},
		},
		{
			name:  "history is history: an acceptance of an open order still counts",
			given: []domain.Event{submitted(), order.Accepted{Member: "m-9"}},
			want: order.State{
				ID: "o-1", Number: "R-20250301-0001", Lane: "lane-1", Community: "comm-1", Street: "street-1",
				Category: "repair", Title: "厨房水管漏水", Description: "楼下也在渗水",
				Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
				Mode:      order.ModeInstant, Channel: order.ChannelWeb, Priority: order.PriorityNormal,
				Status: order.StatusAccepted, Escalation: order.LevelLane,
				SubmittedAt: t0, UpdatedAt: at(1), CycleStart: t0, AcceptedAt: at(1),
				AcceptBy: t0.Add(24 * time.Hour), CompleteBy: t0.Add(72 * time.Hour),
			},
		},
		{
			name: "a deadline marked twice is overdue once, and notes leave the state alone",
			given: []domain.Event{submitted(), order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0},
				order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0}, order.Noted{Text: "x"}},
			want: order.State{
				ID: "o-1", Number: "R-20250301-0001", Lane: "lane-1", Community: "comm-1", Street: "street-1",
				Category: "repair", Title: "厨房水管漏水", Description: "楼下也在渗水",
				Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
				Mode:      order.ModeInstant, Channel: order.ChannelWeb, Priority: order.PriorityNormal,
				Status: order.StatusOpen, Escalation: order.LevelLane,
				SubmittedAt: t0, UpdatedAt: at(3), CycleStart: t0,
				AcceptBy: t0.Add(24 * time.Hour), CompleteBy: t0.Add(72 * time.Hour),
				OverdueOn: []order.DeadlineKind{order.DeadlineAccept},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := given(t, tt.given...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("state =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestEvolveDoesNotAlias checks that two states evolved from one do not share the list of
// overdue deadlines: appending to one must not show in the other.
func TestEvolveDoesNotAlias(t *testing.T) {
	base := order.State{ID: "o-1", Status: order.StatusAccepted, OverdueOn: make([]order.DeadlineKind, 0, 4)}
	env := domain.Envelope{AggregateID: "o-1", Time: t0}
	tests := []struct {
		name  string
		first order.DeadlineKind
		then  order.DeadlineKind
	}{
		{"accept then complete keep apart", order.DeadlineAccept, order.DeadlineComplete},
		{"complete then accept keep apart", order.DeadlineComplete, order.DeadlineAccept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := order.Evolve(base, order.MarkedOverdue{Deadline: tt.first}, env)
			b := order.Evolve(base, order.MarkedOverdue{Deadline: tt.then}, env)
			if !slices.Equal(a.OverdueOn, []order.DeadlineKind{tt.first}) || !slices.Equal(b.OverdueOn, []order.DeadlineKind{tt.then}) {
				t.Errorf("evolved %v and %v, want [%s] and [%s]", a.OverdueOn, b.OverdueOn, tt.first, tt.then)
			}
			if len(base.OverdueOn) != 0 {
				t.Errorf("base changed to %v", base.OverdueOn)
			}
		})
	}
}

// TestChineseRoundTrip checks that Chinese text survives Decide, the envelope's JSON and
// Evolve, and is written as UTF-8 rather than escaped.
func TestChineseRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		title string
		desc  string
		who   string
	}{
		{"simplified Chinese comes back unchanged", "深夜烧烤摊噪音扰民", "五洞桥东侧，每晚十一点后", "王大爷"},
		{"mixed scripts and emoji come back unchanged", "3号楼电梯故障 🚧", "Lift stuck · 困人？否", "Ms. 李"},
		{"rare characters come back unchanged", "𠮷野家门口积水", "㐀㐁", "龘"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := submitCmd(func(c *order.Submit) { c.Title, c.Description, c.Requester.Name = tt.title, tt.desc, tt.who })
			evs, err := order.Decide(order.State{}, cmd, order.Env{Actor: resident, Now: t0, Catalog: catalog})
			if err != nil {
				t.Fatal(err)
			}
			envs, err := domain.Seal(order.AggregateType, "o-1", 0, evs, []string{"e1"}, domain.Meta{Actor: resident, Time: t0})
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(envs[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{tt.title, tt.desc, tt.who} {
				if !bytes.Contains(b, []byte(s)) {
					t.Errorf("stored JSON %s does not hold %q as UTF-8", b, s)
				}
			}
			s := given(t, evs...)
			if s.Title != tt.title || s.Description != tt.desc || s.Requester.Name != tt.who {
				t.Errorf("state holds %q, %q, %q; want %q, %q, %q", s.Title, s.Description, s.Requester.Name, tt.title, tt.desc, tt.who)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		name, phone, want string
	}{
		{"mobile keeps three in front and four behind", "13812345678", "138****5678"},
		{"number with country code keeps its prefix and last four", "+8613812345678", "+86****5678"},
		{"landline with area code", "010-62345678", "010****5678"},
		{"empty stays empty", "", ""},
		{"one digit is hidden", "1", "*"},
		{"four digits are hidden", "1234", "****"},
		{"counts characters not bytes", "一三八一二三四五六七八", "一三八****五六七八"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := order.MaskPhone(tt.phone); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.phone, got, tt.want)
			}
		})
	}
}

func TestCatalogLookup(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		wantCode string
		wantOK   bool
		want     order.Deadlines // for priority normal
		urgent   order.Deadlines
	}{
		{"finds a category by code", "repair", "repair", true, normalDeadlines, urgentDeadlines},
		{"finds a category by Chinese name", "医疗服务", "medical", true, normalDeadlines, urgentMedicalDL},
		{"finds 便民咨询", "便民咨询", "consultation", true, normalDeadlines, urgentDeadlines},
		{"finds 政策解读", "政策解读", "policy", true, normalDeadlines, urgentDeadlines},
		{"finds 红色代办", "红色代办", "errand", true, normalDeadlines, urgentDeadlines},
		{"finds 邻里纠纷", "邻里纠纷", "dispute", true, normalDeadlines, urgentDeadlines},
		{"finds 城市管理", "城市管理", "city", true, normalDeadlines, urgentDeadlines},
		{"misses an unknown code", "plumbing", "", false, order.Deadlines{}, order.Deadlines{}},
		{"misses a code in another case", "Repair", "", false, order.Deadlines{}, order.Deadlines{}},
		{"misses the empty key", "", "", false, order.Deadlines{}, order.Deadlines{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := order.DefaultCatalog().Lookup(tt.key)
			if ok != tt.wantOK || c.Code != tt.wantCode {
				t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", tt.key, c.Code, ok, tt.wantCode, tt.wantOK)
			}
			if got := c.DeadlinesFor(order.PriorityNormal); got != tt.want {
				t.Errorf("normal deadlines = %+v, want %+v", got, tt.want)
			}
			if got := c.DeadlinesFor(order.PriorityUrgent); got != tt.urgent {
				t.Errorf("urgent deadlines = %+v, want %+v", got, tt.urgent)
			}
		})
	}
}

func TestNewCatalog(t *testing.T) {
	own := order.Deadlines{Accept: time.Hour, Complete: 2 * time.Hour}
	tests := []struct {
		name               string
		in                 order.Category
		wantNormal, urgent order.Deadlines
	}{
		{"zero deadlines get the defaults", order.Category{Code: "a"}, normalDeadlines, urgentDeadlines},
		{"own normal deadlines are kept", order.Category{Code: "a", Normal: own}, own, urgentDeadlines},
		{"own urgent deadlines are kept", order.Category{Code: "a", Urgent: own}, normalDeadlines, own},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := order.NewCatalog(tt.in).Lookup("a")
			if !ok {
				t.Fatal("category not found")
			}
			if c.Normal != tt.wantNormal || c.Urgent != tt.urgent {
				t.Errorf("deadlines = %+v, %+v; want %+v, %+v", c.Normal, c.Urgent, tt.wantNormal, tt.urgent)
			}
			if c.DeadlinesFor("") != tt.wantNormal {
				t.Errorf("no priority gets %+v, want the normal deadlines", c.DeadlinesFor(""))
			}
		})
	}
}

func TestCatalogAll(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"lists the district's categories in order and returns a copy",
			[]string{"consultation", "medical", "repair", "policy", "errand", "dispute", "city"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := order.DefaultCatalog()
			all := c.All()
			codes := make([]string, len(all))
			for i, x := range all {
				codes[i] = x.Code
			}
			if !slices.Equal(codes, tt.want) {
				t.Errorf("codes = %v, want %v", codes, tt.want)
			}
			all[0].Code = "changed"
			if _, ok := c.Lookup("consultation"); !ok {
				t.Error("changing All's result changed the catalogue")
			}
		})
	}
}
