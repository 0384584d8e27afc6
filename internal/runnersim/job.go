package runnersim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Job is one job as the runner would run it.
type Job struct {
	// Variables are the job's CI variables (CI_JOB_TOKEN, CI_API_V4_URL,
	// …): CUSTOM_ENV_<KEY> for the driver, exported by every stage script.
	Variables map[string]string
	// Response is the JOB_RESPONSE_FILE content.
	Response []byte
	// Script is the job's before_script+script, run as build_script.
	Script string
	// AfterScript, when not empty, runs as after_script.
	AfterScript string
	// Environ is the runner process's own environment.
	Environ []string
	// OnBuildScript, when set, is called once the build_script stage has
	// started, with a function that cancels the job as GitLab's cancel
	// button does (SIGTERM to the run_exec process group).
	OnBuildScript func(cancel func())
	// GracefulKill is how long after SIGTERM the group gets SIGKILL.
	GracefulKill time.Duration
}

// Stage is what one executable call did.
type Stage struct {
	Name     string // config, prepare, run:<stage>, cleanup
	ExitCode int
	Stdout   string
	Stderr   string
	// Output is stdout and stderr interleaved as they came, as a job log
	// shows them.
	Output string
}

// Result is the whole job's outcome as the runner would report it.
type Result struct {
	Stages []Stage
	// Config is the config stage's parsed JSON.
	Config map[string]any
	JobEnv map[string]string
	// Status is success, script_failure, runner_system_failure or
	// unknown_failure; ExitCode is the job's exit code for script_failure.
	Status   string
	ExitCode int
	// TmpDir is the per-job directory (removed after cleanup, as the runner does).
	TmpDir string
}

// Log returns every stage's output in order, as a job log would show it
// (config's stdout is the runner's, not the log's).
func (r *Result) Log() string {
	var b strings.Builder
	for _, s := range r.Stages {
		if s.Name == "config" {
			b.WriteString(s.Stderr)
		} else {
			b.WriteString(s.Output)
		}
	}
	return b.String()
}

// Stage returns the named stage's record, or nil.
func (r *Result) Stage(name string) *Stage {
	for i := range r.Stages {
		if r.Stages[i].Name == name {
			return &r.Stages[i]
		}
	}
	return nil
}

// errStageFailed stops the run stages like the runner does on a non-zero exit.
var errStageFailed = errors.New("stage failed")

// RunJob runs the whole job: config → prepare → run stages → cleanup.
func (c Custom) RunJob(ctx context.Context, job Job) (*Result, error) {
	tmp, err := os.MkdirTemp("", "custom-executor")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r := &Result{TmpDir: tmp, Status: "success"}
	env := c.baseEnv(tmp, job)
	if err := os.WriteFile(filepath.Join(tmp, "response.json"), job.Response, 0o600); err != nil {
		return nil, err
	}
	defer func() { c.cleanup(ctx, r, env) }()
	if err := c.configStage(ctx, r, env); err != nil {
		return r, nil
	}
	env = withJobEnv(env, r.JobEnv)
	if c.PrepareExec != "" && c.call(ctx, r, "prepare", env, c.PrepareExec, c.PrepareArgs, nil) != nil {
		return r, nil
	}
	c.runStages(ctx, r, env, job)
	return r, nil
}

func (c Custom) baseEnv(tmp string, job Job) []string {
	env := append([]string(nil), job.Environ...)
	env = append(env,
		"TMPDIR="+tmp,
		"BUILD_FAILURE_EXIT_CODE=1",
		"SYSTEM_FAILURE_EXIT_CODE=2",
		"BUILD_EXIT_CODE_FILE="+filepath.Join(tmp, "build_exit_code"),
		"JOB_RESPONSE_FILE="+filepath.Join(tmp, "response.json"),
	)
	for _, k := range sortedKeys(job.Variables) {
		env = append(env, "CUSTOM_ENV_"+k+"="+job.Variables[k])
	}
	return env
}

// withJobEnv inserts job_env after the runner variables and before
// CUSTOM_ENV_* (docs/gitlab.md, "Environment of a stage": later entries win).
func withJobEnv(env []string, jobEnv map[string]string) []string {
	var head, tail []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "CUSTOM_ENV_") {
			tail = append(tail, kv)
		} else {
			head = append(head, kv)
		}
	}
	for _, k := range sortedKeys(jobEnv) {
		head = append(head, k+"="+jobEnv[k])
	}
	return append(head, tail...)
}

