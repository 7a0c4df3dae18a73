//go:build !unix

package bench

import (
	"errors"
	"time"
)

func selfCPU() (time.Duration, error) {
	return 0, errors.New("getrusage is not available on this system")
}
