package runnersim_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// TestPayloadFollowsRunnerAndGitLab runs every GitLab profile with both
// runner versions: job_info.pipeline_id only after 17.9.3, upstream
// variables only from GitLab 18.9.
func TestPayloadFollowsRunnerAndGitLab(t *testing.T) {
	for _, p := range gitlabtest.Profiles() {
		for _, runner := range []string{runnersim.Runner17_9_3, runnersim.RunnerLatest} {
			t.Run(fmt.Sprintf("%s, runner %s", p, runner), func(t *testing.T) {
				job := runnersim.Spec{APIURL: "http://gl/api/v4", ProjectID: 1, PipelineID: 2, JobID: 3, Name: "deploy",
					Token: "glcbt-runnersim-test", Runner: runner, GitLab: p,
					Upstream: runnersim.Upstream{ProjectID: 1, PipelineID: 9, JobID: 8}}.Job()
				var payload struct {
					JobInfo map[string]any `json:"job_info"`
				}
				if err := json.Unmarshal(job.Response, &payload); err != nil {
					t.Fatal(err)
				}
				_, hasPipeline := payload.JobInfo["pipeline_id"]
				if hasPipeline != (runner != runnersim.Runner17_9_3) {
					t.Errorf("job_info = %v", payload.JobInfo)
				}
				_, hasUpstream := job.Variables["CI_UPSTREAM_PIPELINE_ID"]
				if hasUpstream != p.HasUpstreamVariables() {
					t.Errorf("CI_UPSTREAM_PIPELINE_ID present: %t on %s", hasUpstream, p)
				}
			})
		}
	}
}
