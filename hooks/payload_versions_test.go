package hooks

import (
	"path/filepath"
	"testing"
)

// TestReadPayloadOfEachRunnerVersion reads JOB_RESPONSE_FILE as gitlab-runner
// 17.9.3 (common.JobResponse, run a string, no job_info.pipeline_id) and
// 19.3.0 (spec.Job, run an array of steps, pipeline_id and new keys) write it:
// see testdata/payload/README.md for the source of each shape.
func TestReadPayloadOfEachRunnerVersion(t *testing.T) {
	for _, tc := range []struct {
		file       string
		pipelineID int64
	}{
		{"17.9.3.json", 0},
		{"19.3.0.json", 77},
	} {
		t.Run("gitlab-runner "+tc.file+" parses, unknown keys ignored", func(t *testing.T) {
			p, err := ReadPayload(filepath.Join("testdata", "payload", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != 1004 || p.JobInfo.Name != "deploy" || p.JobInfo.ProjectID != 42 || p.JobInfo.PipelineID != tc.pipelineID {
				t.Errorf("payload %+v, want job 1004 deploy of project 42, pipeline_id %d", p, tc.pipelineID)
			}
			if len(p.Dependencies) != 1 || p.Dependencies[0].Name != "build" || p.ServerHost != "gitlab.example.com" {
				t.Errorf("dependencies %+v, server %q", p.Dependencies, p.ServerHost)
			}
		})
	}
}
