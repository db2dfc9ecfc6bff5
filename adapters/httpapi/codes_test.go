package httpapi_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/redlane/redlane/adapters/httpapi"
	"github.com/redlane/redlane/domain"
)

// TestEveryCodeIsDocumented: docs/errors.md has a row for each code, with its status and
// problem type.
func TestEveryCodeIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	status := map[domain.Kind]int{domain.KindInvalid: 400, domain.KindUnauthorized: 401, domain.KindForbidden: 403,
		domain.KindNotFound: 404, domain.KindConflict: 409, domain.KindInternal: 500}
	for _, c := range domain.Codes {
		row := fmt.Sprintf("| `%s` | %d %s | `%s` |", c.Code, status[c.Kind], http.StatusText(status[c.Kind]), httpapi.ProblemType(string(c.Code)))
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/errors.md lacks the row of %s: %s", c.Code, row)
		}
	}
}
