package serve_test

import (
	"net/http"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestListingsOfAnotherProjectAreNotShared: a multi-project downstream
// pipeline's listing, cached for a job of that project, is not handed to a
// job of the upstream project, whose own token GitLab refuses there (the
// downstream project's job-token allowlist does not name it).
func TestListingsOfAnotherProjectAreNotShared(t *testing.T) {
	gl := gitlabtest.NewTest(t, gitlabtest.WithProfile(gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version19_2}))
	const upstream, downstream = 42, 99
	const upToken, downToken = "glcbt-JOBTOKEN-upstream-deploy", "glcbt-JOBTOKEN-downstream-release"
	gl.AddProject(upstream)
	gl.AddProject(downstream)
	gl.AddPipeline(upstream, 7001)
	gl.AddJob(upstream, 7001, gitlabtest.JobSpec{Name: "deploy", Token: upToken})
	gl.AddPipeline(downstream, 9100, gitlabtest.ChildOf(7001, "trigger b"))
	gl.AddJob(downstream, 9100, gitlabtest.JobSpec{Name: "private release", Token: downToken})
	gl.AddJob(downstream, 9100, gitlabtest.JobSpec{Name: "private build"})
	svc := startService(t, gl.URL)

	// A job of the downstream project: its own pipeline is listed (and cached).
	if code, body := get(t, svc.URL+"/v1/env", downToken); code != http.StatusOK || !strings.Contains(body, "PRIVATE_BUILD") {
		t.Fatalf("downstream job: %d\n%s", code, body)
	}
	// A job of the upstream project: GitLab refuses its token on project 99,
	// so the service must not answer from what it listed for project 99's job.
	code, body := get(t, svc.URL+"/v1/env", upToken)
	if code != http.StatusOK {
		t.Fatalf("upstream job: %d\n%s", code, body)
	}
	if strings.Contains(body, "PRIVATE_") {
		t.Errorf("the upstream job learnt the downstream project's jobs through the service's cache:\n%s", body)
	}
}

// TestHeadOnTheSeedEndpointAsksGitLabForHeadersOnly: `curl -I` of an
// archive must not pull the archive through the service.
func TestHeadOnTheSeedEndpointAsksGitLabForHeadersOnly(t *testing.T) {
	s := newSeed(t, gitlabtest.WithProfile(gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version19_2}))
	svc := startService(t, s.gl.URL)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead,
		svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts?job=build", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("JOB-TOKEN", deployToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD: %d", resp.StatusCode)
	}
	asked := 0
	for _, r := range s.gl.Requests() {
		if r.Route == gitlabtest.RouteRunnerArtifacts {
			asked++
			if r.Method != http.MethodHead {
				t.Errorf("GitLab was asked %s %s for a HEAD", r.Method, r.Path)
			}
		}
	}
	if asked != 1 {
		t.Errorf("GitLab's runner route saw %d requests, want 1", asked)
	}
}
