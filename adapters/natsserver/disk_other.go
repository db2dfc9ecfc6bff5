//go:build !unix

package natsserver

// diskSpace cannot tell here: the keeper then simply tries.
func diskSpace(string) (free, size uint64, ok bool) { return 0, 0, false }
