package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks Linux to kill the child if this process dies without stopping it (for
// example on SIGKILL), so that no sandbox outlives its benchmark.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
