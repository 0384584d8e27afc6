package runnersim

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// Spec describes a job GitLab hands the runner.
type Spec struct {
	APIURL                       string // e.g. http://127.0.0.1:8080/api/v4
	ProjectID, PipelineID, JobID int64
	Name, Stage, Token           string
	Dependencies                 []Dependency
	// Extra job variables (CI/CD variables of the project, say).
	Variables map[string]string
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
// (gitlab-protocol.md §1.8, §3.4).
func (s Spec) Job() Job {
	server := strings.TrimSuffix(s.APIURL, "/api/v4")
	vars := map[string]string{
		"CI": "true", "GITLAB_CI": "true",
		"CI_SERVER_URL": server, "CI_API_V4_URL": s.APIURL,
		"CI_PROJECT_ID": itoa(s.ProjectID), "CI_PIPELINE_ID": itoa(s.PipelineID),
		"CI_JOB_ID": itoa(s.JobID), "CI_JOB_NAME": s.Name, "CI_JOB_STAGE": s.Stage,
		"CI_JOB_TOKEN": s.Token,
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
	payload := map[string]any{
		"id": s.JobID, "token": s.Token, "allow_git_fetch": true,
		"job_info":     map[string]any{"name": s.Name, "stage": s.Stage, "pipeline_id": s.PipelineID, "project_id": s.ProjectID},
		"git_info":     map[string]any{"repo_url": repo.String(), "ref": "main", "sha": "0123456789abcdef"},
		"variables":    []map[string]any{{"key": "CI_JOB_TOKEN", "value": s.Token, "masked": true}},
		"dependencies": deps,
	}
	b, _ := json.Marshal(payload)
	return b
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
