package order

import (
	"slices"
	"time"
)

// Category is one kind of request in the catalogue: what it is called, how long it may
// wait and which skills it needs.
type Category struct {
	Code   string   `json:"code"`
	Name   string   `json:"name"` // zh-CN
	Skills []string `json:"skills"`
	// Deadlines by priority, counted from submission (or reopening).
	Normal Deadlines `json:"normal"`
	Urgent Deadlines `json:"urgent"`
	// Questions are what intake asks besides the title and description, in order.
	Questions []Question `json:"questions,omitempty"`
}

// Deadlines say how soon an order must be accepted and completed.
type Deadlines struct {
	Accept   time.Duration `json:"accept"`
	Complete time.Duration `json:"complete"`
}

// DefaultDeadlines are the product's defaults: urgent accepted within 30 minutes and done
// within 4 hours; normal accepted within 24 hours and done within 72.
var DefaultDeadlines = struct{ Normal, Urgent Deadlines }{
	Normal: Deadlines{Accept: 24 * time.Hour, Complete: 72 * time.Hour},
	Urgent: Deadlines{Accept: 30 * time.Minute, Complete: 4 * time.Hour},
}

// Catalog is the set of categories an order may have.
type Catalog struct {
	categories []Category
}

// NewCatalog returns a catalogue of cs. A category with zero deadlines gets the defaults.
func NewCatalog(cs ...Category) Catalog {
	out := make([]Category, len(cs))
	for i, c := range cs {
		if c.Normal == (Deadlines{}) {
			c.Normal = DefaultDeadlines.Normal
		}
		if c.Urgent == (Deadlines{}) {
			c.Urgent = DefaultDeadlines.Urgent
		}
		out[i] = c
	}
	return Catalog{categories: out}
}

// DefaultCatalog is the catalogue the district starts with.
func DefaultCatalog() Catalog {
	return NewCatalog(
		Category{Code: "consultation", Name: "便民咨询"},
		Category{Code: "medical", Name: "医疗服务", Skills: []string{"medical"},
			Urgent:    Deadlines{Accept: 15 * time.Minute, Complete: 2 * time.Hour},
			Questions: []Question{mobility}},
		Category{Code: "repair", Name: "日常维修", Skills: []string{"repair", "electrical"},
			Questions: []Question{floor, homeVisit}},
		Category{Code: "policy", Name: "政策解读", Skills: []string{"policy", "legal"}},
		Category{Code: "errand", Name: "红色代办"},
		Category{Code: "dispute", Name: "邻里纠纷", Skills: []string{"counselling", "legal"}},
		Category{Code: "city", Name: "城市管理", Skills: []string{"city"}},
	)
}

// The default catalogue's questions. They are optional, so a request that does not
// answer them (an older client's) is taken as before.
var (
	floor     = Question{Code: "floor", Description: "在几楼？", Datatype: DatatypeNumber}
	homeVisit = Question{Code: "home_visit", Description: "是否需要入户？", Datatype: DatatypeSingleValueList,
		Values: []Choice{{Key: "yes", Name: "需要入户"}, {Key: "no", Name: "不需要入户"}}}
	mobility = Question{Code: "mobility", Description: "是否行动不便？", Datatype: DatatypeSingleValueList,
		Values: []Choice{{Key: "yes", Name: "行动不便"}, {Key: "no", Name: "行动方便"}}}
)

// With returns the catalogue with cs in it: a category of cs replaces the one with its
// code, or is added after the others. A category with zero deadlines gets the defaults.
func (c Catalog) With(cs ...Category) Catalog {
	out := slices.Clone(c.categories)
	for _, x := range NewCatalog(cs...).categories {
		if i := slices.IndexFunc(out, func(y Category) bool { return y.Code == x.Code }); i >= 0 {
			out[i] = x
		} else {
			out = append(out, x)
		}
	}
	return Catalog{categories: out}
}

// Question returns the category's question with code.
func (c Category) Question(code string) (Question, bool) {
	i := slices.IndexFunc(c.Questions, func(q Question) bool { return q.Code == code })
	if i < 0 {
		return Question{}, false
	}
	return c.Questions[i], true
}

// Lookup finds a category by its code or its Chinese name.
func (c Catalog) Lookup(key string) (Category, bool) {
	i := slices.IndexFunc(c.categories, func(x Category) bool { return x.Code == key || x.Name == key })
	if i < 0 {
		return Category{}, false
	}
	return c.categories[i], true
}

// All returns the categories in catalogue order.
func (c Catalog) All() []Category { return slices.Clone(c.categories) }

// DeadlinesFor returns the deadlines of an order of this category and priority.
func (c Category) DeadlinesFor(p Priority) Deadlines {
	if p == PriorityUrgent {
		return c.Urgent
	}
	return c.Normal
}
