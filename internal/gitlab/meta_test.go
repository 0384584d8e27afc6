package gitlab_test

import (
	"net/http"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const (
	metaProject = 31
	metaEmpty   = 32
	metaReader  = "glpat-meta-reader-of-31"
	metaJob     = "glcbt-meta-running-job"
)

// metaServer has project 31 with pipelines 500 and 501 (one running job in
// 501) and project 32 without pipelines; metaReader may read only 31.
func metaServer(t *testing.T, opts ...gitlabtest.Option) *gitlabtest.Server {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	gl.AddProject(metaProject)
	gl.AddProject(metaEmpty)
	gl.AddPipeline(metaProject, 500)
	gl.AddPipeline(metaProject, 501)
	gl.AddJob(metaProject, 501, gitlabtest.JobSpec{Name: "build", Token: metaJob})
	gl.AddToken(metaReader, metaProject)
	return gl
}

func metaClient(t *testing.T, gl *gitlabtest.Server, kind gitlab.AuthKind, token string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.APIURL(), Credential: gitlab.Credential{Kind: kind, Token: token},
		MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServerVersion(t *testing.T) {
	tests := []struct {
		name    string
		opts    []gitlabtest.Option
		kind    gitlab.AuthKind
		token   string
		want    string
		wantErr int
	}{
		{"an access token reads the version", nil, gitlab.PrivateToken, metaReader, "18.9.0", 0},
		{"a running job's token is 401: /version never takes one", nil, gitlab.JobToken, metaJob, "", http.StatusUnauthorized},
		{"an older instance reports its own version", []gitlabtest.Option{gitlabtest.OlderGitLab()}, gitlab.PrivateToken, metaReader, "17.9.0", 0},
		{"a configured version is reported as is", []gitlabtest.Option{gitlabtest.WithVersion("18.10.1-ee")}, gitlab.PrivateToken, metaReader, "18.10.1-ee", 0},
		{"without a token GitLab answers 401", nil, gitlab.NoAuth, "", "", http.StatusUnauthorized},
		{"an unknown token is 401", nil, gitlab.PrivateToken, "glpat-nobody", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := metaServer(t, tt.opts...)
			got, err := metaClient(t, gl, tt.kind, tt.token).ServerVersion(t.Context())
			if tt.wantErr != 0 {
				if !gitlab.IsStatus(err, tt.wantErr) {
					t.Fatalf("err = %v, want status %d", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ServerVersion = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestLatestPipeline(t *testing.T) {
	tests := []struct {
		name    string
		project string
		token   string
		want    int64 // 0: no pipeline
		wantErr int
	}{
		{"the newest pipeline of the project is returned", "31", metaReader, 501, 0},
		{"a project without pipelines gives nil", "32", "glpat-meta-all", 0, 0},
		{"a project the token may not read is 404", "32", metaReader, 0, http.StatusNotFound},
		{"an unknown project is 404", "99", metaReader, 0, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := metaServer(t)
			gl.AddToken("glpat-meta-all")
			p, err := metaClient(t, gl, gitlab.PrivateToken, tt.token).LatestPipeline(t.Context(), tt.project)
			switch {
			case tt.wantErr != 0:
				if !gitlab.IsStatus(err, tt.wantErr) {
					t.Fatalf("err = %v, want status %d", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.want == 0 && p != nil:
				t.Fatalf("LatestPipeline = %+v, want nil", p)
			case tt.want != 0 && (p == nil || p.ID != tt.want):
				t.Fatalf("LatestPipeline = %+v, want pipeline %d", p, tt.want)
			}
		})
	}
}
