package domain_test

import (
	"testing"

	"github.com/redlane/redlane/domain"
)

func TestCleanText(t *testing.T) {
	for _, c := range []struct {
		in        string
		multiline bool
		ok        bool
		out       string
	}{
		{"楼道灯不亮了", false, true, "楼道灯不亮了"},
		{"三单元\n二楼", false, false, ""},
		{"三单元\r\n二楼\n\t感应灯", true, true, "三单元\n二楼\n\t感应灯"},
		{"灯\x1b[2J坏了", true, false, ""},      // ESC: a terminal escape
		{"灯坏了\r已处理", true, false, ""},        // a lone CR hides what came before
		{"灯\x00坏了", true, false, ""},         // NUL
		{"灯\u202e了坏", false, false, ""},      // right-to-left override
		{"灯\u2066坏了\u2069", true, false, ""}, // isolates
		{"灯\u0085坏了", true, false, ""},       // C1 next line
		{"灯\u2028坏了", true, false, ""},       // line separator
		{"灯坏了\x7f", false, false, ""},        // DEL
		{"Ünïcödé 和 emoji 🙂 fine", false, true, "Ünïcödé 和 emoji 🙂 fine"},
	} {
		var v domain.Validator
		got := domain.CleanText(&v, "title", c.in, c.multiline)
		err := v.Err()
		if (err == nil) != c.ok {
			t.Errorf("CleanText(%q, %v): err %v, want ok %v", c.in, c.multiline, err, c.ok)
			continue
		}
		if err != nil {
			if fe := err.(*domain.Error).Fields; len(fe) != 1 || fe[0].Field != "title" {
				t.Errorf("CleanText(%q): fields %v, want title named", c.in, fe)
			}
			continue
		}
		if got != c.out {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}
