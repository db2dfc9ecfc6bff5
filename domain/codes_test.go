package domain_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"testing"

	"github.com/redlane/redlane/domain"
)

// TestEveryCodeIsListed: each Code constant declared is in Codes, once, with a kind and
// words; so every code a refusal can carry (the compiler holds refusals to the
// constants) is documented, and has a problem type and a Chinese text where those are
// made from Codes.
func TestEveryCodeIsListed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && len(name.Name) > 4 && name.Name[:4] == "Code" {
				v, _ := strconv.Unquote(lit.Value)
				declared[v] = true
			}
		}
		return true
	})
	shape := regexp.MustCompile(`^[a-z]+(-[a-z]+)*(\.[a-z]+(-[a-z]+)*)?$`)
	listed := map[domain.Code]bool{}
	for _, c := range domain.Codes {
		if listed[c.Code] {
			t.Errorf("%s is listed twice", c.Code)
		}
		listed[c.Code] = true
		if !shape.MatchString(string(c.Code)) || c.Doc == "" {
			t.Errorf("%s: a code is lower-case words joined by '-', with one '.' at most, and documented", c.Code)
		}
		if !declared[string(c.Code)] {
			t.Errorf("%s is listed but not declared", c.Code)
		}
	}
	for v := range declared {
		if !listed[domain.Code(v)] {
			t.Errorf("%s is declared but not listed in Codes", v)
		}
	}
	if len(declared) < 40 {
		t.Fatalf("found only %d declared codes: the scan is broken", len(declared))
	}
}

func TestCodeOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want domain.Code
	}{
		{domain.Refuse(domain.KindConflict, domain.CodeVersionMismatch, "x"), domain.CodeVersionMismatch},
		{domain.Errorf(domain.KindForbidden, "x"), domain.CodeForbidden},
		{domain.Invalid("title", "x"), domain.CodeInvalidInput},
		{domain.ErrConflict, domain.CodeConcurrentWrite},
		{strconv.ErrRange, domain.CodeInternal},
	} {
		if got := domain.CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}
