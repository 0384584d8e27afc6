package gitlabtest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestArtifactRulesOnEveryProfile runs artifacts:access, expiry, reports-only
// and not-yet-uploaded jobs through both download routes on every profile.
func TestArtifactRulesOnEveryProfile(t *testing.T) {
	past := time.Now().Add(-time.Hour)
	// Statuses: the API with an access token, the API with the job token
	// (on tiers that take it there), one file with an access token, the
	// runner route with the job token.
	type want struct{ apiAdmin, apiJob, file, runner int }
	cases := []struct {
		name      string
		spec      gitlabtest.JobSpec
		noArchive bool
		want      want
	}{
		{"artifacts:access all serves everyone", gitlabtest.JobSpec{}, false, want{200, 200, 200, 200}},
		{"artifacts:access developer refuses the job token on the API, not on the runner route",
			gitlabtest.JobSpec{ArtifactsAccess: "developer"}, false, want{200, 403, 200, 200}},
		{"artifacts:access none refuses everyone on the API, not on the runner route",
			gitlabtest.JobSpec{ArtifactsAccess: "none"}, false, want{403, 403, 403, 200}},
		{"an expired archive still downloads, its files do not",
			gitlabtest.JobSpec{ArtifactsExpireAt: &past}, false, want{200, 200, 404, 200}},
		{"a reports-only job has no archive", gitlabtest.JobSpec{ReportsOnly: true}, true, want{404, 404, 404, 404}},
		{"a job that has not uploaded yet has no archive", gitlabtest.JobSpec{Status: "running"}, true, want{404, 404, 404, 404}},
	}
	for _, p := range gitlabtest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			f := newFixture(t, gitlabtest.WithProfile(p))
			c := newClient(t)
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					spec := tc.spec
					spec.Name = fmt.Sprintf("job-%d", i)
					if !tc.noArchive {
						spec.Artifact = f.zip
					}
					j := f.s.AddJob(projectID, pipelineID, spec)
					api := fmt.Sprintf("%s/projects/%d/jobs/%d/artifacts", f.s.APIURL(), projectID, j.ID)
					resp, body := get(t, c, api, "PRIVATE-TOKEN", patProject)
					wantStatus(t, resp, body, tc.want.apiAdmin)
					wantJob := tc.want.apiJob
					if !p.PublicArtifactsTakeJobToken() {
						wantJob = 404 // "404 Project Not Found": the token is ignored
					}
					resp, body = get(t, c, api, "JOB-TOKEN", tokRunning)
					wantStatus(t, resp, body, wantJob)
					resp, body = get(t, c, api+"/dist/app.txt", "PRIVATE-TOKEN", patProject)
					wantStatus(t, resp, body, tc.want.file)
					resp, body = get(t, c, fmt.Sprintf("%s/jobs/%d/artifacts", f.s.APIURL(), j.ID), "JOB-TOKEN", tokRunning)
					wantStatus(t, resp, body, tc.want.runner)
				})
			}
		})
	}
}

func TestArchiveETagIsTheSHA256(t *testing.T) {
	f := newFixture(t)
	resp, body := get(t, newClient(t), fmt.Sprintf("%s/jobs/%d/artifacts", f.s.APIURL(), f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	sum := sha256.Sum256(f.zip)
	if got, want := resp.Header.Get("ETag"), `"`+hex.EncodeToString(sum[:])+`"`; got != want {
		t.Errorf("ETag = %s, want %s", got, want)
	}
}

func TestRunnerRouteRedirectsOnlyWithDirectDownload(t *testing.T) {
	f := newFixture(t)
	store := gitlabtest.NewObjectStore(t)
	f.s.RedirectTo(store)
	c := newClient(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	url := fmt.Sprintf("%s/jobs/%d/artifacts", f.s.APIURL(), f.build.ID)
	resp, body := get(t, c, url, "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	resp, body = get(t, c, url+"?direct_download=true", "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 302)
}

func TestRetryDuringListingMovesRowsDown(t *testing.T) {
	s := gitlabtest.NewTest(t)
	s.AddToken(patAdmin)
	s.AddPipeline(projectID, pipelineID)
	for i := range 5 {
		s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: fmt.Sprintf("job %d", i)})
	}
	s.RetryDuringListing(pipelineID, "job 1", 2)
	c := newClient(t)
	url := s.APIURL() + "/projects/7/pipelines/100/jobs?per_page=2&page="
	// Page 2 first (before the retry), then page 1 (after it): the row that
	// crossed the boundary is on neither.
	_, body := get(t, c, url+"2", "PRIVATE-TOKEN", patAdmin)
	page2 := decode[[]jobJSON](t, body)
	_, body = get(t, c, url+"1", "PRIVATE-TOKEN", patAdmin)
	page1 := decode[[]jobJSON](t, body)
	seen := map[string]bool{}
	for _, j := range append(page1, page2...) {
		seen[j.Name] = true
	}
	if page1[0].Name != "job 1" || page1[0].Status != "pending" || seen["job 3"] {
		t.Errorf("page 1 = %+v, page 2 = %+v: want the new attempt on top and job 3 skipped", page1, page2)
	}
}

func TestRefRoutesFollowTheTier(t *testing.T) {
	for _, p := range gitlabtest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			f := newFixture(t, gitlabtest.WithProfile(p))
			f.s.AddPipeline(projectID, 300, gitlabtest.WithPipelineStatus("success"), gitlabtest.WithRef("release/1"))
			f.s.AddJob(projectID, 300, gitlabtest.JobSpec{Name: "build", Artifact: f.zip})
			c := newClient(t)
			base := f.s.APIURL() + "/projects/7/jobs/artifacts/release%2F1/"
			resp, body := get(t, c, base+"download?job=build", "PRIVATE-TOKEN", patProject)
			wantStatus(t, resp, body, 200)
			resp, body = get(t, c, base+"raw/dist/app.txt?job=build", "PRIVATE-TOKEN", patProject)
			wantStatus(t, resp, body, 200)
			if string(body) != "hello from build" {
				t.Errorf("raw = %q", body)
			}
			want := 200
			if !p.PublicArtifactsTakeJobToken() {
				want = 404
			}
			resp, body = get(t, c, base+"download?job=build", "JOB-TOKEN", tokRunning)
			wantStatus(t, resp, body, want)
			resp, body = get(t, c, base+"download?job=nope", "PRIVATE-TOKEN", patProject)
			wantStatus(t, resp, body, 404)
			if string(body) != `{"message":"404 Not found"}` {
				t.Errorf("unknown job body %s", body)
			}
		})
	}
}
