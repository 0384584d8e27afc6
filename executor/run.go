package executor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// DefaultShell runs the runner's generated script, which starts with
// "#!/usr/bin/env bash".
const DefaultShell = "bash"

// DefaultWaitDelay bounds how long RunScript keeps reading a finished
// script's output while processes it left behind still hold the pipes.
const DefaultWaitDelay = 10 * time.Second

// ScriptError reports a stage script that ran and failed: the job's failure,
// not ours. Every other error from RunScript is a system failure.
type ScriptError struct {
	// ExitCode is the script's exit status, or 128+N when signal N killed it.
	ExitCode int
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("script exited with status %d", e.ExitCode)
}

// RunOptions configures RunScript.
type RunOptions struct {
	// Script is the path of the stage script the runner wrote.
	Script string
	// Shell runs Script; DefaultShell when empty.
	Shell string
	// Dir is the script's working directory; ours when empty.
	Dir string
	// Env is the script's whole environment, used as is; nil means our own,
	// as with exec.Cmd, so compose it with JobEnvironment.
	Env []string
	// Stdout and Stderr receive the script's output; nil discards it. An
	// *os.File is handed to the script directly, anything else through a pipe
	// that RunScript drains; neither is closed.
	Stdout, Stderr io.Writer
	// Signals, when set, delivers signals to forward to the script's process
	// group as they are, e.g. from signal.Notify. A closed channel is ignored.
	Signals <-chan os.Signal
	// GracePeriod is how long the script's group may take to exit after the
	// first termination signal before it is sent SIGKILL. Zero waits for as
	// long as it takes, leaving escalation to the runner.
	GracePeriod time.Duration
	// WaitDelay is DefaultWaitDelay when zero; see there.
	WaitDelay time.Duration
}

// RunScript runs o.Shell o.Script in a process group of its own and waits for
// it. When ctx is done the group gets SIGTERM; a signal from o.Signals is
// forwarded instead. Once terminating, the group gets SIGKILL after
// o.GracePeriod and again when the script has exited, so nothing of a
// cancelled job outlives it. After a normal exit, processes the script left in
// the background are left alone, as the runner's shell executor does.
//
// It returns nil when the script exits 0, *ScriptError when it exits non-zero
// or is killed, and another error when it cannot be run at all.
func RunScript(ctx context.Context, o RunOptions) error {
	// bash reports a missing script as status 127, which would pass for the
	// job's own failure; a missing script is the runner's failure or ours.
	if _, err := os.Stat(o.Script); err != nil {
		return fmt.Errorf("stage script: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run stage script: %w", err)
	}
	cmd := o.command()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start stage script: %w", err)
	}
	return scriptResult(supervise(ctx, cmd, o.Signals, o.GracePeriod))
}

// supervise waits for a started command whose process group it relays
// cancellation and signals to, and returns Wait's error.
func supervise(ctx context.Context, cmd *exec.Cmd, signals <-chan os.Signal, grace time.Duration) error {
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	g := &group{leader: cmd.Process, grace: grace}
	return g.supervise(ctx, signals, waited)
}

func (o RunOptions) command() *exec.Cmd {
	// Not exec.CommandContext: its Cancel and WaitDelay act on the leader
	// alone, while cancellation here must reach the whole group.
	cmd := exec.Command(cmp.Or(o.Shell, DefaultShell), o.Script)
	cmd.Dir = o.Dir
	cmd.Env = o.Env
	cmd.Stdout = o.Stdout
	cmd.Stderr = o.Stderr
	// Without a context, WaitDelay only bounds draining the output pipes.
	cmd.WaitDelay = cmp.Or(o.WaitDelay, DefaultWaitDelay)
	setProcessGroup(cmd)
	return cmd
}

// scriptResult sorts Wait's error into the job's failure and ours.
func scriptResult(err error) error {
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		// ErrWaitDelay means the script succeeded but left processes holding
		// its output open; that is no reason to fail the job.
		return nil
	case errors.As(err, &exitErr):
		return &ScriptError{ExitCode: exitStatus(exitErr.ProcessState)}
	default:
		return fmt.Errorf("wait for stage script: %w", err)
	}
}

// group is the script's process group, led by the shell.
type group struct {
	leader      *os.Process
	grace       time.Duration
	terminating bool
	killTimer   *time.Timer
}

// supervise relays cancellation and signals to the group until the leader has
// been waited for, and returns Wait's error.
func (g *group) supervise(ctx context.Context, signals <-chan os.Signal, waited <-chan error) error {
	defer g.stopKillTimer()
	done := ctx.Done()
	for {
		select {
		case err := <-waited:
			if g.terminating {
				signalGroup(g.leader, syscall.SIGKILL)
			}
			return err
		case <-done:
			done = nil
			// A forwarded signal already asked the group to stop.
			if !g.terminating {
				g.terminate(syscall.SIGTERM)
			}
		case sig, ok := <-signals:
			if !ok {
				signals = nil
				continue
			}
			g.terminate(sig)
		case <-g.killDeadline():
			g.stopKillTimer()
			signalGroup(g.leader, syscall.SIGKILL)
		}
	}
}

// terminate sends sig and, the first time, starts the grace period.
func (g *group) terminate(sig os.Signal) {
	signalGroup(g.leader, sig)
	if !g.terminating && g.grace > 0 {
		g.killTimer = time.NewTimer(g.grace)
	}
	g.terminating = true
}

// killDeadline is nil, which blocks forever in a select, without a running
// grace period.
func (g *group) killDeadline() <-chan time.Time {
	if g.killTimer == nil {
		return nil
	}
	return g.killTimer.C
}

func (g *group) stopKillTimer() {
	if g.killTimer != nil {
		g.killTimer.Stop()
		g.killTimer = nil
	}
}
