package gitlab_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const (
	project  = 7
	pipeline = 900
	admin    = "glpat-admin-token-for-tests"
)

// fastClient never waits for real backoff.
func fastClient(t *testing.T, gl *gitlabtest.Server, cred gitlab.Credential, opts ...func(*gitlab.Options)) *gitlab.Client {
	t.Helper()
	o := gitlab.Options{BaseURL: gl.APIURL(), Credential: cred, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	c, err := gitlab.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pipelineWithJobs(t *testing.T, n int, opts ...gitlabtest.Option) *gitlabtest.Server {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	gl.AddProject(project)
	gl.AddPipeline(project, pipeline)
	gl.AddToken(admin, project)
	for i := range n {
		gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "job " + string(rune('a'+i%26)) + strings.Repeat("x", i/26)})
	}
	return gl
}

var adminCred = gitlab.Credential{Kind: gitlab.PrivateToken, Token: admin}

func TestPipelineJobsReadsEveryPage(t *testing.T) {
	tests := []struct {
		name      string
		jobs      int
		opts      []gitlabtest.Option
		wantPages int
	}{
		{"one page needs one request", 30, nil, 1},
		{"totals let the rest be fetched concurrently", 250, []gitlabtest.Option{gitlabtest.PerPageMax(100)}, 3},
		{"without totals Link is followed to the end", 250, []gitlabtest.Option{gitlabtest.PerPageMax(100), gitlabtest.OmitTotals()}, 3},
		{"a server capping per_page lower still yields everything", 45, []gitlabtest.Option{gitlabtest.PerPageMax(20)}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := pipelineWithJobs(t, tt.jobs, tt.opts...)
			jobs, err := fastClient(t, gl, adminCred).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != tt.jobs {
				t.Errorf("got %d jobs, want %d", len(jobs), tt.jobs)
			}
			if n := gl.Count(gitlabtest.RouteJobs); n != tt.wantPages {
				t.Errorf("%d requests, want %d", n, tt.wantPages)
			}
		})
	}
}

func TestRetriesCoverStatusesAndBodies(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*gitlabtest.Server)
	}{
		{"a burst of 503 is retried", func(gl *gitlabtest.Server) { gl.FailNext(gitlabtest.RouteJobs, 3, 503) }},
		{"429 with Retry-After is retried", func(gl *gitlabtest.Server) {
			gl.FailNext(gitlabtest.RouteJobs, 1, 429)
			gl.RetryAfter(gitlabtest.RouteJobs, 1)
		}},
		{"408 is retried", func(gl *gitlabtest.Server) { gl.FailNext(gitlabtest.RouteJobs, 1, 408) }},
		{"a body cut halfway is fetched again", func(gl *gitlabtest.Server) { gl.CutBodyAfter(gitlabtest.RouteJobs, 40) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := pipelineWithJobs(t, 5)
			tt.inject(gl)
			jobs, err := fastClient(t, gl, adminCred).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{})
			if err != nil || len(jobs) != 5 {
				t.Fatalf("got %d jobs, err %v", len(jobs), err)
			}
		})
	}
}

func TestFinalErrorsAreTypedAndNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"401 is final", 401}, {"403 is final", 403}, {"404 is final", 404}, {"501 is final", 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := pipelineWithJobs(t, 1)
			gl.FailNext(gitlabtest.RouteJobs, 5, tt.status)
			_, err := fastClient(t, gl, adminCred).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{})
			if !gitlab.IsStatus(err, tt.status) {
				t.Fatalf("err = %v, want an APIError %d", err, tt.status)
			}
			if n := gl.Count(gitlabtest.RouteJobs); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestRetriesGiveUpWithTheLastStatus(t *testing.T) {
	gl := pipelineWithJobs(t, 1)
	gl.FailNext(gitlabtest.RouteJobs, 100, 502)
	_, err := fastClient(t, gl, adminCred, func(o *gitlab.Options) { o.RetryMax = 2 }).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{})
	if !gitlab.IsStatus(err, 502) || gl.Count(gitlabtest.RouteJobs) != 3 {
		t.Fatalf("err = %v after %d requests, want 502 after 3", err, gl.Count(gitlabtest.RouteJobs))
	}
}

