package faults

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// innerDriver stands in for a driver wrapped with --wrap whose prepare and
// cleanup take a while (a VM starting, a VM being removed): it announces
// itself through $FAULTS_MARK.<stage> and blocks.
const innerDriver = `#!/usr/bin/env bash
case "$1" in
  config) echo '{}' ;;
  prepare|cleanup) touch "$FAULTS_MARK.$1"; exec sleep 1000 ;;
esac
`

// configured runs a real config stage for the deploy job and returns the
// environment later stages get (the stage environment plus job_env) and
// the job's TMPDIR.
func configured(t *testing.T, p runnersim.Seed) ([]string, string) {
	t.Helper()
	env, tmp := stageEnv(t, deployJob(p, ""))
	c := run(t, tmp, env, "config")
	var out struct {
		JobEnv map[string]string `json:"job_env"`
	}
	if c.code() != 0 || json.Unmarshal([]byte(c.stdout.String()), &out) != nil {
		t.Fatalf("config: %v", c)
	}
	for k, v := range out.JobEnv {
		env = append(env, k+"="+v)
	}
	if envOf(env, "PIPELINE_ARTIFACTS_MANIFEST") == "" {
		t.Fatalf("config gave no manifest: %v", c)
	}
	return env, tmp
}

// wrapped writes innerDriver and returns the --wrap arguments for stage.
func wrapped(t *testing.T, stage string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inner-driver.sh")
	if err := os.WriteFile(path, []byte(innerDriver), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{stage, "--wrap", path, "--", stage}
}

// TestFaultSIGTERM cancels the job (SIGTERM to the stage's process group, as
// gitlab-runner does) in every custom-executor stage.
func TestFaultSIGTERM(t *testing.T) {
	t.Parallel()

	t.Run("config while GitLab stalls the listing", func(t *testing.T) {
		t.Parallel()
		inject(t, "SIGTERM to config while GitLab stalls the pipeline-jobs listing",
			"exit SYSTEM_FAILURE_EXIT_CODE (2); no JSON on stdout; no manifest written")
		p := newPipeline(t)
		p.GL.Stall(gitlabtest.RouteJobs)
		listing := seen(p.GL, gitlabtest.RouteJobs)
		env, tmp := stageEnv(t, deployJob(p, ""))
		c := start(t, tmp, env, "config")
		waitChan(t, "the stalled listing request", listing)
		c.signal(syscall.SIGTERM)
		c.wait(t)
		if c.code() != 2 || strings.TrimSpace(c.stdout.String()) != "" {
			t.Errorf("want exit 2 and nothing on stdout after SIGTERM: %v", c)
		}
		if _, err := os.Stat(filepath.Join(tmp, "pipeline-artifacts")); err == nil {
			t.Error("an interrupted config left a manifest directory")
		}
	})

	t.Run("prepare, once it is at work", func(t *testing.T) {
		t.Parallel()
		inject(t, "SIGTERM to prepare once it logged its first line (gitlab-runner missing from the PATH jobs see)",
			"exit 0 (prepare only checks the host and has nothing to undo); TMPDIR unchanged")
		env, tmp := configured(t, newPipeline(t))
		before := tree(t, tmp)
		pr := start(t, tmp, append(env, "PATH="+bashOnly(t)), "prepare")
		waitFor(t, "prepare's warning line", func() bool { return strings.Contains(pr.stderr.String(), "gitlab-runner") })
		pr.signal(syscall.SIGTERM)
		pr.wait(t)
		if pr.code() != 0 {
			t.Errorf("want exit 0: %v", pr)
		}
		if after := tree(t, tmp); !reflect.DeepEqual(before, after) {
			t.Errorf("prepare changed TMPDIR:\nbefore %v\nafter  %v", keys(before), keys(after))
		}
	})

	t.Run("prepare of a wrapped driver, while it runs", func(t *testing.T) {
		t.Parallel()
		inject(t, "SIGTERM to prepare --wrap while the inner driver's prepare blocks",
			"the inner driver ended; exit SYSTEM_FAILURE_EXIT_CODE (2); TMPDIR unchanged")
		env, tmp := configured(t, newPipeline(t))
		mark := filepath.Join(t.TempDir(), "mark")
		before := tree(t, tmp)
		pr := start(t, tmp, append(env, "FAULTS_MARK="+mark), wrapped(t, "prepare")...)
		waitFor(t, "the inner prepare", func() bool { _, err := os.Stat(mark + ".prepare"); return err == nil })
		pr.signal(syscall.SIGTERM)
		pr.wait(t)
		if pr.code() != 2 {
			t.Errorf("want exit 2 (system failure) for an interrupted prepare: %v", pr)
		}
		if after := tree(t, tmp); !reflect.DeepEqual(before, after) {
			t.Errorf("prepare changed TMPDIR:\nbefore %v\nafter  %v", keys(before), keys(after))
		}
	})

	t.Run("run build_script with a background child", func(t *testing.T) {
		t.Parallel()
		inject(t, "the job is cancelled (SIGTERM to run's group) while build_script and a background child sleep",
			"the script and its child ended; script_failure with the script's own code (77) from BUILD_EXIT_CODE_FILE")
		p := newPipeline(t)
		pids := filepath.Join(t.TempDir(), "pids")
		// The pid file appears only once the background child is sleep
		// itself: a SIGTERM that lands between bash's fork and its exec is
		// taken by the trap the child inherited and lost at the exec.
		job := deployJob(p, `trap 'exit 77' TERM; sleep 1000 & bg=$!; while [ -e /proc/$bg ] && [ "$(cat /proc/$bg/comm 2>/dev/null)" != sleep ]; do :; done; `+
			`echo $bg > `+pids+`.tmp; echo $$ >> `+pids+`.tmp; mv `+pids+`.tmp `+pids+`; sleep 1000`)
		job.OnBuildScript = func(cancel func()) {
			waitFor(t, "the script's pid file", func() bool { _, err := os.Stat(pids); return err == nil })
			cancel()
		}
		res := runJob(t, job)
		if res.Status != "script_failure" || res.ExitCode != 77 {
			t.Errorf("status %s exit %d after cancel, want script_failure 77 (the code in BUILD_EXIT_CODE_FILE); log:\n%s", res.Status, res.ExitCode, res.Log())
		}
		data, err := os.ReadFile(pids)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Fields(string(data)) {
			pid, _ := strconv.Atoi(f)
			waitFor(t, "process "+f+" of the cancelled job to end", func() bool { return gone(pid) })
		}
	})

	t.Run("cleanup, as it starts", func(t *testing.T) {
		t.Parallel()
		sc := inject(t, "SIGTERM to cleanup the moment its process exists (usually before Go installs its handler)",
			"exit 0, or death by the signal itself (the runner ignores cleanup's status); the manifest removed or left whole for the runner to delete")
		env, tmp := configured(t, newPipeline(t))
		manifest := envOf(env, "PIPELINE_ARTIFACTS_MANIFEST")
		want, _ := os.ReadFile(manifest)
		cl := start(t, tmp, env, "cleanup")
		cl.signal(syscall.SIGTERM)
		cl.wait(t)
		sig, signaled := cl.signaled()
		switch {
		case signaled && sig == syscall.SIGTERM:
			sc.note("this run: SIGTERM landed before the Go runtime's handler and ended the process")
		case cl.code() == 0:
			sc.note("this run: exit 0")
		default:
			t.Errorf("want exit 0 (cleanup never fails the job): %v", cl)
		}
		if got, err := os.ReadFile(manifest); err == nil && string(got) != string(want) {
			t.Errorf("cleanup left a damaged manifest: %q", got)
		}
	})

	t.Run("cleanup of a wrapped driver, while it runs", func(t *testing.T) {
		t.Parallel()
		inject(t, "SIGTERM to cleanup --wrap while the inner driver's cleanup blocks",
			"exit 0 (cleanup never fails the job); the inner driver ended; our manifest directory removed")
		env, tmp := configured(t, newPipeline(t))
		mark := filepath.Join(t.TempDir(), "mark")
		cl := start(t, tmp, append(env, "FAULTS_MARK="+mark), wrapped(t, "cleanup")...)
		waitFor(t, "the inner cleanup", func() bool { _, err := os.Stat(mark + ".cleanup"); return err == nil })
		cl.signal(syscall.SIGTERM)
		cl.wait(t)
		if cl.code() != 0 {
			t.Errorf("want exit 0 from an interrupted cleanup: %v", cl)
		}
		if _, err := os.Stat(filepath.Join(tmp, "pipeline-artifacts")); err == nil {
			t.Error("the interrupted cleanup left the manifest directory")
		}
	})
}

// bashOnly returns a PATH holding bash and nothing else.
func bashOnly(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(bash, filepath.Join(dir, "bash")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
