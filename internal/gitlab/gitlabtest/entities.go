package gitlabtest

import (
	"fmt"
	"path"
	"time"
)

// The JSON entities below mirror GitLab's (lib/api/entities/ci). They are the
// fake's own types, not the client's: the fake describes GitLab, and the
// client's tests may import this package without an import cycle.

type pipelineEntity struct {
	ID        int64     `json:"id"`
	IID       int64     `json:"iid"`
	ProjectID int64     `json:"project_id"`
	SHA       string    `json:"sha"`
	Ref       string    `json:"ref"`
	Status    string    `json:"status"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	WebURL    string    `json:"web_url"`
}

// jobBasic is GitLab's JobBasic entity.
type jobBasic struct {
	ID            int64          `json:"id"`
	Status        string         `json:"status"`
	Stage         string         `json:"stage"`
	Name          string         `json:"name"`
	Ref           string         `json:"ref"`
	Tag           bool           `json:"tag"`
	AllowFailure  bool           `json:"allow_failure"`
	CreatedAt     time.Time      `json:"created_at"`
	StartedAt     *time.Time     `json:"started_at"`
	FinishedAt    *time.Time     `json:"finished_at"`
	Duration      *float64       `json:"duration"`
	FailureReason string         `json:"failure_reason,omitempty"`
	WebURL        string         `json:"web_url"`
	Pipeline      pipelineEntity `json:"pipeline"`
}

type artifactsFileEntity struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
}

type artifactEntity struct {
	FileType   string `json:"file_type"`
	Size       int64  `json:"size"`
	Filename   string `json:"filename"`
	FileFormat string `json:"file_format"`
}

// jobEntity is GitLab's Job entity: artifacts_file only when an archive exists.
type jobEntity struct {
	jobBasic
	ArtifactsFile     *artifactsFileEntity `json:"artifacts_file,omitempty"`
	Artifacts         []artifactEntity     `json:"artifacts"`
	ArtifactsExpireAt *time.Time           `json:"artifacts_expire_at"`
}

// bridgeEntity is GitLab's Bridge entity.
type bridgeEntity struct {
	jobBasic
	DownstreamPipeline *pipelineEntity `json:"downstream_pipeline"`
}

func renderPipeline(p *pipeline, base string) pipelineEntity {
	return pipelineEntity{ID: p.id, IID: p.iid, ProjectID: p.projectID, SHA: p.sha, Ref: p.ref,
		Status: p.status, Source: p.source, CreatedAt: p.created, UpdatedAt: p.created,
		WebURL: fmt.Sprintf("%s/%s/-/pipelines/%d", base, projectPath(p.projectID), p.id)}
}

func renderBasic(j *job, base string) jobBasic {
	b := jobBasic{ID: j.id, Status: j.status, Stage: j.stage, Name: j.name, Ref: j.pipeline.ref,
		CreatedAt: j.created, Pipeline: renderPipeline(j.pipeline, base),
		WebURL: fmt.Sprintf("%s/%s/-/jobs/%d", base, projectPath(j.pipeline.projectID), j.id)}
	if j.status != "created" && j.status != "pending" && j.status != "manual" && j.status != "skipped" {
		started := j.created.Add(time.Second)
		b.StartedAt = &started
	}
	if finished(j.status) && b.StartedAt != nil {
		end, d := j.created.Add(3*time.Second), 2.0
		b.FinishedAt, b.Duration = &end, &d
	}
	if j.status == "failed" {
		b.FailureReason = "script_failure"
	}
	return b
}

func renderJob(j *job, base string) jobEntity {
	e := jobEntity{jobBasic: renderBasic(j, base), Artifacts: []artifactEntity{},
		ArtifactsExpireAt: j.expireAt}
	if a := j.archive; a != nil {
		size := int64(len(a.data))
		e.ArtifactsFile = &artifactsFileEntity{Filename: a.name, Size: size}
		e.Artifacts = append(e.Artifacts, artifactEntity{FileType: "archive", Size: size,
			Filename: a.name, FileFormat: archiveFormat(a.name)})
	}
	if j.reports {
		e.Artifacts = append(e.Artifacts, artifactEntity{FileType: "junit", Size: 120,
			Filename: "junit.xml.gz", FileFormat: "gzip"})
	}
	return e
}

func renderBridge(j *job, base string) bridgeEntity {
	e := bridgeEntity{jobBasic: renderBasic(j, base)}
	if j.downstream != nil {
		d := renderPipeline(j.downstream, base)
		e.DownstreamPipeline = &d
	}
	return e
}

func projectPath(id int64) string { return fmt.Sprintf("group/project-%d", id) }

func archiveFormat(name string) string {
	if path.Ext(name) == ".zip" {
		return "zip"
	}
	return "gzip"
}

// finished reports whether a status is terminal.
func finished(status string) bool {
	switch status {
	case "success", "failed", "canceled", "skipped", "manual":
		return true
	}
	return false
}

// jobStatuses are the values GitLab accepts in scope / scope[].
var jobStatuses = map[string]bool{
	"created": true, "waiting_for_resource": true, "preparing": true, "pending": true,
	"running": true, "success": true, "failed": true, "canceling": true, "canceled": true,
	"skipped": true, "manual": true, "scheduled": true,
}
