package feed

// Query selects feed entries. Empty fields match everything.
type Query struct {
	Lane, Community, Dimension string
	// After is an event position: only entries of later events are wanted.
	After uint64
	// Limit bounds how many entries one read returns (default 50, at most 500).
	Limit int
}
