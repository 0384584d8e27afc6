package executor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"time"
)

// CommandOptions configures RunCommand.
type CommandOptions struct {
	// Args is the inner driver and its arguments.
	Args []string
	// Env is its whole environment; nil means ours.
	Env []string
	// Stdout and Stderr receive its output; nil discards it. An *os.File is
	// handed over directly, as the runner hands it to us.
	Stdout, Stderr io.Writer
	// Signals, GracePeriod and WaitDelay mean what they mean in RunOptions.
	Signals     <-chan os.Signal
	GracePeriod time.Duration
	WaitDelay   time.Duration
}

// RunCommand runs an inner custom-executor driver (--wrap) under the same
// supervision as RunScript: a process group of its own, ctx's end and
// forwarded signals relayed to the whole group, SIGKILL after GracePeriod.
//
// It returns nil on exit 0, the *exec.ExitError of a driver that failed
// (its status is the runner's to read), or another error when it could not
// be run at all.
func RunCommand(ctx context.Context, o CommandOptions) error {
	if len(o.Args) == 0 {
		return errors.New("inner driver: no command")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inner driver: %w", err)
	}
	cmd := exec.Command(o.Args[0], o.Args[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = o.Env, o.Stdout, o.Stderr
	cmd.WaitDelay = cmp.Or(o.WaitDelay, DefaultWaitDelay)
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("inner driver: %w", err)
	}
	err := supervise(ctx, cmd, o.Signals, o.GracePeriod)
	if errors.Is(err, exec.ErrWaitDelay) {
		return nil // it exited 0 but left processes holding its output
	}
	return err
}

// MergeConfig merges an inner driver's config_exec JSON with ours: every key
// of the inner driver's is kept, our variables join its job_env (its own
// values win: it may know better), and the driver names both.
func MergeConfig(inner []byte, ours ConfigOutput) (map[string]any, error) {
	merged := map[string]any{}
	if s := bytes.TrimSpace(inner); len(s) > 0 {
		if err := json.Unmarshal(s, &merged); err != nil {
			return nil, fmt.Errorf("inner config printed no JSON object: %w", err)
		}
	}
	jobEnv := map[string]any{}
	for k, v := range ours.JobEnv {
		jobEnv[k] = v
	}
	if in, ok := merged["job_env"].(map[string]any); ok {
		maps.Copy(jobEnv, in)
	}
	merged["job_env"] = jobEnv
	merged["driver"] = bothDrivers(merged["driver"], ours.Driver)
	return merged, nil
}

func bothDrivers(inner any, ours DriverInfo) map[string]any {
	d := map[string]any{"name": ours.Name, "version": ours.Version}
	if m, ok := inner.(map[string]any); ok && m["name"] != nil {
		d["name"] = fmt.Sprintf("%v + %s", m["name"], ours.Name)
		if m["version"] != nil {
			d["version"] = fmt.Sprintf("%v + %s", m["version"], ours.Version)
		}
	}
	return d
}

// InnerRunArgs splits a wrapped run_exec command line: the runner appends
// <script> <stage> after the inner driver's own arguments. With swaps the
// script for another, keeping everything else.
func InnerRunArgs(argv []string) (script string, with func(script string) []string, err error) {
	if len(argv) < 3 {
		return "", nil, errors.New("--wrap run wants the inner driver, its arguments, then <script> <stage>")
	}
	n := len(argv)
	return argv[n-2], func(s string) []string {
		return append(append(append([]string(nil), argv[:n-2]...), s), argv[n-1])
	}, nil
}
