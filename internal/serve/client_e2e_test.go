package serve_test

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// runEnv runs `pipeline-artifacts env --server` the way a hook does: inside
// a job, with its CI_* variables.
func runEnv(t *testing.T, s seed, server string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), binary, append([]string{"env", "--server", server}, args...)...)
	cmd.Env = []string{
		"CI_JOB_TOKEN=" + deployToken, "CI_API_V4_URL=" + s.gl.APIURL(), "CI_PROJECT_ID=42",
		"CI_PIPELINE_ID=7001", "CI_JOB_ID=1003", "TMPDIR=" + t.TempDir(), "PIPELINE_ARTIFACTS_RESOLVE_TIMEOUT=20s",
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("env --server: %v\n%s", err, errb.String())
	}
	return out.String(), errb.String()
}

func TestEnvWithServerResolvesThroughTheService(t *testing.T) {
	for _, c := range familySetups {
		t.Run(c.name, func(t *testing.T) {
			s, svc := c.start(t)
			out, _ := runEnv(t, s, svc.URL, "--format", "json")
			var vars map[string]string
			if err := json.Unmarshal([]byte(out), &vars); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if vars["ARTIFACT_URL_BUILD"] == "" || vars["ARTIFACT_URL_TRIGGER_DOCS__DOCS"] == "" {
				t.Errorf("siblings missing: %v", vars)
			}
			m, err := os.ReadFile(vars["PIPELINE_ARTIFACTS_MANIFEST"])
			if err != nil || !strings.Contains(string(m), `"name": "build"`) {
				t.Errorf("manifest %q: %v %s", vars["PIPELINE_ARTIFACTS_MANIFEST"], err, m)
			}
			want := serviceListings(c)
			if n := s.gl.Count(gitlabtest.RouteJobs); n != want {
				t.Errorf("GitLab saw %d job listings, want %d (own pipeline and child, by the service only)", n, want)
			}
			out2, _ := runEnv(t, s, svc.URL, "--format", "json")
			if n := s.gl.Count(gitlabtest.RouteJobs); n != want || out2 != strings.ReplaceAll(out, vars["PIPELINE_ARTIFACTS_MANIFEST"], manifestOf(t, out2)) {
				t.Errorf("a second job within the TTL: %d listings", n)
			}
		})
	}
}

// serviceListings is how many job listings GitLab sees for the seed's own
// pipeline and its child: two, plus the job token's refused first try on a
// GitLab whose job token may not list (the service then asks with the admin
// token first).
func serviceListings(c setup) int {
	if !c.profile.JobTokenListsJobs() {
		return 3
	}
	return 2
}

func manifestOf(t *testing.T, out string) string {
	var vars map[string]string
	if err := json.Unmarshal([]byte(out), &vars); err != nil {
		t.Fatal(err)
	}
	return vars["PIPELINE_ARTIFACTS_MANIFEST"]
}

func TestEnvWithServerFallsBackToGitLabWhenTheServiceIsDown(t *testing.T) {
	s := newSeed(t)
	out, stderr := runEnv(t, s, "http://127.0.0.1:1")
	if !strings.Contains(out, "export ARTIFACT_URL_BUILD=") {
		t.Errorf("no siblings after the fallback:\n%s", out)
	}
	if !strings.Contains(stderr, "listing GitLab directly") {
		t.Errorf("no warning about the fallback:\n%s", stderr)
	}
}

func TestServiceAnswersExactlyWhatEnvPrints(t *testing.T) {
	cases := []struct {
		name  string
		extra []string // more job names in the pipeline
	}{
		{"a pipeline without collisions", nil},
		{"a pipeline whose names collide on a variable", []string{"Deploy", "build_2", "BUILD"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSeed(t)
			for _, n := range c.extra {
				s.gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: n})
			}
			svc := startService(t, s.gl.URL)
			code, served := get(t, svc.URL+"/v1/env?format=json", deployToken)
			direct, _ := runEnv(t, s, "", "--format", "json")
			var a, b map[string]string
			if err := json.Unmarshal([]byte(served), &a); code != 200 || err != nil {
				t.Fatalf("%d %v: %s", code, err, served)
			}
			if err := json.Unmarshal([]byte(direct), &b); err != nil {
				t.Fatal(err)
			}
			delete(b, "PIPELINE_ARTIFACTS_MANIFEST")
			if !maps.Equal(a, b) {
				t.Errorf("service:\n%v\nenv:\n%v", a, b)
			}
		})
	}
}

func TestConfigStageWithServerResolvesThroughTheService(t *testing.T) {
	s, svc := familySetups[0].start(t)
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), binary, "config", "--server", svc.URL)
	cmd.Dir = dir
	cmd.Env = []string{
		"TMPDIR=" + dir, "BUILD_FAILURE_EXIT_CODE=1", "SYSTEM_FAILURE_EXIT_CODE=2",
		"CUSTOM_ENV_CI_JOB_TOKEN=" + deployToken, "CUSTOM_ENV_CI_API_V4_URL=" + s.gl.APIURL(),
		"CUSTOM_ENV_CI_PROJECT_ID=42", "CUSTOM_ENV_CI_PIPELINE_ID=7001", "CUSTOM_ENV_CI_JOB_ID=1003",
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("config: %v\n%s", err, stderr.String())
	}
	var cfg struct {
		JobEnv map[string]string `json:"job_env"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if cfg.JobEnv["ARTIFACT_URL_BUILD"] == "" || cfg.JobEnv["PIPELINE_ARTIFACTS_MANIFEST"] == "" {
		t.Errorf("job_env: %v", cfg.JobEnv)
	}
	if n, want := s.gl.Count(gitlabtest.RouteJobs), serviceListings(familySetups[0]); n != want {
		t.Errorf("GitLab saw %d job listings, want %d (the service's own and child listings only)", n, want)
	}
	if strings.Contains(stderr.String(), deployToken) {
		t.Error("the stage logged the job token")
	}
}
