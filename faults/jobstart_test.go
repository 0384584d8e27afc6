package faults

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// showVars prints what the job was told about its siblings.
const showVars = `env | grep -E '^ARTIFACT_' | sort; echo "manifest=$(test -s "$PIPELINE_ARTIFACTS_MANIFEST" && echo ok)"`

// TestFaultJobStart makes GitLab unreachable or slow while the custom
// executor resolves a job's siblings (config stage), and runs the whole job
// the way gitlab-runner does.
func TestFaultJobStart(t *testing.T) {
	t.Parallel()

	t.Run("GitLab down: the job runs with its declared dependencies", func(t *testing.T) {
		t.Parallel()
		inject(t, "CI_API_V4_URL points at a closed port while config resolves",
			"fail-open: job success with ARTIFACT_URL_BUILD from the payload and a manifest; exactly one warning line")
		p := newPipeline(t)
		job := deployJob(p, showVars, "PIPELINE_ARTIFACTS_RESOLVE_TIMEOUT=1s")
		job.Variables["CI_API_V4_URL"] = closedURL(t) + "/api/v4"
		res := runJob(t, job)
		if res.Status != "success" {
			t.Fatalf("status %s, want success (fail-open); log:\n%s", res.Status, res.Log())
		}
		out := res.Stage("run:build_script").Stdout
		if !strings.Contains(out, "ARTIFACT_URL_BUILD=") || !strings.Contains(out, "manifest=ok") {
			t.Errorf("the job lacks its declared dependency or manifest:\n%s", out)
		}
		if w := warnings(res.Stage("config").Stderr); len(w) != 1 {
			t.Errorf("config printed %d warning lines, want exactly one (README: \"one warning line in its log\"):\n%s", len(w), strings.Join(w, "\n"))
		}
	})

	t.Run("GitLab down with --strict: a system failure before any script", func(t *testing.T) {
		t.Parallel()
		inject(t, "CI_API_V4_URL points at a closed port; PIPELINE_ARTIFACTS_STRICT=true",
			"runner_system_failure (the runner retries); build_script never ran")
		p := newPipeline(t)
		marker := filepath.Join(t.TempDir(), "ran")
		job := deployJob(p, "touch "+marker, "PIPELINE_ARTIFACTS_RESOLVE_TIMEOUT=1s", "PIPELINE_ARTIFACTS_STRICT=true")
		job.Variables["CI_API_V4_URL"] = closedURL(t) + "/api/v4"
		res := runJob(t, job)
		if res.Status != "runner_system_failure" || res.Stage("run:build_script") != nil {
			t.Fatalf("status %s (want runner_system_failure before any script); log:\n%s", res.Status, res.Log())
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the job's script ran")
		}
	})

	t.Run("GitLab slow: the resolve timeout bounds the job's start", func(t *testing.T) {
		t.Parallel()
		inject(t, "every GitLab API answer takes 2s; PIPELINE_ARTIFACTS_RESOLVE_TIMEOUT=300ms",
			"job success with ARTIFACT_URL_BUILD from the payload, no listed sibling; exactly one warning line")
		p := newPipeline(t, gitlabtest.Latency(2*time.Second))
		res := runJob(t, deployJob(p, showVars, "PIPELINE_ARTIFACTS_RESOLVE_TIMEOUT=300ms"))
		if res.Status != "success" {
			t.Fatalf("status %s, want success; log:\n%s", res.Status, res.Log())
		}
		out := res.Stage("run:build_script").Stdout
		if !strings.Contains(out, "ARTIFACT_URL_BUILD=") || strings.Contains(out, "ARTIFACT_URL_TEST") {
			t.Errorf("want exactly the declared dependency build:\n%s", out)
		}
		if w := warnings(res.Stage("config").Stderr); len(w) != 1 {
			t.Errorf("config printed %d warning lines, want exactly one (README: \"one warning line in its log\"):\n%s", len(w), strings.Join(w, "\n"))
		}
	})
}
