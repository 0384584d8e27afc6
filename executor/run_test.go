//go:build unix

package executor_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
)

// waitBound only keeps a broken test from hanging; nothing asserts on timing.
const waitBound = 10 * time.Second

func TestRunScript(t *testing.T) {
	baseEnv := []string{"PATH=" + os.Getenv("PATH")}
	tests := []struct {
		name       string
		body       string
		env        []string
		wantStdout string
		wantStderr string
		wantCode   int // 0: RunScript returns nil
	}{
		{name: "A script exiting 0 succeeds", body: "true\n"},
		{
			name:     "A script exiting 3 is a script error with status 3",
			body:     "exit 3\n",
			wantCode: 3,
		},
		{
			name:       "Output goes to the given writers",
			body:       "echo out\necho err >&2\n",
			wantStdout: "out\n",
			wantStderr: "err\n",
		},
		{
			name: "The environment is exactly the one given",
			body: `echo "${KEEP-unset} ${PIPELINE_ARTIFACTS_API_TOKEN_FILE-unset} ${ARTIFACT_URL_BUILD-unset} ${HOME-unset}"` + "\n",
			env: executor.JobEnvironment(
				append(baseEnv, "KEEP=1", "PIPELINE_ARTIFACTS_API_TOKEN_FILE=/etc/token"),
				map[string]string{"ARTIFACT_URL_BUILD": "https://x/artifacts"},
				func(k string) bool { return k == "PIPELINE_ARTIFACTS_API_TOKEN_FILE" },
			),
			wantStdout: "1 unset https://x/artifacts unset\n",
		},
		{
			name:     "A script killed by a signal reports 128 plus the signal",
			body:     "kill -KILL $$\n",
			wantCode: 128 + int(syscall.SIGKILL),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := executor.RunScript(t.Context(), executor.RunOptions{
				Script: writeScript(t, tt.body),
				Env:    append(tt.env, baseEnv...),
				Stdout: &stdout,
				Stderr: &stderr,
			})
			checkScriptResult(t, err, tt.wantCode)
			if stdout.String() != tt.wantStdout || stderr.String() != tt.wantStderr {
				t.Errorf("stdout %q, stderr %q; want %q, %q", stdout.String(), stderr.String(), tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestRunScriptRunsInDir(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	err := executor.RunScript(t.Context(), executor.RunOptions{Script: writeScript(t, "pwd -P\n"), Dir: dir, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(stdout.String()); got != want {
		t.Errorf("script ran in %q, want %q", got, want)
	}
}

func TestRunScriptSystemFailures(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts func(t *testing.T) executor.RunOptions
	}{
		{
			name: "A script that does not exist",
			ctx:  t.Context(),
			opts: func(t *testing.T) executor.RunOptions {
				return executor.RunOptions{Script: filepath.Join(t.TempDir(), "missing")}
			},
		},
		{
			name: "A shell that does not exist",
			ctx:  t.Context(),
			opts: func(t *testing.T) executor.RunOptions {
				return executor.RunOptions{Script: writeScript(t, "true\n"), Shell: filepath.Join(t.TempDir(), "nosh")}
			},
		},
		{
			name: "A context cancelled before the start",
			ctx:  cancelled,
			opts: func(t *testing.T) executor.RunOptions {
				return executor.RunOptions{Script: writeScript(t, "true\n")}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := executor.RunScript(tt.ctx, tt.opts(t))
			var se *executor.ScriptError
			if err == nil || errors.As(err, &se) {
				t.Errorf("RunScript() = %v, want an error that is not a *ScriptError", err)
			}
		})
	}
}

func TestRunScriptCancellationKillsTheGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	// The script, a background sleep and a trap-less foreground sleep; the
	// foreground one records all three pids just before it becomes sleep.
	script := writeScript(t, `sleep 1000 &
sh -c 'echo "$1 $2 $$" > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 1000' "$PIDS" "$$" "$!"
`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	result := runAsync(ctx, executor.RunOptions{
		Script: script,
		Env:    []string{"PATH=" + os.Getenv("PATH"), "PIDS=" + pidFile},
		Stdout: &bytes.Buffer{}, // a pipe the background sleep holds too
	})
	pids := readPids(t, pidFile, 3)
	cancel()
	checkScriptResult(t, awaitResult(t, result), 128+int(syscall.SIGTERM))
	for _, pid := range pids {
		waitGone(t, pid)
	}
}

func TestRunScriptForwardsSignals(t *testing.T) {
	readyFile := filepath.Join(t.TempDir(), "ready")
	script := writeScript(t, `trap 'exit 42' INT
echo $$ > "$READY.tmp" && mv "$READY.tmp" "$READY"
sleep 1000
`)
	signals := make(chan os.Signal, 1)
	result := runAsync(t.Context(), executor.RunOptions{
		Script:  script,
		Env:     []string{"PATH=" + os.Getenv("PATH"), "READY=" + readyFile},
		Signals: signals,
	})
	readPids(t, readyFile, 1)
	signals <- syscall.SIGINT
	checkScriptResult(t, awaitResult(t, result), 42)
}

func TestRunScriptKillsAfterGracePeriod(t *testing.T) {
	readyFile := filepath.Join(t.TempDir(), "ready")
	// An ignored SIGTERM is inherited by sleep, so only SIGKILL ends them.
	script := writeScript(t, `trap '' TERM
echo $$ > "$READY.tmp" && mv "$READY.tmp" "$READY"
sleep 1000
`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	result := runAsync(ctx, executor.RunOptions{
		Script:      script,
		Env:         []string{"PATH=" + os.Getenv("PATH"), "READY=" + readyFile},
		GracePeriod: time.Millisecond,
	})
	readPids(t, readyFile, 1)
	cancel()
	checkScriptResult(t, awaitResult(t, result), 128+int(syscall.SIGKILL))
}

func TestRunScriptLeavesBackgroundProcessesAfterNormalExit(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	script := writeScript(t, `sleep 1000 &
echo $! > "$PIDS.tmp" && mv "$PIDS.tmp" "$PIDS"
echo done
`)
	var stdout bytes.Buffer
	err := executor.RunScript(t.Context(), executor.RunOptions{
		Script: script,
		Env:    []string{"PATH=" + os.Getenv("PATH"), "PIDS=" + pidFile},
		Stdout: &stdout,
		// The background sleep holds stdout open; don't wait for it.
		WaitDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatalf("RunScript() = %v, want nil", err)
	}
	pid := readPids(t, pidFile, 1)[0]
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if stdout.String() != "done\n" {
		t.Errorf("stdout = %q, want %q", stdout.String(), "done\n")
	}
	if gone(pid) {
		t.Error("the background process was killed after a normal exit")
	}
}

func TestScriptErrorMessage(t *testing.T) {
	err := &executor.ScriptError{ExitCode: 3}
	if got, want := err.Error(), "script exited with status 3"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(path, []byte("#!/usr/bin/env bash\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkScriptResult(t *testing.T, err error, wantCode int) {
	t.Helper()
	if wantCode == 0 {
		if err != nil {
			t.Fatalf("RunScript() = %v, want nil", err)
		}
		return
	}
	var se *executor.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("RunScript() = %v, want *ScriptError{%d}", err, wantCode)
	}
	if se.ExitCode != wantCode {
		t.Errorf("ExitCode = %d, want %d", se.ExitCode, wantCode)
	}
}

func runAsync(ctx context.Context, o executor.RunOptions) <-chan error {
	result := make(chan error, 1)
	go func() { result <- executor.RunScript(ctx, o) }()
	return result
}

func awaitResult(t *testing.T, result <-chan error) error {
	t.Helper()
	select {
	case err := <-result:
		return err
	case <-time.After(waitBound):
		t.Fatal("RunScript did not return")
		return nil
	}
}

// readPids waits until the script has renamed its pid file into place, which
// it does only once the processes the file names are running.
func readPids(t *testing.T, path string, n int) []int {
	t.Helper()
	var data []byte
	poll(t, "pid file "+filepath.Base(path), func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil
	})
	fields := strings.Fields(string(data))
	if len(fields) != n {
		t.Fatalf("pid file holds %q, want %d pids", data, n)
	}
	pids := make([]int, n)
	for i, f := range fields {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids[i] = pid
	}
	return pids
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	poll(t, "exit of pid "+strconv.Itoa(pid), func() bool { return gone(pid) })
}

// gone reports whether pid has exited. A zombie counts as gone: once
// reparented, reaping it is up to a PID 1 the test does not control.
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the parenthesised command name.
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

// poll waits for a condition, checking it on every tick up to waitBound.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitBound)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("gave up waiting for the %s", what)
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}
