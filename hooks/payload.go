package hooks

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Payload is the part of the runner's job payload (the file JOB_RESPONSE_FILE
// names) that sibling resolution reads. The file also holds the job token,
// every dependency's copy of it and all job variables; Payload has no field
// for any of them, so they are never decoded, kept or printed.
type Payload struct {
	ID           int64               `json:"id"`
	JobInfo      PayloadJobInfo      `json:"job_info"`
	GitInfo      PayloadGitInfo      `json:"git_info"`
	Dependencies []PayloadDependency `json:"dependencies"`
	// ServerHost is the host of the GitLab instance that sent the job, from
	// git_info.repo_url (which a pipeline cannot redefine, unlike
	// CI_API_V4_URL); "" when unknown. The URL's credentials are dropped.
	ServerHost string `json:"-"`
}

// PayloadJobInfo is the payload's job_info.
type PayloadJobInfo struct {
	Name       string `json:"name"`
	Stage      string `json:"stage"`
	PipelineID int64  `json:"pipeline_id"`
	ProjectID  int64  `json:"project_id"`
}

// PayloadGitInfo is the payload's git_info.
type PayloadGitInfo struct {
	SHA string `json:"sha"`
	Ref string `json:"ref"`
}

// PayloadDependency is one entry of the payload's dependencies: a job whose
// artifacts the runner downloads for this job. Its token is left undecoded.
type PayloadDependency struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// ArtifactsFile has an empty Filename when the job has no archive.
	ArtifactsFile gitlab.ArtifactsFile `json:"artifacts_file"`
}

// ReadPayload reads the runner's job payload from path.
func ReadPayload(path string) (*Payload, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read job payload: %w", err)
	}
	// The buffer holds the job token; wipe it rather than leave it to the GC.
	// Decoded strings are copies, so this cannot touch p.
	defer clear(data)
	var p Payload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parse job payload %s: %w", path, err)
	}
	p.ServerHost = repoHost(data)
	return &p, nil
}

// DependencyJobs returns the payload's dependencies as jobs for Merge.
//
// The payload carries no status. A dependency is listed only once it has
// finished (GitLab queues a job after its dependencies), and one that has an
// archive is assumed to have succeeded: "success", although a failed job with
// artifacts:when:on_failure and allow_failure could be behind it. Without an
// archive the status is unknown and left "". Stage is unknown too.
func (p *Payload) DependencyJobs() []gitlab.Job {
	jobs := make([]gitlab.Job, 0, len(p.Dependencies))
	for _, d := range p.Dependencies {
		if d.ID <= 0 {
			continue // not a job GitLab could have sent
		}
		j := gitlab.Job{ID: d.ID, Name: d.Name}
		if d.ArtifactsFile.Filename != "" { // the runner skips empty filenames too
			af := d.ArtifactsFile
			j.ArtifactsFile, j.Status = &af, "success"
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// repoHost returns the host of git_info.repo_url. That URL carries the job
// token as its password, so only the host leaves this function.
func repoHost(data []byte) string {
	var v struct {
		GitInfo struct {
			RepoURL string `json:"repo_url"`
		} `json:"git_info"`
	}
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	u, err := url.Parse(v.GitInfo.RepoURL)
	if err != nil {
		return ""
	}
	return u.Host
}
