package gitlab

import "time"

// Job mirrors the fields of GitLab's Job entity (lib/api/entities/ci/job.rb)
// that pipeline-artifacts reads. Unknown fields are ignored.
type Job struct {
	ID            int64          `json:"id"`
	Name          string         `json:"name"`
	Stage         string         `json:"stage"`
	Status        string         `json:"status"`
	Ref           string         `json:"ref,omitempty"`
	CreatedAt     *time.Time     `json:"created_at,omitempty"`
	FinishedAt    *time.Time     `json:"finished_at,omitempty"`
	ArtifactsFile *ArtifactsFile `json:"artifacts_file,omitempty"`
	// Artifacts lists every artifact file: the archive, metadata, trace and
	// artifacts:reports files.
	Artifacts         []Artifact `json:"artifacts,omitempty"`
	ArtifactsExpireAt *time.Time `json:"artifacts_expire_at,omitempty"`
	Pipeline          *Pipeline  `json:"pipeline,omitempty"`
	// DownstreamPipeline is set only on bridge (trigger) jobs.
	DownstreamPipeline *Pipeline `json:"downstream_pipeline,omitempty"`
}

// ArtifactsFile is a job's artifacts archive as GitLab reports it.
type ArtifactsFile struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
}

// Artifact is one entry of a job's artifacts list
// (lib/api/entities/ci/job_artifact.rb).
type Artifact struct {
	FileType string `json:"file_type"`
	Filename string `json:"filename,omitempty"`
	Size     int64  `json:"size,omitempty"`
}

// Pipeline mirrors GitLab's PipelineBasic entity.
type Pipeline struct {
	ID        int64  `json:"id"`
	ProjectID int64  `json:"project_id"`
	SHA       string `json:"sha,omitempty"`
	Ref       string `json:"ref,omitempty"`
	Status    string `json:"status,omitempty"`
	Source    string `json:"source,omitempty"`
}

// Finished reports whether a job status is terminal: the job will not
// produce artifacts any more unless it is retried.
func Finished(status string) bool {
	switch status {
	case "success", "failed", "canceled", "skipped", "manual":
		return true
	}
	return false
}
