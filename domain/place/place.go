// Package place holds what streets (package street) and communities (package community)
// share: the rule for a place's Chinese name. Ids are for machines; names are what
// people see.
package place

import (
	"strings"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
)

// MaxName is the most characters a street's or a community's name may have.
const MaxName = 50

// CleanName trims a place's name and checks it: required, on one line, at most MaxName
// characters. Faults are recorded in v against the field "name".
func CleanName(v *domain.Validator, name string) string {
	name = strings.TrimSpace(name)
	v.Check(name != "", "name", "is required")
	name = domain.CleanText(v, "name", name, false)
	v.Check(utf8.RuneCountInString(name) <= MaxName, "name", "is too long")
	return name
}
