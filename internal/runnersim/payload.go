package runnersim

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// Runner versions whose JOB_RESPONSE_FILE Spec can mimic.
const (
	// Runner17_9_3 re-encodes the job without job_info.pipeline_id: its
	// JobInfo struct has only name, stage, project_id and project_name
	// (https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v17.9.3/common/network.go).
	Runner17_9_3 = "17.9.3"
	// RunnerLatest keeps job_info.pipeline_id.
	RunnerLatest = "19.3.0"
)

// Spec describes a job GitLab hands the runner.
type Spec struct {
	APIURL                       string // e.g. http://127.0.0.1:8080/api/v4
	ProjectID, PipelineID, JobID int64
	Name, Stage, Token           string
	Dependencies                 []Dependency
	// Extra job variables (CI/CD variables of the project, say).
	Variables map[string]string
	// Runner is the runner version whose payload is mimicked; "" means
	// RunnerLatest.
	Runner string
	// GitLab is the profile of the GitLab that sent the job (zero value:
	// none, no upstream variables). From 18.9 a downstream pipeline's jobs get
	// CI_UPSTREAM_PIPELINE_ID, _PROJECT_ID and _JOB_ID
	// (https://docs.gitlab.com/ci/variables/predefined_variables/), set
	// from Upstream when it is not zero.
	GitLab   gitlabtest.Profile
	Upstream Upstream
}

// Upstream is the pipeline and job that triggered a downstream pipeline.
type Upstream struct {
	ProjectID, PipelineID, JobID int64
}

// Dependency is one entry of the payload's dependencies.
type Dependency struct {
	ID               int64
	Name             string
	ArtifactFilename string
	ArtifactSize     int64
}

// Job returns the runner-side view of the job: its variables and the
// JOB_RESPONSE_FILE payload, shaped like the runner's spec.Job
// (docs/gitlab.md, "Runner payload").
func (s Spec) Job() Job {
	server := strings.TrimSuffix(s.APIURL, "/api/v4")
	vars := map[string]string{
		"CI": "true", "GITLAB_CI": "true",
		"CI_SERVER_URL": server, "CI_API_V4_URL": s.APIURL,
		"CI_PROJECT_ID": itoa(s.ProjectID), "CI_PIPELINE_ID": itoa(s.PipelineID),
		"CI_JOB_ID": itoa(s.JobID), "CI_JOB_NAME": s.Name, "CI_JOB_STAGE": s.Stage,
		"CI_JOB_TOKEN": s.Token,
	}
	if s.Upstream.PipelineID != 0 && s.GitLab.Version != "" && s.GitLab.HasUpstreamVariables() {
		vars["CI_UPSTREAM_PIPELINE_ID"] = itoa(s.Upstream.PipelineID)
		vars["CI_UPSTREAM_PROJECT_ID"] = itoa(s.Upstream.ProjectID)
		vars["CI_UPSTREAM_JOB_ID"] = itoa(s.Upstream.JobID)
	}
	for k, v := range s.Variables {
		vars[k] = v
	}
	return Job{Variables: vars, Response: s.response(server)}
}

func (s Spec) response(server string) []byte {
	repo, _ := url.Parse(server + "/group/project.git")
	repo.User = url.UserPassword("gitlab-ci-token", s.Token)
	deps := make([]map[string]any, 0, len(s.Dependencies))
	for _, d := range s.Dependencies {
		dep := map[string]any{"id": d.ID, "name": d.Name, "token": s.Token}
		if d.ArtifactFilename != "" {
			dep["artifacts_file"] = map[string]any{"filename": d.ArtifactFilename, "size": d.ArtifactSize}
		}
		deps = append(deps, dep)
	}
	info := map[string]any{"name": s.Name, "stage": s.Stage, "project_id": s.ProjectID, "project_name": "project"}
	if s.Runner != Runner17_9_3 {
		info["pipeline_id"] = s.PipelineID
	}
	payload := map[string]any{
		"id": s.JobID, "token": s.Token, "allow_git_fetch": true,
		"job_info":     info,
		"git_info":     map[string]any{"repo_url": repo.String(), "ref": "main", "sha": "0123456789abcdef"},
		"variables":    []map[string]any{{"key": "CI_JOB_TOKEN", "value": s.Token, "masked": true}},
		"dependencies": deps,
	}
	b, _ := json.Marshal(payload)
	return b
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