func TestOlderGitLabRefusesTheJobTokenWithoutShowingIt(t *testing.T) {
	gl := pipelineWithJobs(t, 1, gitlabtest.OlderGitLab())
	deploy := gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "deploy", Token: "glcbt-secret-job-token"})
	_, err := fastClient(t, gl, gitlab.Credential{Kind: gitlab.JobToken, Token: deploy.Token}).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{})
	if !gitlab.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("err = %v, want 404 (the job token is ignored, the project is private)", err)
	}
	if strings.Contains(err.Error(), deploy.Token) || !strings.Contains(err.Error(), "job token") {
		t.Errorf("error %q must name the token kind and never the token", err)
	}
}

func TestCurrentJobAndUserAgent(t *testing.T) {
	gl := pipelineWithJobs(t, 0)
	j := gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "deploy", Token: "glcbt-current-job"})
	got, err := fastClient(t, gl, gitlab.Credential{Kind: gitlab.JobToken, Token: j.Token}).CurrentJob(t.Context())
	if err != nil || got.ID != j.ID || got.Pipeline == nil || got.Pipeline.ID != pipeline {
		t.Fatalf("CurrentJob = %+v, %v", got, err)
	}
	if ua := gl.Requests()[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, "pipeline-artifacts/") {
		t.Errorf("User-Agent %q", ua)
	}
}

func TestRedirectToObjectStoreCarriesNoCredential(t *testing.T) {
	gl := pipelineWithJobs(t, 0)
	store := gitlabtest.NewObjectStore(t) // fails the test on any credential
	gl.RedirectTo(store)
	j := gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "build", Artifact: gitlabtest.MakeZip(t, map[string]string{"a": "b"})})
	for _, cred := range []gitlab.Credential{adminCred, {Kind: gitlab.JobToken, Token: "glcbt-running-job"}} {
		if cred.Kind == gitlab.JobToken {
			gl.AddJob(project, pipeline, gitlabtest.JobSpec{Name: "deploy", Token: cred.Token})
		}
		c := fastClient(t, gl, cred)
		err := c.Do(t.Context(), gitlab.Unit{Method: "GET", URL: c.URL("projects/7/jobs/"+itoa(j.ID)+"/artifacts", nil),
			Handle: func(r *http.Response) error { _, err := io.Copy(io.Discard, r.Body); return err }})
		if err != nil {
			t.Fatalf("%s: %v", cred, err)
		}
	}
	if store.Count(gitlabtest.RouteObject) != 2 {
		t.Errorf("object store saw %d requests, want 2", store.Count(gitlabtest.RouteObject))
	}
}

func TestCustomCAIsTrusted(t *testing.T) {
	gl := pipelineWithJobs(t, 1, gitlabtest.WithTLS())
	if _, err := fastClient(t, gl, adminCred).PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{}); err == nil {
		t.Fatal("an unknown CA was trusted")
	}
	c := fastClient(t, gl, adminCred, func(o *gitlab.Options) { o.CAPEM = gl.CAPEM() })
	if _, err := c.PipelineJobs(t.Context(), "7", pipeline, gitlab.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := gitlab.New(gitlab.Options{BaseURL: gl.APIURL(), CAPEM: []byte("not a certificate")}); err == nil {
		t.Error("a CA file without a certificate was accepted")
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x/api/v4", "https://user:pw@gitlab/api/v4", "gitlab.example.com"} {
		if _, err := gitlab.New(gitlab.Options{BaseURL: u}); err == nil {
			t.Errorf("New(%q) succeeded", u)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error shows the URL's password: %v", err)
		}
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	gl := pipelineWithJobs(t, 1)
	gl.FailNext(gitlabtest.RouteJobs, 1000, 503)
	ctx, cancel := context.WithCancel(t.Context())
	gl.OnRequest(gitlabtest.RouteJobs, func(n int) {
		if n == 3 {
			cancel()
		}
	})
	c := fastClient(t, gl, adminCred, func(o *gitlab.Options) { o.RetryMax = 1000 })
	_, err := c.PipelineJobs(ctx, "7", pipeline, gitlab.ListOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
