package open311

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
)

// submission is a POST requests form as read, before anything is looked up.
type submission struct {
	ServiceCode    string
	Lat, Long      *float64
	AddressString  string
	AddressID      string
	FirstName      string
	LastName       string
	Phone          string
	Description    string
	MediaURL       string
	Email          string // accepted and never stored: Redlane keeps no resident's email
	DeviceID       string // accepted and ignored
	AccountID      string // accepted and ignored
	JurisdictionID string
	// Attributes are the answers to the service's questions: attribute[CODE]=value,
	// repeated (or attribute[CODE][]=value) for a multivaluelist.
	Attributes map[string][]string
}

// Limits on a form's fields, in bytes: generous, as Redlane's own rules then apply.
const (
	maxShort         = 200
	maxText          = 8000
	maxAttributes    = 50
	maxAttributeVals = 50
)

// parseSubmission reads a POST requests form. It checks only the form itself (text that
// is UTF-8 and not too long, coordinates that are numbers on the globe, given in pairs);
// an error names every field at fault, as Open311 names it.
func parseSubmission(form url.Values) (submission, error) {
	var v domain.Validator
	text := func(field string, limit int) string {
		vals := form[field]
		if len(vals) == 0 {
			return ""
		}
		s := strings.TrimSpace(vals[0])
		v.Check(utf8.ValidString(s), field, "must be UTF-8 text")
		v.Check(len(s) <= limit, field, "is too long")
		if !utf8.ValidString(s) || len(s) > limit {
			return ""
		}
		return s
	}
	sub := submission{
		ServiceCode:    text("service_code", maxShort),
		AddressString:  text("address_string", maxShort),
		AddressID:      text("address_id", maxShort),
		FirstName:      text("first_name", maxShort),
		LastName:       text("last_name", maxShort),
		Phone:          text("phone", maxShort),
		Description:    text("description", maxText),
		MediaURL:       text("media_url", maxText),
		Email:          text("email", maxShort),
		DeviceID:       text("device_id", maxShort),
		AccountID:      text("account_id", maxShort),
		JurisdictionID: text("jurisdiction_id", maxShort),
	}
	v.Check(sub.ServiceCode != "", "service_code", "is required")
	latText, longText := text("lat", maxShort), text("long", maxShort)
	lat, latOK := coordinate(&v, "lat", latText, 90)
	long, longOK := coordinate(&v, "long", longText, 180)
	v.Check(latText != "" || longText == "", "lat", "is required with long")
	v.Check(longText != "" || latText == "", "long", "is required with lat")
	if latOK && longOK {
		sub.Lat, sub.Long = &lat, &long
	}
	if sub.MediaURL != "" {
		u, err := url.Parse(sub.MediaURL)
		v.Check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "media_url", "must be an http or https URL")
	}
	for key, vals := range form {
		code, ok := attributeCode(key)
		if !ok {
			continue
		}
		field := "attribute[" + code + "]"
		good := code != "" && len(code) <= maxShort && utf8.ValidString(code) && len(vals) <= maxAttributeVals
		for _, val := range vals {
			good = good && utf8.ValidString(val) && len(val) <= maxText
		}
		v.Check(good, safeField(field), "must name a question and answer it in UTF-8 text")
		if !good {
			continue
		}
		if sub.Attributes == nil {
			sub.Attributes = map[string][]string{}
		}
		for _, val := range vals {
			if val = strings.TrimSpace(val); val != "" {
				sub.Attributes[code] = append(sub.Attributes[code], val)
			}
		}
	}
	v.Check(len(sub.Attributes) <= maxAttributes, "attribute", "too many answers")
	if err := v.Err(); err != nil {
		return submission{}, err
	}
	return sub, nil
}

// attributeCode reads the question's code from attribute[CODE] or attribute[CODE][].
func attributeCode(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "attribute[")
	if !ok {
		return "", false
	}
	rest = strings.TrimSuffix(rest, "[]")
	code, ok := strings.CutSuffix(rest, "]")
	return code, ok
}

// safeField keeps a field name fit to show back: valid UTF-8, bounded.
func safeField(f string) string {
	f = strings.ToValidUTF8(f, "?")
	if len(f) > 80 {
		f = f[:80] + "…"
	}
	return strings.ToValidUTF8(f, "")
}

// coordinate reads a latitude or longitude within ±limit; "" is none.
func coordinate(v *domain.Validator, field, s string, limit float64) (float64, bool) {
	if s == "" {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	ok := err == nil && !math.IsNaN(x) && math.Abs(x) <= limit
	v.Check(ok, field, "must be a number from -"+strconv.Itoa(int(limit))+" to "+strconv.Itoa(int(limit)))
	return x, ok
}

// requesterName puts a resident's name together: family name first and no space when
// the name is Chinese (张 + 阿姨 → 张阿姨), given name first otherwise.
func requesterName(first, last string) string {
	if hasHan(first) || hasHan(last) {
		return last + first
	}
	return strings.TrimSpace(first + " " + last)
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

// maxTitle is how much of a description's first line becomes the order's title.
const maxTitle = 30

// titleOf makes an order's title from a description: its first line that is not blank,
// cut at maxTitle characters; fallback (the service's name) when there is none.
func titleOf(description, fallback string) string {
	for line := range strings.Lines(description) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if r := []rune(line); len(r) > maxTitle {
			return string(r[:maxTitle]) + "…"
		}
		return line
	}
	return fallback
}

// splitList splits a comma-separated parameter, dropping blanks and repeats.
func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
