package executor

import "syscall"

// dieWithParent asks the kernel to SIGKILL the script if we die first: the
// runner SIGKILLs only our process group once its graceful_kill_timeout
// ends, and the script leads a group of its own.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
