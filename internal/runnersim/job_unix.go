//go:build !windows

package runnersim

import (
	"os/exec"
	"syscall"
	"time"
)

// ownProcessGroup starts cmd in a process group of its own, as the runner
// starts custom-executor stages, so that terminate reaches its children.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// terminate sends SIGTERM to the process group, then SIGKILL after grace.
func terminate(cmd *exec.Cmd, grace time.Duration) {
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	if grace <= 0 {
		grace = 10 * time.Second
	}
	time.AfterFunc(grace, func() { _ = syscall.Kill(pgid, syscall.SIGKILL) })
}
