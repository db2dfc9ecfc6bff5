package domain

import "strings"

// CleanText checks a text field for characters that have no place in it, records a
// fault against field in v, and returns the text with CRLF line ends made LF. Refused
// anywhere: control characters (NUL, ESC, a lone CR, DEL, C1), bidirectional overrides
// and isolates, which make a terminal or a screen show something else than is stored.
// Line ends (LF, CRLF) and tabs are allowed only when multiline.
func CleanText(v *Validator, field, s string, multiline bool) string {
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	for _, r := range s {
		bad := false
		switch {
		case r == '\n' || r == '\t':
			bad = !multiline
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			bad = true
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028 || r == 0x2029:
			bad = true
		}
		if bad {
			what := "must not hold control characters or direction overrides"
			if multiline {
				what = "must not hold control characters (other than line ends) or direction overrides"
			}
			v.Check(false, field, what)
			break
		}
	}
	return s
}
