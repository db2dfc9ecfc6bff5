package order_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// askingCatalog has a category that asks one question of every datatype; the floor and
// whether to come in are required.
var askingCatalog = order.DefaultCatalog().With(order.Category{
	Code: "repair", Name: "日常维修", Skills: []string{"repair"},
	Questions: []order.Question{
		{Code: "floor", Description: "在几楼？", Datatype: order.DatatypeNumber, Required: true},
		{Code: "home_visit", Description: "是否需要入户？", Datatype: order.DatatypeSingleValueList, Required: true,
			Values: []order.Choice{{Key: "yes", Name: "需要入户"}, {Key: "no", Name: "不需要入户"}}},
		{Code: "rooms", Description: "哪些房间？", Datatype: order.DatatypeMultiValueList,
			Values: []order.Choice{{Key: "kitchen", Name: "厨房"}, {Key: "bath", Name: "卫生间"}}},
		{Code: "when", Description: "什么时候方便？", Datatype: order.DatatypeDatetime},
		{Code: "brand", Description: "热水器品牌", Datatype: order.DatatypeString},
		{Code: "notes", Description: "补充说明", Datatype: order.DatatypeText},
	},
})

// answering is submitCmd with these answers and the required ones (floor 3, no visit)
// where answers do not name them.
func answering(answers map[string][]string) order.Submit {
	return submitCmd(func(c *order.Submit) {
		c.Answers = map[string][]string{"floor": {"3"}, "home_visit": {"no"}}
		for k, v := range answers {
			if v == nil {
				delete(c.Answers, k)
				continue
			}
			c.Answers[k] = v
		}
	})
}

var (
	floor3  = order.Answer{Code: "floor", Question: "在几楼？", Values: []string{"3"}}
	noVisit = order.Answer{Code: "home_visit", Question: "是否需要入户？", Values: []string{"no"}, Names: []string{"不需要入户"}}
)

