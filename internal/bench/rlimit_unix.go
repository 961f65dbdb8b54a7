//go:build unix

package bench

import (
	"fmt"
	"syscall"
)

// RaiseFileLimit raises this process's soft limit of open files to its hard
// limit and returns the limit now in force. Each stream holds one file.
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("get open file limit: %w", err)
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, fmt.Errorf("raise open file limit: %w", err)
		}
	}
	return uint64(l.Cur), nil
}
