//go:build unix

package natsserver

import "syscall"

// diskSpace is the space left to an unprivileged writer on the disk that holds dir, and
// the disk's size.
func diskSpace(dir string) (free, size uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, false
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), true
}
