package runnersim

import (
	"os/exec"
	"time"
)

// ownProcessGroup does nothing on Windows: the simulator drives stages
// through bash on Unix only; this file exists so that the package builds.
func ownProcessGroup(*exec.Cmd) {}

// terminate kills the process: Windows has no SIGTERM to send first.
func terminate(cmd *exec.Cmd, _ time.Duration) { _ = cmd.Process.Kill() }
