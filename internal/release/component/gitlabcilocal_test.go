package component_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAJobRunByGitlabCILocalExtendsTheComponent runs the consumer's deploy
// job with gitlab-ci-local's shell executor: the runner-side road, where the
// job's shell, not our harness, runs the expanded before_script and script.
func TestAJobRunByGitlabCILocalExtendsTheComponent(t *testing.T) {
	needTools(t, "gitlab-ci-local", "git", "node", "curl", "rsync")
	w := newWorld(t)
	dir := w.repo(t, map[string]any{}, w.digest)
	args := []string{"deploy", "--shell-executor-no-image", "--no-artifacts-to-source"}
	for k, v := range w.jobEnv("") {
		if k == "CI_PROJECT_DIR" {
			continue // gitlab-ci-local's own build directory
		}
		args = append(args, "--variable", k+"="+v)
	}
	run := exec.Command("gitlab-ci-local", args...)
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("gitlab-ci-local deploy: %v\n%s", err, out)
	}
	log := string(out)
	for _, want := range []string{"ARTIFACT_URL_BUILD=" + w.gl.APIURL() + "/jobs/", "ARTIFACT_JOB_ID_BUILD=10", "MANIFEST=/"} {
		if !strings.Contains(log, want) {
			t.Errorf("the job log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, jobToken) {
		t.Error("the job log holds the job token")
	}
	if w.downloads() != 1 {
		t.Errorf("%d downloads of the binary, want 1", w.downloads())
	}
}
