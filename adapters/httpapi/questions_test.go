package httpapi_test

import (
	"maps"
	"slices"
	"testing"
)

// withAnswers is the standard request with these answers.
func withAnswers(answers map[string]any) map[string]any {
	r := maps.Clone(request)
	r["answers"] = answers
	return r
}

// TestCategoryQuestions: an admin gives a category questions with PUT; the catalogue
// shows them; a submit's answers are checked against them (each fault a 400 naming
// answers.<code>, writing nothing) and shown back beside their questions.
func TestCategoryQuestions(t *testing.T) {
	h := newHarness(t)
	w := h.seed()

	cats := h.must(200, h.do("GET", "/api/v1/categories", "", nil))
	repair := findItem(t, cats, "repair")
	if qs, _ := repair["questions"].([]any); len(qs) != 2 {
		t.Fatalf("the default repair category asks %v, want floor and home_visit", repair["questions"])
	}

	def := map[string]any{"name": "日常维修", "skills": []string{"repair"},
		"normal": map[string]any{"accept_minutes": 600, "complete_minutes": 2880},
		"questions": []any{
			map[string]any{"code": "floor", "description": "在几楼？", "datatype": "number", "required": true},
			map[string]any{"code": "rooms", "description": "哪些房间？", "datatype": "multivaluelist",
				"values": []any{map[string]any{"key": "kitchen", "name": "厨房"}, map[string]any{"key": "bath", "name": "卫生间"}}},
		}}
	h.must(403, h.do("PUT", "/api/v1/categories/repair", w.steward, def))
	bad := maps.Clone(def)
	bad["questions"] = []any{map[string]any{"code": "x", "description": "x", "datatype": "boolean"}}
	before := h.count()
	if r := h.must(400, h.do("PUT", "/api/v1/categories/repair", adminToken, bad)); !slices.Contains(r.problemFields(), "questions[0].datatype") {
		t.Errorf("a bad datatype named %v", r.problemFields())
	}
	if h.count() != before {
		t.Fatal("a refused definition wrote events")
	}
	got := h.must(200, h.do("PUT", "/api/v1/categories/repair", adminToken, def))
	if n, _ := got.body["normal"].(map[string]any)["accept_minutes"].(float64); n != 600 {
		t.Errorf("defined %s", got.raw)
	}
	before = h.count()
	h.must(200, h.do("PUT", "/api/v1/categories/repair", adminToken, def))
	if h.count() != before {
		t.Error("defining a category as it is wrote an event")
	}
	cats = h.must(200, h.do("GET", "/api/v1/categories", "", nil))
	if qs, _ := findItem(t, cats, "repair")["questions"].([]any); len(qs) != 2 || qs[1].(map[string]any)["code"] != "rooms" {
		t.Fatalf("after the PUT repair asks %v", qs)
	}
	h.must(200, h.do("PUT", "/api/v1/categories/heating", adminToken, map[string]any{"name": "供暖报修"}))
	if findItem(t, h.must(200, h.do("GET", "/api/v1/categories", "", nil)), "heating") == nil {
		t.Fatal("a new category is not in the catalogue")
	}

	for _, tt := range []struct {
		name    string
		answers map[string]any
		field   string
	}{
		{"a missing required answer", map[string]any{}, "answers.floor"},
		{"an unknown question", map[string]any{"floor": 3, "colour": "red"}, "answers.colour"},
		{"a word for a number", map[string]any{"floor": "三楼"}, "answers.floor"},
		{"a value not in the list", map[string]any{"floor": 3, "rooms": []any{"kitchen", "garage"}}, "answers.rooms"},
		{"an object for an answer", map[string]any{"floor": map[string]any{"n": 3}}, "answers.floor"},
		{"two answers to one question", map[string]any{"floor": []any{3, 4}}, "answers.floor"},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			before := h.count()
			r := h.must(400, h.do("POST", "/api/v1/orders", "", withAnswers(tt.answers)))
			if !slices.Contains(r.problemFields(), tt.field) {
				t.Errorf("named %v, want %s", r.problemFields(), tt.field)
			}
			if h.count() != before {
				t.Error("a refused submit wrote events")
			}
		})
	}

	r := h.must(201, h.do("POST", "/api/v1/orders", "", withAnswers(map[string]any{"floor": 3, "rooms": []any{"bath", "kitchen"}})))
	id := r.str("id")
	o := h.must(200, h.do("GET", "/api/v1/orders/"+id, w.steward, nil))
	answers, _ := o.body["answers"].([]any)
	if len(answers) != 2 {
		t.Fatalf("the order shows answers %v", o.body["answers"])
	}
	first, second := answers[0].(map[string]any), answers[1].(map[string]any)
	if first["question"] != "在几楼？" || first["answer"] != "3" || second["question"] != "哪些房间？" || second["answer"] != "卫生间、厨房" {
		t.Errorf("answers shown as %v", answers)
	}
	if d, _ := o.body["accept_by"].(string); d == "" {
		t.Error("no accept_by")
	}
}

// findItem finds the category with code in a list's items.
func findItem(t *testing.T, r reply, code string) map[string]any {
	t.Helper()
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["code"] == code {
			return m
		}
	}
	return nil
}
