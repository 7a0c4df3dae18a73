//go:build unix

package bench

import (
	"syscall"
	"time"
)

// selfCPU is the user plus system CPU time this process has used (getrusage(RUSAGE_SELF)).
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