func TestDecideSubmitAnswers(t *testing.T) {
	long := strings.Repeat("长", order.MaxAnswerString+1)
	tests := []struct {
		name string
		cmd  order.Submit
		want []order.Answer // nil with fault: refused
		// fault is the field a refused submit names.
		fault string
	}{
		{name: "required answers only are stored in the category's order",
			cmd: answering(nil), want: []order.Answer{floor3, noVisit}},
		{name: "every datatype answered is stored with the question's words and the choices' names",
			cmd: answering(map[string][]string{
				"notes": {"第一行\r\n第二行"}, "brand": {" 美的 "}, "when": {"2025-03-02T14:00"},
				"rooms": {"bath", "kitchen"}, "floor": {"-1.5"}, "home_visit": {"yes"},
			}),
			want: []order.Answer{
				{Code: "floor", Question: "在几楼？", Values: []string{"-1.5"}},
				{Code: "home_visit", Question: "是否需要入户？", Values: []string{"yes"}, Names: []string{"需要入户"}},
				{Code: "rooms", Question: "哪些房间？", Values: []string{"bath", "kitchen"}, Names: []string{"卫生间", "厨房"}},
				{Code: "when", Question: "什么时候方便？", Values: []string{"2025-03-02T14:00"}},
				{Code: "brand", Question: "热水器品牌", Values: []string{"美的"}},
				{Code: "notes", Question: "补充说明", Values: []string{"第一行\n第二行"}},
			}},
		{name: "a datetime with a zone is allowed",
			cmd:  answering(map[string][]string{"when": {"2025-03-02T14:00:00+08:00"}}),
			want: []order.Answer{floor3, noVisit, {Code: "when", Question: "什么时候方便？", Values: []string{"2025-03-02T14:00:00+08:00"}}}},
		{name: "a date alone is allowed",
			cmd:  answering(map[string][]string{"when": {"2025-03-02"}}),
			want: []order.Answer{floor3, noVisit, {Code: "when", Question: "什么时候方便？", Values: []string{"2025-03-02"}}}},
		{name: "blank answers to optional questions are no answers",
			cmd: answering(map[string][]string{"brand": {"  "}, "rooms": {""}}), want: []order.Answer{floor3, noVisit}},
		{name: "a string at the limit is allowed",
			cmd:  answering(map[string][]string{"brand": {long[:len(long)-len("长")]}}),
			want: []order.Answer{floor3, noVisit, {Code: "brand", Question: "热水器品牌", Values: []string{long[:len(long)-len("长")]}}}},

		{name: "an unknown question is refused", cmd: answering(map[string][]string{"colour": {"红"}}), fault: "answers.colour"},
		{name: "a missing required answer is refused", cmd: answering(map[string][]string{"floor": nil}), fault: "answers.floor"},
		{name: "a blank required answer is refused", cmd: answering(map[string][]string{"home_visit": {" "}}), fault: "answers.home_visit"},
		{name: "a number that is not one is refused", cmd: answering(map[string][]string{"floor": {"三楼"}}), fault: "answers.floor"},
		{name: "an infinite number is refused", cmd: answering(map[string][]string{"floor": {"Inf"}}), fault: "answers.floor"},
		{name: "two answers to a single question are refused", cmd: answering(map[string][]string{"floor": {"3", "4"}}), fault: "answers.floor"},
		{name: "a datetime that is not one is refused", cmd: answering(map[string][]string{"when": {"明天下午"}}), fault: "answers.when"},
		{name: "a value not in a single list is refused", cmd: answering(map[string][]string{"home_visit": {"maybe"}}), fault: "answers.home_visit"},
		{name: "a list value by its name is refused", cmd: answering(map[string][]string{"home_visit": {"需要入户"}}), fault: "answers.home_visit"},
		{name: "a value not in a multiple list is refused", cmd: answering(map[string][]string{"rooms": {"kitchen", "garage"}}), fault: "answers.rooms"},
		{name: "a multiple list value twice is refused", cmd: answering(map[string][]string{"rooms": {"bath", "bath"}}), fault: "answers.rooms"},
		{name: "a string too long is refused", cmd: answering(map[string][]string{"brand": {long}}), fault: "answers.brand"},
		{name: "a text too long is refused", cmd: answering(map[string][]string{"notes": {strings.Repeat("长", order.MaxAnswerText+1)}}), fault: "answers.notes"},
		{name: "a line break in a string is refused", cmd: answering(map[string][]string{"brand": {"美\n的"}}), fault: "answers.brand"},
		{name: "a control character in a text is refused", cmd: answering(map[string][]string{"notes": {"a\x1bb"}}), fault: "answers.notes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := order.Decide(order.State{}, tt.cmd, order.Env{Actor: resident, Now: defaultNow, Catalog: askingCatalog})
			if tt.fault != "" {
				checkOutcome(t, got, err, invalid(tt.fault))
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if sub := got[0].(order.Submitted); !reflect.DeepEqual(sub.Answers, tt.want) {
				t.Errorf("answers stored\n%#v\nwant\n%#v", sub.Answers, tt.want)
			}
			s := given(t, got...)
			if !reflect.DeepEqual(s.Answers, tt.want) {
				t.Errorf("the order holds answers %#v, want %#v", s.Answers, tt.want)
			}
		})
	}
}

