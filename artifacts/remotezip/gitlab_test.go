package remotezip_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// runnerRoute sets up the fake GitLab with a producer job holding data and
// a running consumer job, and returns the runner-API archive URL of the
// producer and a client with the consumer's job token: the one route that
// serves a job token on every tier.
func runnerRoute(t *testing.T, data []byte, direct bool) (*gitlabtest.Server, *gitlab.Client, string) {
	t.Helper()
	gl := gitlabtest.NewTest(t)
	gl.AddProject(7)
	gl.AddPipeline(7, 900)
	producer := gl.AddJob(7, 900, gitlabtest.JobSpec{Name: "build", Artifact: data})
	consumer := gl.AddJob(7, 900, gitlabtest.JobSpec{Name: "use", Token: "consumer-job-token-1234"})
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.APIURL(), Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: consumer.Token},
		MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	u := fmt.Sprintf("%s/jobs/%d/artifacts", gl.APIURL(), producer.ID)
	if direct {
		u += "?direct_download=true"
	}
	return gl, c, u
}

func TestOneFileThroughTheRunnerRoute(t *testing.T) {
	want := noise(300<<10, 9)
	data := zipOf(t, "", file{name: "out/report.bin", data: want, method: 8}, file{name: "pad.bin", data: noise(2<<20, 10)})
	tests := []struct {
		name                      string
		direct                    bool
		fault                     func(gl *gitlabtest.Server, store *gitlabtest.ObjectStore)
		wantGitLab, wantStoreReqs int
	}{
		{"GitLab serves the ranges itself", false, nil, 2, 0},
		{"after a redirect the ranges go to the object store without the token", true, nil, 1, 2},
		{"an expired signed URL is renewed through GitLab", true,
			func(_ *gitlabtest.Server, store *gitlabtest.ObjectStore) {
				store.FailNext(gitlabtest.RouteObject, 1, http.StatusForbidden)
			}, 2, 3},
		{"a body the object store cuts is resumed", true,
			func(_ *gitlabtest.Server, store *gitlabtest.ObjectStore) {
				store.CutBodyAfter(gitlabtest.RouteObject, 100_000)
			}, 1, 3},
		{"a 503 from GitLab is retried", false,
			func(gl *gitlabtest.Server, _ *gitlabtest.ObjectStore) {
				gl.FailNext(gitlabtest.RouteRunnerArtifacts, 1, 503)
			}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl, c, u := runnerRoute(t, data, tt.direct)
			store := gitlabtest.NewObjectStore(t) // fails the test if a token reaches it
			gl.RedirectTo(store)
			src, err := remotezip.NewHTTP(t.Context(), c, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, err := remotezip.Open(t.Context(), src)
			if err != nil {
				t.Fatal(err)
			}
			if tt.fault != nil {
				tt.fault(gl, store)
			}
			var buf bytes.Buffer
			if _, err := a.Extract(t.Context(), "out/report.bin", &buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("Extract: %v (%d bytes)", err, buf.Len())
			}
			if n := gl.Count(gitlabtest.RouteRunnerArtifacts); n != tt.wantGitLab {
				t.Errorf("%d requests to GitLab, want %d", n, tt.wantGitLab)
			}
			if n := store.Count(gitlabtest.RouteObject); n != tt.wantStoreReqs {
				t.Errorf("%d requests to the object store, want %d", n, tt.wantStoreReqs)
			}
			if _, received := src.Stats(); received > int64(len(data))/4 {
				t.Errorf("received %d bytes of a %d-byte archive", received, len(data))
			}
		})
	}
}

func TestRunnerRouteWithoutRangesFailsClearly(t *testing.T) {
	data := zipOf(t, "", file{name: "a", data: noise(1<<20, 11)})
	gl, c, u := runnerRoute(t, data, false)
	gl.NoRanges(gitlabtest.RouteRunnerArtifacts)
	src, err := remotezip.NewHTTP(t.Context(), c, u, nil)
	if !errorIs(err, remotezip.ErrNoRanges) || src != nil {
		t.Fatalf("NewHTTP: %v, want ErrNoRanges", err)
	}
}

func TestCutFirstAnswerIsAskedAgain(t *testing.T) {
	data := zipOf(t, "", file{name: "a", data: []byte("A")}, file{name: "pad", data: noise(1<<20, 12)})
	gl, c, u := runnerRoute(t, data, false)
	gl.CutBodyAfter(gitlabtest.RouteRunnerArtifacts, 1000)
	src, err := remotezip.NewHTTP(t.Context(), c, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := remotezip.Open(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if got := extractString(t, a, "a"); got != "A" {
		t.Errorf("a = %q", got)
	}
	if n := gl.Count(gitlabtest.RouteRunnerArtifacts); n != 3 {
		t.Errorf("%d requests, want 3 (tail cut, tail, entry)", n)
	}
}
