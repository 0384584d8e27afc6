package serve_test

import (
	"net/http"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestParentPipelineParameterIsBelievedOnlyForTheCallersParent: a job says
// which pipeline triggered its own with ?parent_pipeline= (from variables a
// pipeline author controls). The service believes it only when one of that
// pipeline's trigger jobs started the caller's pipeline; naming any other
// pipeline gets no ARTIFACT_URL_PARENT__* at all, so it cannot be used to
// read another pipeline's jobs.
func TestParentPipelineParameterIsBelievedOnlyForTheCallersParent(t *testing.T) {
	s, svc := familySetups[0].start(t)
	s.gl.AddPipeline(project, 9001)
	s.gl.AddJob(project, 9001, gitlabtest.JobSpec{Name: "build", Artifact: s.zip})
	s.gl.AddJob(project, 9001, gitlabtest.JobSpec{Name: "secret release"})
	env := func(t *testing.T, token, parent string) string {
		t.Helper()
		code, body := get(t, svc.URL+"/v1/env?parent_pipeline="+parent, token)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/env?parent_pipeline=%s: %d %s", parent, code, body)
		}
		return body
	}
	t.Run("the child naming its parent gets the parent's jobs", func(t *testing.T) {
		if body := env(t, s.childToken, "7001"); !strings.Contains(body, "export ARTIFACT_URL_PARENT__BUILD=") {
			t.Errorf("no parent's jobs:\n%s", body)
		}
	})
	cases := []struct {
		name, token, parent string
	}{
		{"the child naming an unrelated pipeline of its project", s.childToken, "9001"},
		{"a top-level job naming an unrelated pipeline of its project", deployToken, "9001"},
		{"a job naming a pipeline that does not exist", s.childToken, "123456"},
		{"a job naming its own pipeline", deployToken, "7001"},
		{"a parent's job naming its own child", deployToken, "7002"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := env(t, c.token, c.parent)
			if strings.Contains(body, "PARENT__") || strings.Contains(body, "SECRET_RELEASE") {
				t.Errorf("the named pipeline was taken for the parent:\n%s", body)
			}
			if !strings.Contains(body, "export ARTIFACT_URL_") {
				t.Errorf("the caller lost its own siblings:\n%s", body)
			}
		})
	}
}