func (c Custom) configStage(ctx context.Context, r *Result, env []string) error {
	if c.ConfigExec == "" {
		return nil
	}
	if err := c.call(ctx, r, "config", env, c.ConfigExec, c.ConfigArgs, nil); err != nil {
		return err
	}
	out := r.Stages[len(r.Stages)-1].Stdout
	if strings.TrimSpace(out) == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(out), &r.Config); err != nil {
		r.Status = "runner_system_failure"
		return fmt.Errorf("config output is not JSON: %w", err)
	}
	var parsed struct {
		JobEnv map[string]string `json:"job_env"`
	}
	_ = json.Unmarshal([]byte(out), &parsed)
	r.JobEnv = parsed.JobEnv
	return nil
}

func (c Custom) runStages(ctx context.Context, r *Result, env []string, job Job) {
	stages := []struct{ name, body string }{
		{"prepare_script", "echo \"Running on $(hostname)...\""},
		{"get_sources", "echo 'Skipping Git repository setup'"},
		{"build_script", job.Script},
	}
	failed := false
	for _, s := range stages {
		if err := c.runStage(ctx, r, env, job, s.name, s.body); err != nil {
			failed = true
			break
		}
	}
	if job.AfterScript != "" {
		_ = c.runStage(context.WithoutCancel(ctx), r, env, job, "after_script", job.AfterScript)
	}
	upload := "upload_artifacts_on_success"
	if failed {
		upload = "upload_artifacts_on_failure"
	}
	_ = c.runStage(context.WithoutCancel(ctx), r, env, job, upload, "echo 'Uploading artifacts...'")
	_ = c.runStage(context.WithoutCancel(ctx), r, env, job, "cleanup_file_variables", "true")
}

func (c Custom) runStage(ctx context.Context, r *Result, env []string, job Job, stage, body string) error {
	tmp := envValue(env, "TMPDIR")
	dir, err := os.MkdirTemp(tmp, "script")
	if err != nil {
		return err
	}
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte(generateScript(job.Variables, body)), 0o700); err != nil {
		return err
	}
	var onStart func(*exec.Cmd)
	if stage == "build_script" && job.OnBuildScript != nil {
		onStart = func(cmd *exec.Cmd) { job.OnBuildScript(func() { terminate(cmd, job.GracefulKill) }) }
	}
	args := append(append([]string(nil), c.RunArgs...), script, stage)
	return c.call(ctx, r, "run:"+stage, env, c.RunExec, args, onStart)
}

// generateScript writes what the runner's bash shell writes: a shebang, the
// TERM trap, every job variable exported, errexit, then the stage body.
func generateScript(vars map[string]string, body string) string {
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n\ntrap exit 1 TERM\n\n")
	for _, k := range sortedKeys(vars) {
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(vars[k]))
	}
	b.WriteString("set -eo pipefail\n")
	if dir := vars["CI_PROJECT_DIR"]; dir != "" {
		fmt.Fprintf(&b, "cd %s\n", shellQuote(dir))
	}
	b.WriteString(body)
	b.WriteString("\n")
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// call runs one executable in its own process group with cwd = TMPDIR, and
// records the stage. A non-zero exit sets the job status as the runner does.
func (c Custom) call(ctx context.Context, r *Result, name string, env []string, exe string, args []string, onStart func(*exec.Cmd)) error {
	cmd := exec.Command(exe, args...)
	cmd.Dir, cmd.Env = envValue(env, "TMPDIR"), env
	ownProcessGroup(cmd)
	var stdout, stderr bytes.Buffer
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&stdout, log), io.MultiWriter(&stderr, log)
	if err := cmd.Start(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { terminate(cmd, 0) })
	defer stop()
	if onStart != nil {
		onStart(cmd)
	}
	err := cmd.Wait()
	st := Stage{Name: name, ExitCode: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String(), Output: log.String()}
	r.Stages = append(r.Stages, st)
	if err == nil || name == "cleanup" {
		return nil
	}
	r.interpret(st.ExitCode, envValue(env, "BUILD_EXIT_CODE_FILE"))
	return errStageFailed
}

// lockedBuffer takes writes from the stdout and stderr copiers at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// interpret maps a driver exit code to the job status (docs/gitlab.md, "Stages").
func (r *Result) interpret(code int, exitCodeFile string) {
	switch code {
	case 1:
		r.Status, r.ExitCode = "script_failure", 1
		if b, err := os.ReadFile(exitCodeFile); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				r.ExitCode = n
			} else {
				r.Status = "unknown_failure"
			}
		}
	case 2:
		r.Status = "runner_system_failure"
	default:
		r.Status = "unknown_failure"
	}
}

func (c Custom) cleanup(ctx context.Context, r *Result, env []string) {
	if c.CleanupExec == "" {
		return
	}
	_ = c.call(context.WithoutCancel(ctx), r, "cleanup", env, c.CleanupExec, c.CleanupArgs, nil)
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
