//go:build unix

package executor

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup makes the script lead a new process group, so that one
// signal reaches everything it started and nothing of ours.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
}

// signalGroup sends sig to the group leader leads. Errors are ignored: the
// usual one, ESRCH, means the group is already gone.
func signalGroup(leader *os.Process, sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		s = syscall.SIGTERM
	}
	_ = syscall.Kill(-leader.Pid, s)
}

// exitStatus follows the shell's convention of 128+N for a process killed by
// signal N, which is what a job log reader expects to see.
func exitStatus(state *os.ProcessState) int {
	ws, ok := state.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}
