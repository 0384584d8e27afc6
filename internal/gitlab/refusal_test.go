package gitlab_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

func fetch(t *testing.T, c *gitlab.Client, url string) error {
	t.Helper()
	return c.Do(t.Context(), gitlab.Unit{Method: http.MethodGet, URL: url, Handle: func(r *http.Response) error {
		_, err := io.Copy(io.Discard, r.Body)
		return err
	}})
}

// TestRefusalsAreClassifiedOnEveryProfile asks for artifacts the way a job
// would and checks the one cause the CLI will print.
func TestRefusalsAreClassifiedOnEveryProfile(t *testing.T) {
	past := time.Now().Add(-time.Hour)
	type tc struct {
		name string
		spec gitlabtest.JobSpec
		// url builds the request from the API URL and the target job.
		url  func(api string, id int64) string
		cred string // "job", "admin", "finished"
		want func(p gitlabtest.Profile) gitlab.Refusal
	}
	public := func(api string, id int64) string { return gitlab.PublicArtifactsURL(api, "7", id) }
	runner := gitlab.RunnerArtifactsURL
	file := func(api string, id int64) string {
		ref, _ := gitlab.ParseArtifactURL(public(api, id))
		return ref.WithPath("a").String()
	}
	zip := gitlabtest.MakeZip(t, map[string]string{"a": "b"})
	tierOr := func(r gitlab.Refusal) func(gitlabtest.Profile) gitlab.Refusal {
		return func(p gitlabtest.Profile) gitlab.Refusal {
			if !p.PublicArtifactsTakeJobToken() {
				return gitlab.RefusalTierJobToken
			}
			return r
		}
	}
	always := func(r gitlab.Refusal) func(gitlabtest.Profile) gitlab.Refusal {
		return func(gitlabtest.Profile) gitlab.Refusal { return r }
	}
	cases := []tc{
		{"the job token on the API: refused by tier on EE Free only", gitlabtest.JobSpec{Artifact: zip}, public, "job", tierOr(gitlab.NotRefused)},
		{"the job token on the runner route: never refused by tier", gitlabtest.JobSpec{Artifact: zip}, runner, "job", always(gitlab.NotRefused)},
		{"artifacts:access on the API", gitlabtest.JobSpec{Artifact: zip, ArtifactsAccess: "developer"}, public, "job", tierOr(gitlab.RefusalArtifactsAccess)},
		{"artifacts:access none refuses an admin too", gitlabtest.JobSpec{Artifact: zip, ArtifactsAccess: "none"}, public, "admin", always(gitlab.RefusalArtifactsAccess)},
		{"a finished job's token", gitlabtest.JobSpec{Artifact: zip}, runner, "finished", always(gitlab.RefusalTokenExpired)},
		{"an expired archive's file", gitlabtest.JobSpec{Artifact: zip, ArtifactsExpireAt: &past}, file, "admin", always(gitlab.RefusalArtifactsExpired)},
		{"a reports-only job's archive", gitlabtest.JobSpec{ReportsOnly: true}, public, "admin", always(gitlab.RefusalReportsOnly)},
		{"an archive not uploaded yet", gitlabtest.JobSpec{Status: "running"}, runner, "job", always(gitlab.RefusalMissing)},
	}
	for _, p := range gitlabtest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			gl := pipelineWithJobs(t, 0, gitlabtest.WithProfile(p))
			gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "deploy", Token: "glcbt-refusal-running"})
			gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "done", Status: "success", Token: "glcbt-refusal-finished"})
			creds := map[string]gitlab.Credential{"admin": adminCred,
				"job":      {Kind: gitlab.JobToken, Token: "glcbt-refusal-running"},
				"finished": {Kind: gitlab.JobToken, Token: "glcbt-refusal-finished"}}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					spec := c.spec
					spec.Name = c.name
					target := gl.AddJob(project, pipeline, spec)
					client := fastClient(t, gl, creds[c.cred])
					err := fetch(t, client, c.url(gl.APIURL(), target.ID))
					record, jerr := fastClient(t, gl, adminCred).ProjectJob(t.Context(), "7", target.ID)
					if jerr != nil {
						t.Fatal(jerr)
					}
					if got, want := gitlab.Explain(err, record), c.want(p); got != want {
						t.Errorf("Explain(%v) = %q, want %q", err, got, want)
					}
				})
			}
		})
	}
}

func TestEveryRefusalHasOneLine(t *testing.T) {
	for r := gitlab.RefusalUnknown; r <= gitlab.RefusalMissing; r++ {
		if s := r.String(); s == "" || s == "not refused" || strings.Contains(s, "\n") {
			t.Errorf("Refusal(%d) message %q", r, s)
		}
	}
	if gitlab.Cause(errors.New("dial tcp: refused")) != gitlab.NotRefused {
		t.Error("a network error classified as a refusal")
	}
}

func TestOnlyAMissingArchiveIsWorthWaitingFor(t *testing.T) {
	free := gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_9}
	gl := pipelineWithJobs(t, 0, gitlabtest.WithProfile(free))
	gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "deploy", Token: "glcbt-wait-running"})
	pending := gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "build", Status: "running"})
	job := fastClient(t, gl, gitlab.Credential{Kind: gitlab.JobToken, Token: "glcbt-wait-running"})
	cases := []struct {
		name string
		url  string
		want bool
	}{
		{"the runner route's 404 for an archive not uploaded yet", gitlab.RunnerArtifactsURL(gl.APIURL(), pending.ID), true},
		{"EE Free's 404 Project Not Found to the job token", gitlab.PublicArtifactsURL(gl.APIURL(), "7", pending.ID), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := gitlab.MayAppear(fetch(t, job, tc.url)); got != tc.want {
				t.Errorf("MayAppear = %t, want %t", got, tc.want)
			}
		})
	}
}
