package order

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
)

// Datatype is what kind of answer a question takes. The names are Open311 GeoReport
// v2's attribute datatypes, so a category's questions are its service's attributes as
// they are.
type Datatype string

// The datatypes.
const (
	DatatypeString          Datatype = "string"          // one line of text
	DatatypeNumber          Datatype = "number"          // a decimal number
	DatatypeDatetime        Datatype = "datetime"        // a date, or a date and time
	DatatypeText            Datatype = "text"            // several lines of text
	DatatypeSingleValueList Datatype = "singlevaluelist" // one key of Values
	DatatypeMultiValueList  Datatype = "multivaluelist"  // one or more keys of Values
)

// Datatypes lists every datatype, in Open311's order.
var Datatypes = []Datatype{DatatypeString, DatatypeNumber, DatatypeDatetime, DatatypeText, DatatypeSingleValueList, DatatypeMultiValueList}

// IsList reports whether answers are keys of the question's values.
func (d Datatype) IsList() bool {
	return d == DatatypeSingleValueList || d == DatatypeMultiValueList
}

// Question is one thing a category asks whoever places a request of it, besides the
// title and description: the floor, whether the member must come in.
type Question struct {
	Code        string   `json:"code"`
	Description string   `json:"description"` // the question, zh-CN
	Datatype    Datatype `json:"datatype"`
	Required    bool     `json:"required"`
	Values      []Choice `json:"values,omitempty"` // the choices of a list
}

// Choice is one value a list question offers: its key, which answers carry, and its
// name, which people read.
type Choice struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Answer is the answer to one question as an order keeps it: the question's code and its
// wording when it was asked, the values given and, for a list, the choices' names, so
// the answer reads the same after the category changes.
type Answer struct {
	Code     string   `json:"code"`
	Question string   `json:"question"`
	Values   []string `json:"values"`
	Names    []string `json:"names,omitempty"`
}

// Shown is the answer as people read it: the choices' names, or the values, joined.
func (a Answer) Shown() string {
	if len(a.Names) > 0 {
		return strings.Join(a.Names, "、")
	}
	return strings.Join(a.Values, "、")
}

// Limits on answers, in characters.
const (
	MaxAnswerString = 200
	MaxAnswerText   = 2000
)

// DatetimeLayouts are the forms a datetime answer may take: RFC 3339, or a local date
// and time or date as forms and people write them.
var DatetimeLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// checkAnswers enforces the category's questions on given (each code's values; blank
// values count as none): every code is a question of the category, every required
// question is answered, every answer has its question's datatype, a list's answers are
// its keys, and text is not too long. A periodic schedule's submission, which nobody is
// there to answer, is held to what it answers but not to the required questions
// (required false). It returns the answers in the category's order; faults name
// answers.<code>.
func checkAnswers(v *domain.Validator, c Category, given map[string][]string, required bool) []Answer {
	answered := map[string][]string{}
	for code, vals := range given {
		var kept []string
		for _, x := range vals {
			if x = strings.TrimSpace(x); x != "" {
				kept = append(kept, x)
			}
		}
		field := "answers." + code
		if !slices.ContainsFunc(c.Questions, func(q Question) bool { return q.Code == code }) {
			v.Check(false, fieldOf(field), "is not a question of category "+c.Code)
			continue
		}
		if len(kept) > 0 {
			answered[code] = kept
		}
	}
	var out []Answer
	for _, q := range c.Questions {
		field := "answers." + q.Code
		vals, ok := answered[q.Code]
		if !ok {
			v.Check(!q.Required || !required, field, "is required")
			continue
		}
		if a, ok := checkAnswer(v, field, q, vals); ok {
			out = append(out, a)
		}
	}
	return out
}

