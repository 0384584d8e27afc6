package cli

import (
	"errors"
	"fmt"
	"os/exec"
)

// errPrinted marks an error whose message has already reached the user.
var errPrinted = errors.New("error already reported")

// usageError is a mistake in the command line or configuration: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// stageExit carries a custom-executor stage's exit status, which the runner
// chooses (BUILD_FAILURE_EXIT_CODE / SYSTEM_FAILURE_EXIT_CODE).
type stageExit struct {
	code int
	err  error
}

func (e *stageExit) Error() string { return e.err.Error() }
func (e *stageExit) Unwrap() error { return e.err }

// notFoundError: the artifacts do not exist (yet): exit 3.
type notFoundError struct{ err error }

func (e *notFoundError) Error() string { return e.err.Error() }
func (e *notFoundError) Unwrap() error { return e.err }

// exitCode is the one table from errors to exit statuses.
//
//	nil                    0
//	*stageExit             the runner's code from the stage environment
//	*usageError            2 (usage or configuration)
//	*notFoundError         3 (artifacts missing or not there before --wait's deadline)
//	*exec.ExitError        its own code (a wrapped inner driver)
//	anything else          1
func exitCode(err error) int {
	var se *stageExit
	var ue *usageError
	var nf *notFoundError
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &nf):
		return 3
	case errors.As(err, &ee) && ee.ExitCode() > 0:
		return ee.ExitCode()
	}
	return 1
}
