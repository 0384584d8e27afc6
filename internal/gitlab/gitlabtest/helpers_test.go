package gitlabtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// Fixture ids and tokens shared by the tests. Tokens are long enough for the
// object store's value search.
const (
	projectID    = 7
	pipelineID   = 100
	otherProject = 8
	otherPipe    = 200
	patProject   = "glpat-project-7-reader"
	patAdmin     = "glpat-admin-all-projects"
	tokRunning   = "glcbt-running-job-7"
	tokFinished  = "glcbt-finished-job-7"
	tokOther     = "glcbt-running-job-8"
)

// jobJSON decodes the fields the tests check; it is deliberately not the
// client's type.
type jobJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Stage         string `json:"stage"`
	Status        string `json:"status"`
	Ref           string `json:"ref"`
	CreatedAt     string `json:"created_at"`
	ArtifactsFile *struct {
		Filename string `json:"filename"`
		Size     int64  `json:"size"`
	} `json:"artifacts_file"`
	Pipeline struct {
		ID        int64  `json:"id"`
		ProjectID int64  `json:"project_id"`
		SHA       string `json:"sha"`
		Status    string `json:"status"`
	} `json:"pipeline"`
	DownstreamPipeline *struct {
		ID     int64  `json:"id"`
		Source string `json:"source"`
	} `json:"downstream_pipeline"`
}

// newClient returns a client with its own connections, closed with the test.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// get sends a GET with header pairs ("JOB-TOKEN", tok, …) and reads the body.
func get(t *testing.T, c *http.Client, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return do(t, c, http.MethodGet, url, header...)
}

func do(t *testing.T, c *http.Client, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, body
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return v
}

func wantStatus(t *testing.T, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, body)
	}
}

// fixture is the auth matrix's world: project 7 with a finished build that
// has an archive, a running consumer and a finished job that still has a
// token; project 8 with a running job of its own.
type fixture struct {
	s        *gitlabtest.Server
	build    *gitlabtest.FakeJob
	consumer *gitlabtest.FakeJob
	other    *gitlabtest.FakeJob
	zip      []byte
}

func newFixture(t *testing.T, opts ...gitlabtest.Option) fixture {
	t.Helper()
	s := gitlabtest.NewTest(t, opts...)
	f := fixture{s: s, zip: gitlabtest.MakeZip(t, map[string]string{"dist/app.txt": "hello from build"})}
	s.AddPipeline(projectID, pipelineID)
	s.AddPipeline(projectID, pipelineID+1, gitlabtest.ChildOf(pipelineID, "trigger-child"))
	f.build = s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "build", Stage: "build", Artifact: f.zip})
	f.consumer = s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "consumer", Stage: "test", Token: tokRunning})
	s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "finished", Status: "success", Token: tokFinished})
	s.AddPipeline(otherProject, otherPipe)
	f.other = s.AddJob(otherProject, otherPipe, gitlabtest.JobSpec{Name: "other", Token: tokOther, Artifact: f.zip})
	s.AddToken(patProject, projectID)
	s.AddToken(patAdmin)
	return f
}
