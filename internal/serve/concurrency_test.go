package serve

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// The service in-process, so that the race detector sees its caches, single
// flights and limiters under concurrent callers.
func TestConcurrentCallersShareListingsWithoutRaces(t *testing.T) {
	gl := gitlabtest.NewTest(t)
	gl.AddProject(42)
	gl.AddPipeline(42, 7001)
	zip := gitlabtest.MakeZip(t, map[string]string{"a.txt": "a"})
	gl.AddJob(42, 7001, gitlabtest.JobSpec{Name: "build", Artifact: zip})
	var tokens []string
	for i := range 40 {
		tok := fmt.Sprintf("glcbt-RACE-%04d", i)
		gl.AddJob(42, 7001, gitlabtest.JobSpec{Name: fmt.Sprintf("job %d", i), Token: tok})
		tokens = append(tokens, tok)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	svc, err := New(Config{GitLabURL: gl.URL, Log: logrus.NewEntry(log)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(svc.Handler())
	t.Cleanup(ts.Close)
	var wg sync.WaitGroup
	for _, tok := range tokens {
		for _, path := range []string{"/v1/env", "/v1/manifest", "/api/v4/projects/42/pipelines/7001/artifacts?job=build", "/metrics"} {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+path, nil)
				req.Header.Set("JOB-TOKEN", tok)
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Errorf("%s: %v", path, err)
					return
				}
				defer resp.Body.Close()
				_, _ = io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
			})
		}
	}
	wg.Wait()
	if n := gl.Count(gitlabtest.RouteJobs); n != 1 {
		t.Errorf("GitLab saw %d listings, want 1", n)
	}
	if n := gl.Count(gitlabtest.RouteJob); n != len(tokens) {
		t.Errorf("GitLab saw %d token checks, want %d", n, len(tokens))
	}
	// Job tokens are masked per request: the process-wide register, which
	// lives as long as the service, must not keep one per job of the fleet.
	for _, tok := range tokens {
		if secret.Mask(tok) != tok {
			t.Fatalf("job token %s… is in the process-wide masking register", tok[:10])
		}
	}
}
