package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// TestConcurrentConfigStagesShareOneListing starts config stages of one
// pipeline at once, as a runner with concurrent jobs does, against an older
// GitLab: the first process's job token is refused and its admin token
// lists; every other process waits on the host cache's lock and reads it.
func TestConcurrentConfigStagesShareOneListing(t *testing.T) {
	p := newPipeline(t, gitlabtest.OlderGitLab())
	p.GL.AddToken(adminToken, projectID)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(adminToken), 0o600); err != nil {
		t.Fatal(err)
	}
	cacheDir := t.TempDir()
	const stages = 12
	var wg sync.WaitGroup
	outs := make([]string, stages)
	for i := range stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = configStage(t, p, "PIPELINE_ARTIFACTS_API_TOKEN_FILE="+tokenFile,
				"PIPELINE_ARTIFACTS_CACHE_DIR="+cacheDir, "PIPELINE_ARTIFACTS_CACHE_TTL=1m")
		}()
	}
	wg.Wait()
	for i, out := range outs {
		if !strings.Contains(out, `"ARTIFACT_URLS_TEST"`) {
			t.Errorf("config %d did not get the full listing: %s", i, out)
		}
	}
	if n := p.GL.Count(gitlabtest.RouteJobs); n > 2 {
		t.Errorf("GitLab saw %d pipeline-jobs listings for %d concurrent jobs, want at most 2", n, stages)
	}
}

// configStage runs one config stage as the runner does and returns stdout.
func configStage(t *testing.T, p runnersim.Seed, extra ...string) string {
	tmp := t.TempDir()
	env, err := runnersim.StageEnv(tmp, p.DeployJob(""))
	if err != nil {
		t.Error(err)
		return ""
	}
	cmd := exec.Command(binary, "config")
	cmd.Dir = tmp
	cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0"}, env...), extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("config: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}
