//go:build unix

package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
)

func TestRunCommandKeepsTheInnerDriversStatus(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		wantCode int // 0: nil error
	}{
		{"an inner driver that succeeds returns nil", "exit 0", 0},
		{"the runner's build failure code comes back as an exit error", "exit 37", 37},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := executor.RunCommand(t.Context(), executor.CommandOptions{Args: []string{"sh", "-c", tt.script}})
			var ee *exec.ExitError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tt.wantCode != 0 && (!errors.As(err, &ee) || ee.ExitCode() != tt.wantCode):
				t.Fatalf("err = %v, want exit status %d", err, tt.wantCode)
			}
		})
	}
}

func TestRunCommandThatCannotStartIsNotAnExitStatus(t *testing.T) {
	err := executor.RunCommand(t.Context(), executor.CommandOptions{Args: []string{filepath.Join(t.TempDir(), "missing-driver")}})
	var ee *exec.ExitError
	if err == nil || errors.As(err, &ee) {
		t.Fatalf("err = %v, want a start failure", err)
	}
}

func TestRunCommandCancellationEndsTheInnerDriversGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	result := make(chan error, 1)
	go func() {
		result <- executor.RunCommand(ctx, executor.CommandOptions{
			Args: []string{"sh", "-c", `sleep 1000 & sh -c 'echo "$1 $$" > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 1000' "$PIDS" "$!"; wait`},
			Env:  []string{"PATH=" + os.Getenv("PATH"), "PIDS=" + pidFile},
		})
	}()
	pids := readPids(t, pidFile, 2)
	cancel()
	err := awaitResult(t, result)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want the driver killed", err)
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
}

func TestRunCommandForwardsSignalsToTheGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	sigs := make(chan os.Signal, 1)
	result := make(chan error, 1)
	go func() {
		result <- executor.RunCommand(t.Context(), executor.CommandOptions{
			Args:    []string{"sh", "-c", `sh -c 'echo "$$" > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 1000' "$PIDS"`},
			Env:     []string{"PATH=" + os.Getenv("PATH"), "PIDS=" + pidFile},
			Signals: sigs,
		})
	}()
	pids := readPids(t, pidFile, 1)
	sigs <- syscall.SIGINT
	if err := awaitResult(t, result); err == nil {
		t.Fatal("the driver exited 0 after SIGINT")
	}
	waitGone(t, pids[0])
}

func TestMergeConfig(t *testing.T) {
	ours := executor.ConfigOutput{
		Driver: executor.DriverInfo{Name: "pipeline-artifacts", Version: "v1"},
		JobEnv: map[string]string{"ARTIFACT_URL_BUILD": "https://gitlab.example.com/x", "SHARED": "ours"},
	}
	tests := []struct {
		name  string
		inner string
		want  string
	}{
		{"an inner driver printing nothing gets our variables and name", "",
			`{"driver":{"name":"pipeline-artifacts","version":"v1"},"job_env":{"ARTIFACT_URL_BUILD":"https://gitlab.example.com/x","SHARED":"ours"}}`},
		{"the inner driver's keys stay and its own variables win", `{"builds_dir":"/b","driver":{"name":"lxd","version":"2"},"job_env":{"SHARED":"theirs"}}`,
			`{"builds_dir":"/b","driver":{"name":"lxd + pipeline-artifacts","version":"2 + v1"},"job_env":{"ARTIFACT_URL_BUILD":"https://gitlab.example.com/x","SHARED":"theirs"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := executor.MergeConfig([]byte(tt.inner), ours)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(roundTrip(t, got), want) {
				t.Errorf("merged %v, want %v", got, want)
			}
		})
	}
	if _, err := executor.MergeConfig([]byte("not json"), ours); err == nil {
		t.Error("an inner config that is not JSON was accepted")
	}
}

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInnerRunArgs(t *testing.T) {
	script, with, err := executor.InnerRunArgs([]string{"/opt/driver", "run", "--flag", "/tmp/script", "build_script"})
	if err != nil {
		t.Fatal(err)
	}
	got := with("/tmp/with-siblings-script")
	want := []string{"/opt/driver", "run", "--flag", "/tmp/with-siblings-script", "build_script"}
	if script != "/tmp/script" || !reflect.DeepEqual(got, want) {
		t.Errorf("script %q, argv %q; want /tmp/script, %q", script, got, want)
	}
	if _, _, err := executor.InnerRunArgs([]string{"/opt/driver", "run"}); err == nil {
		t.Error("a run without <script> <stage> was accepted")
	}
}
