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
			Urgent: Deadlines{Accept: 15 * time.Minute, Complete: 2 * time.Hour}},
		Category{Code: "repair", Name: "日常维修", Skills: []string{"repair", "electrical"}},
		Category{Code: "policy", Name: "政策解读", Skills: []string{"policy", "legal"}},
		Category{Code: "errand", Name: "红色代办"},
		Category{Code: "dispute", Name: "邻里纠纷", Skills: []string{"counselling", "legal"}},
		Category{Code: "city", Name: "城市管理", Skills: []string{"city"}},
	)
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
