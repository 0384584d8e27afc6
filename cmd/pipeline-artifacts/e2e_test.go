package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/testbin"
)

// binary is the pipeline-artifacts built once for every end-to-end test.
var binary string

func TestMain(m *testing.M) {
	var err error
	if binary, err = testbin.Path("-race"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

const (
	projectID  = runnersim.SeedProject
	adminToken = "glpat-ADMIN-SECRET-never-in-a-job"
	jobToken   = "glcbt-JOBTOKEN-deploy"
)

func newPipeline(t *testing.T, opts ...gitlabtest.Option) runnersim.Seed {
	t.Helper()
	return runnersim.NewSeed(t, jobToken, opts...)
}

func custom(t *testing.T) runnersim.Custom {
	t.Helper()
	c, err := runnersim.LoadDriver("../../examples/config.toml", binary, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runJob(t *testing.T, job runnersim.Job) *runnersim.Result {
	t.Helper()
	res, err := custom(t).RunJob(t.Context(), job)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const showEnv = `env | grep -E '^(ARTIFACT_|PIPELINE_ARTIFACTS_)' | sort; echo "MANIFEST:"; cat "$PIPELINE_ARTIFACTS_MANIFEST"; echo; echo "ENV:"; env`

func TestEndToEndCurrentGitLabGivesEverySibling(t *testing.T) {
	p := newPipeline(t)
	res := runJob(t, p.DeployJob(showEnv))
	if res.Status != "success" {
		t.Fatalf("status %s, log:\n%s", res.Status, res.Log())
	}
	out := res.Stage("run:build_script").Stdout
	// ARTIFACT_URL_<N> is the runner route, which takes the job token on
	// every tier (the project's artifacts API refuses it on EE Free).
	url := func(id int64) string {
		return gitlab.RunnerArtifactsURL(p.GL.APIURL(), id)
	}
	for _, want := range []string{
		"ARTIFACT_URL_BUILD=" + url(p.Build.ID),
		"ARTIFACT_JOB_ID_BUILD=" + strconv.FormatInt(p.Build.ID, 10),
		"ARTIFACT_URL_TEST_1_2=", "ARTIFACT_URL_TEST_2_2=",
		"ARTIFACT_URLS_TEST=" + url(p.Build.ID+1) + " " + url(p.Build.ID+2),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("job output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ARTIFACT_URL_DEPLOY=") {
		t.Error("the job was told about itself")
	}
	if !strings.Contains(res.Log(), "3 siblings of pipeline 7001 from api (job token)") {
		t.Errorf("no summary line in the job log:\n%s", res.Log())
	}
	if n := p.GL.Count(gitlabtest.RouteJobs); n != 1 {
		t.Errorf("config listed the pipeline %d times, want 1", n)
	}
}

func TestEndToEndManifestIsPrivateAndComplete(t *testing.T) {
	p := newPipeline(t)
	res := runJob(t, p.DeployJob(`stat -c %a "$PIPELINE_ARTIFACTS_MANIFEST"; cat "$PIPELINE_ARTIFACTS_MANIFEST"`))
	out := res.Stage("run:build_script").Stdout
	mode, body, _ := strings.Cut(out, "\n")
	if mode != "600" {
		t.Errorf("manifest mode %s, want 600", mode)
	}
	var m struct {
		Siblings []struct {
			Name, Var, Status, URL string
			ID                     int64
		}
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("manifest: %v\n%s", err, body)
	}
	if len(m.Siblings) != 3 || m.Siblings[0].Name != "build" || m.Siblings[0].Var != "BUILD" {
		t.Errorf("manifest siblings: %+v", m.Siblings)
	}
	if strings.Contains(body, jobToken) {
		t.Error("the manifest holds the job token")
	}
}

func TestEndToEndOlderGitLabWithAdminTokenKeepsTheTokenFromTheJob(t *testing.T) {
	p := newPipeline(t, gitlabtest.OlderGitLab())
	p.GL.AddToken(adminToken, projectID)
	tokenFile := filepath.Join(t.TempDir(), "read_api.token")
	if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	job := p.DeployJob(showEnv + `; cat "$PIPELINE_ARTIFACTS_API_TOKEN_FILE" 2>&1 || true`)
	job.Environ = append(job.Environ, "PIPELINE_ARTIFACTS_API_TOKEN_FILE="+tokenFile)
	res := runJob(t, job)
	if res.Status != "success" {
		t.Fatalf("status %s, log:\n%s", res.Status, res.Log())
	}
	out := res.Stage("run:build_script").Stdout
	if !strings.Contains(out, "ARTIFACT_URLS_TEST=") {
		t.Errorf("the admin token's listing did not reach the job:\n%s", out)
	}
	if strings.Contains(res.Log(), adminToken) {
		t.Error("the admin token appears in the job log, environment or manifest")
	}
	if strings.Contains(out, "PIPELINE_ARTIFACTS_API_TOKEN_FILE") {
		t.Error("the job was told where the admin token file is")
	}
	if !strings.Contains(res.Log(), "from api (admin token)") {
		t.Errorf("the summary does not name the admin token as the source:\n%s", res.Log())
	}
}

func TestEndToEndOlderGitLabWithoutAdminTokenRunsWithDeclaredDependencies(t *testing.T) {
	p := newPipeline(t, gitlabtest.OlderGitLab())
	res := runJob(t, p.DeployJob(showEnv))
	if res.Status != "success" {
		t.Fatalf("status %s, log:\n%s", res.Status, res.Log())
	}
	out := res.Stage("run:build_script").Stdout
	if !strings.Contains(out, "ARTIFACT_URL_BUILD=") || strings.Contains(out, "ARTIFACT_URL_TEST") {
		t.Errorf("want exactly the declared dependency build:\n%s", out)
	}
	warnings := regexp.MustCompile(`(?m)^.*WARNING: pipeline-artifacts: .*$`).FindAllString(res.Log(), -1)
	if len(warnings) != 1 {
		t.Errorf("want one warning line, got %d:\n%s", len(warnings), res.Log())
	}
}

func TestEndToEndStrictFailsAsASystemFailure(t *testing.T) {
	p := newPipeline(t, gitlabtest.OlderGitLab())
	job := p.DeployJob("echo should not run")
	job.Environ = append(job.Environ, "PIPELINE_ARTIFACTS_STRICT=true")
	res := runJob(t, job)
	if res.Status != "runner_system_failure" || res.Stage("run:build_script") != nil {
		t.Fatalf("status %s (want runner_system_failure before any script), log:\n%s", res.Status, res.Log())
	}
}

func TestEndToEndScriptExitCodeReachesTheRunner(t *testing.T) {
	p := newPipeline(t)
	res := runJob(t, p.DeployJob("echo failing; exit 3"))
	if res.Status != "script_failure" || res.ExitCode != 3 {
		t.Fatalf("status %s exit %d, want script_failure 3; log:\n%s", res.Status, res.ExitCode, res.Log())
	}
	if res.Stage("run:upload_artifacts_on_failure") == nil {
		t.Error("the runner's failure path did not continue after the script failed")
	}
}

func TestEndToEndCancelEndsTheScriptAndItsChildren(t *testing.T) {
	p := newPipeline(t)
	pids := filepath.Join(t.TempDir(), "pids")
	// The runner's own `trap exit 1 TERM` traps HUP (1) and TERM with a bare
	// `exit`, which keeps the last command's status: a cancel that lands
	// just after the mv exits 0, and the runner calls the job canceled
	// whatever the stage's status. The job's own trap makes the status
	// certain. The pid file appears only once the background child is
	// sleep itself: a SIGTERM between bash's fork and exec is taken by the
	// trap the child inherited and lost at the exec.
	job := p.DeployJob(`trap 'exit 77' TERM; sleep 1000 & bg=$!; ` +
		`while [ -e /proc/$bg ] && [ "$(cat /proc/$bg/comm 2>/dev/null)" != sleep ]; do :; done; ` +
		`echo $bg > ` + pids + `.tmp; echo $$ >> ` + pids + `.tmp; mv ` + pids + `.tmp ` + pids + `; sleep 1000`)
	job.OnBuildScript = func(cancel func()) {
		waitForFile(t, pids)
		cancel()
	}
	res := runJob(t, job)
	if res.Status != "script_failure" || res.ExitCode != 77 {
		t.Errorf("status %s exit %d after cancel, want script_failure 77; log:\n%s", res.Status, res.ExitCode, res.Log())
	}
	data, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(data)) {
		pid, _ := strconv.Atoi(f)
		waitGone(t, pid)
	}
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never appeared", path)
		case <-tick.C:
		}
	}
}

// waitGone waits until pid no longer runs.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !runnersim.Gone(pid) {
		select {
		case <-ctx.Done():
			t.Fatalf("process %d outlived the cancelled job", pid)
		case <-tick.C:
		}
	}
}

// TestEndToEndAdminTokenGoesOnlyToTheRunnersGitLab: a pipeline can redefine
// CI_API_V4_URL; the admin token must still only go to the host the
// runner's payload came from.
func TestEndToEndAdminTokenGoesOnlyToTheRunnersGitLab(t *testing.T) {
	p := newPipeline(t, gitlabtest.OlderGitLab())
	p.GL.AddToken(adminToken, projectID)
	attacker := gitlabtest.NewTest(t, gitlabtest.OlderGitLab())
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(adminToken), 0o600); err != nil {
		t.Fatal(err)
	}
	job := p.DeployJob("true")
	job.Variables["CI_API_V4_URL"] = attacker.APIURL() // a job variable overriding the predefined one
	job.Environ = append(job.Environ, "PIPELINE_ARTIFACTS_API_TOKEN_FILE="+tokenFile)
	res := runJob(t, job)
	for _, r := range attacker.Requests() {
		if r.Header.Get("PRIVATE-TOKEN") != "" || strings.Contains(r.Header.Get("Authorization"), adminToken) {
			t.Fatalf("the admin token was sent to %s", r.Path)
		}
	}
	if !strings.Contains(res.Log(), "admin token withheld") {
		t.Errorf("no warning about the withheld token:\n%s", res.Log())
	}
}
