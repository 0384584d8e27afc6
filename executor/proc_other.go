//go:build !unix

package executor

import (
	"os"
	"os/exec"
)

// setProcessGroup is a no-op: without Unix process groups only the script
// itself can be signalled.
func setProcessGroup(*exec.Cmd) {}

// signalGroup kills the script, the only termination these systems offer for
// another process.
func signalGroup(leader *os.Process, _ os.Signal) {
	_ = leader.Kill()
}

func exitStatus(state *os.ProcessState) int {
	return state.ExitCode()
}
