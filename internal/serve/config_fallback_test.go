package serve_test

import (
	"encoding/json"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// TestConfigStageWithServerFallsBackToGitLabWhenTheServiceIsDown: the
// custom executor's config stage given --server for a service that is down
// (a closed port) lists GitLab itself with the job token, so the job still
// gets every sibling and, on 19.2, its child pipeline's jobs; its log gets at
// most one warning line, the one that says so. The stage runs with what the
// runner gives config_exec: the job payload file and CUSTOM_ENV_*.
func TestConfigStageWithServerFallsBackToGitLabWhenTheServiceIsDown(t *testing.T) {
	s := newSeed(t, gitlabtest.WithProfile(ce19_2))
	job := runnersim.Spec{
		APIURL: s.gl.APIURL(), ProjectID: project, PipelineID: pipelineID, JobID: 1003, Name: "deploy", Stage: "deploy",
		Token: deployToken, GitLab: ce19_2,
		Dependencies: []runnersim.Dependency{{ID: s.build.ID, Name: "build", ArtifactFilename: "artifacts.zip", ArtifactSize: int64(len(s.zip))}},
	}.Job()
	dir := t.TempDir()
	env, err := runnersim.StageEnv(dir, job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), binary, "config", "--server", closedURL(t))
	cmd.Dir, cmd.Env = dir, append(env, "PIPELINE_ARTIFACTS_CACHE_TTL=0")
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
	for _, k := range []string{"ARTIFACT_URL_BUILD", "ARTIFACT_URLS_TEST", "ARTIFACT_URL_TRIGGER_DOCS__DOCS", "PIPELINE_ARTIFACTS_MANIFEST"} {
		if cfg.JobEnv[k] == "" {
			t.Errorf("job_env lacks %s: %v", k, cfg.JobEnv)
		}
	}
	warnings := regexp.MustCompile(`(?m)^.*WARNING.*$`).FindAllString(stderr.String(), -1)
	if len(warnings) > 1 {
		t.Errorf("%d warning lines, want at most one:\n%s", len(warnings), stderr.String())
	}
	if len(warnings) == 1 && !strings.Contains(warnings[0], "listing GitLab directly") {
		t.Errorf("the warning does not say the stage lists GitLab itself: %s", warnings[0])
	}
	if strings.Contains(stderr.String(), deployToken) {
		t.Error("the stage logged the job token")
	}
}

// closedURL is an http URL on a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}