// TestSubmitWithoutQuestions: a category that asks nothing takes no answers, and a
// submission without answers stores none, as before categories asked anything.
func TestSubmitWithoutQuestions(t *testing.T) {
	env := order.Env{Actor: resident, Now: defaultNow, Catalog: catalog}
	got, err := order.Decide(order.State{}, submitCmd(func(c *order.Submit) { c.Category = "policy" }), env)
	if err != nil || got[0].(order.Submitted).Answers != nil {
		t.Fatalf("decided %#v, %v; want a submission without answers", got, err)
	}
	got, err = order.Decide(order.State{}, submitCmd(func(c *order.Submit) {
		c.Category, c.Answers = "policy", map[string][]string{"floor": {"3"}}
	}), env)
	checkOutcome(t, got, err, invalid("answers.floor"))
	// The system's periodic orders are not held to required questions.
	got, err = order.Decide(order.State{}, answering(map[string][]string{"floor": nil, "home_visit": nil}),
		order.Env{Actor: system, Now: defaultNow, Catalog: askingCatalog})
	checkOutcome(t, got, err, yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Channel = order.ChannelWeb })))
	// The default repair questions are optional.
	got, err = order.Decide(order.State{}, submitCmd(), env)
	checkOutcome(t, got, err, yields(submittedAt(defaultNow, normalDeadlines)))
}

func TestCheckQuestions(t *testing.T) {
	list := func(q order.Question) order.Question {
		q.Datatype, q.Values = order.DatatypeSingleValueList, []order.Choice{{Key: "a", Name: "甲"}}
		return q
	}
	ok := order.Question{Code: "floor", Description: "在几楼？", Datatype: order.DatatypeNumber}
	tests := []struct {
		name   string
		qs     []order.Question
		faults []string
	}{
		{name: "none is allowed", qs: nil},
		{name: "one of each datatype is allowed", qs: []order.Question{
			ok, {Code: "s", Description: "s", Datatype: order.DatatypeString}, {Code: "d", Description: "d", Datatype: order.DatatypeDatetime},
			{Code: "t", Description: "t", Datatype: order.DatatypeText}, list(order.Question{Code: "l", Description: "l"}),
			{Code: "m", Description: "m", Datatype: order.DatatypeMultiValueList, Values: []order.Choice{{Key: "x", Name: "乙"}, {Key: "y", Name: "丙"}}},
		}},
		{name: "a bad code is refused", qs: []order.Question{{Code: "楼层", Description: "x", Datatype: order.DatatypeString}}, faults: []string{"questions[0].code"}},
		{name: "a code twice is refused", qs: []order.Question{ok, ok}, faults: []string{"questions[1].code"}},
		{name: "no description is refused", qs: []order.Question{{Code: "x", Datatype: order.DatatypeString}}, faults: []string{"questions[0].description"}},
		{name: "an unknown datatype is refused", qs: []order.Question{{Code: "x", Description: "x", Datatype: "boolean"}}, faults: []string{"questions[0].datatype"}},
		{name: "a list without choices is refused", qs: []order.Question{{Code: "x", Description: "x", Datatype: order.DatatypeMultiValueList}}, faults: []string{"questions[0].values"}},
		{name: "choices on a number are refused", qs: []order.Question{{Code: "x", Description: "x", Datatype: order.DatatypeNumber, Values: []order.Choice{{Key: "a", Name: "甲"}}}}, faults: []string{"questions[0].values"}},
		{name: "a choice key twice is refused", qs: []order.Question{{Code: "x", Description: "x", Datatype: order.DatatypeSingleValueList,
			Values: []order.Choice{{Key: "a", Name: "甲"}, {Key: "a", Name: "乙"}}}}, faults: []string{"questions[0].values[1].key"}},
		{name: "a choice without a name is refused", qs: []order.Question{{Code: "x", Description: "x", Datatype: order.DatatypeSingleValueList,
			Values: []order.Choice{{Key: "a"}}}}, faults: []string{"questions[0].values[0].name"}},
		{name: "too many questions are refused", qs: func() []order.Question {
			var qs []order.Question
			for i := range order.MaxQuestions + 1 {
				qs = append(qs, order.Question{Code: "q" + strings.Repeat("x", i), Description: "x", Datatype: order.DatatypeString})
			}
			return qs
		}(), faults: []string{"questions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v domain.Validator
			order.CheckQuestions(&v, tt.qs)
			err := v.Err()
			if len(tt.faults) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			checkOutcome(t, nil, err, invalid(tt.faults...))
		})
	}
}
