package domain

// ValidID reports whether id may name an aggregate: 1 to 64 ASCII letters, digits, '-'
// or '_'. Ids become NATS subject tokens, so nothing else is allowed.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// IDRule is the message given when an id breaks ValidID.
const IDRule = "must be 1 to 64 letters, digits, '-' or '_'"