// checkAnswer checks the values given to one question.
func checkAnswer(v *domain.Validator, field string, q Question, vals []string) (Answer, bool) {
	a := Answer{Code: q.Code, Question: q.Description, Values: vals}
	if q.Datatype != DatatypeMultiValueList && len(vals) > 1 {
		v.Check(false, field, "takes one answer")
		return a, false
	}
	bad := func(msg string) (Answer, bool) { v.Check(false, field, msg); return a, false }
	switch q.Datatype {
	case DatatypeString, DatatypeText:
		multi, limit := q.Datatype == DatatypeText, MaxAnswerString
		if multi {
			limit = MaxAnswerText
		}
		var sub domain.Validator
		a.Values[0] = domain.CleanText(&sub, field, vals[0], multi)
		if sub.Err() != nil {
			return bad("must not hold control characters or direction overrides")
		}
		if utf8.RuneCountInString(a.Values[0]) > limit {
			return bad(fmt.Sprintf("is too long: at most %d characters", limit))
		}
	case DatatypeNumber:
		x, err := strconv.ParseFloat(vals[0], 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return bad("must be a number")
		}
	case DatatypeDatetime:
		if !slices.ContainsFunc(DatetimeLayouts, func(l string) bool { _, err := time.Parse(l, vals[0]); return err == nil }) {
			return bad("must be a date and time (2026-11-30T14:00:00+08:00, 2026-11-30T14:00 or 2026-11-30)")
		}
	case DatatypeSingleValueList, DatatypeMultiValueList:
		seen := map[string]bool{}
		for _, x := range vals {
			i := slices.IndexFunc(q.Values, func(c Choice) bool { return c.Key == x })
			if i < 0 {
				return bad("must be one of " + keysOf(q.Values))
			}
			if seen[x] {
				return bad("names " + x + " twice")
			}
			seen[x] = true
			a.Names = append(a.Names, q.Values[i].Name)
		}
	default:
		return bad("cannot be answered: the question has no known datatype")
	}
	return a, true
}

func keysOf(cs []Choice) string {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return strings.Join(keys, ", ")
}

// fieldOf keeps a field named after what a caller sent fit to show back: valid UTF-8,
// bounded.
func fieldOf(f string) string {
	f = strings.ToValidUTF8(f, "?")
	if utf8.RuneCountInString(f) > 80 {
		f = string([]rune(f)[:80]) + "…"
	}
	return f
}

// Limits on questions.
const (
	MaxQuestions     = 20
	MaxChoices       = 50
	MaxQuestionText  = 200
	MaxChoiceName    = 50
	MaxQuestionCodes = 40 // characters of a question's code or a choice's key
)

// CheckQuestions checks a category's questions as an admin defines them: each has a code
// (letters, digits, '-' or '_') no other has, a description, a known datatype; a list has
// choices with keys and names, each key once; other datatypes have none. It returns them
// trimmed; faults name questions[i].field.
func CheckQuestions(v *domain.Validator, qs []Question) []Question {
	v.Check(len(qs) <= MaxQuestions, "questions", fmt.Sprintf("at most %d questions", MaxQuestions))
	out := make([]Question, len(qs))
	codes := map[string]bool{}
	for i, q := range qs {
		at := fmt.Sprintf("questions[%d].", i)
		q.Code = strings.TrimSpace(q.Code)
		q.Description = strings.TrimSpace(q.Description)
		v.Check(domain.ValidID(q.Code) && len(q.Code) <= MaxQuestionCodes, at+"code", fmt.Sprintf("must be 1 to %d letters, digits, '-' or '_'", MaxQuestionCodes))
		v.Check(!codes[q.Code], at+"code", "is the code of another question")
		codes[q.Code] = true
		q.Description = domain.CleanText(v, at+"description", q.Description, false)
		v.Check(q.Description != "", at+"description", "is required")
		v.Check(utf8.RuneCountInString(q.Description) <= MaxQuestionText, at+"description", "is too long")
		v.Check(slices.Contains(Datatypes, q.Datatype), at+"datatype", "must be string, number, datetime, text, singlevaluelist or multivaluelist")
		if q.Datatype.IsList() {
			v.Check(len(q.Values) > 0, at+"values", "a list needs at least one choice")
			v.Check(len(q.Values) <= MaxChoices, at+"values", fmt.Sprintf("at most %d choices", MaxChoices))
		} else {
			v.Check(len(q.Values) == 0, at+"values", "only a list has choices")
		}
		keys := map[string]bool{}
		choices := make([]Choice, len(q.Values))
		for j, c := range q.Values {
			cat := fmt.Sprintf("%svalues[%d].", at, j)
			c.Key, c.Name = strings.TrimSpace(c.Key), strings.TrimSpace(c.Name)
			v.Check(domain.ValidID(c.Key) && len(c.Key) <= MaxQuestionCodes, cat+"key", fmt.Sprintf("must be 1 to %d letters, digits, '-' or '_'", MaxQuestionCodes))
			v.Check(!keys[c.Key], cat+"key", "is the key of another choice")
			keys[c.Key] = true
			c.Name = domain.CleanText(v, cat+"name", c.Name, false)
			v.Check(c.Name != "" && utf8.RuneCountInString(c.Name) <= MaxChoiceName, cat+"name", fmt.Sprintf("is required, at most %d characters", MaxChoiceName))
			choices[j] = c
		}
		if len(choices) == 0 {
			choices = nil
		}
		q.Values = choices
		out[i] = q
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
