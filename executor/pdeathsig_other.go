//go:build unix && !linux

package executor

import "syscall"

// dieWithParent has no portable equivalent outside Linux; GracePeriod
// bounds how long a cancelled script may outlive its signal.
func dieWithParent(*syscall.SysProcAttr) {}
