package serve_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// bigPipeline adds a pipeline of jobs jobs, of which the first callers run
// and have tokens; it returns those tokens.
func bigPipeline(gl *gitlabtest.Server, projectID, pipeline int64, jobs, callers int) []string {
	gl.AddPipeline(projectID, pipeline)
	tokens := make([]string, 0, callers)
	for i := range jobs {
		spec := gitlabtest.JobSpec{Name: fmt.Sprintf("job %04d", i)}
		if i < callers {
			spec.Token = fmt.Sprintf("glcbt-LOAD-%d-%04d", pipeline, i)
			tokens = append(tokens, spec.Token)
		}
		gl.AddJob(projectID, pipeline, spec)
	}
	return tokens
}

func TestFiveHundredJobsAtOnceCostOneListing(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	gl := gitlabtest.NewTest(t)
	gl.AddProject(project)
	tokens := bigPipeline(gl, project, pipelineID, 1000, 500)
	svc := startService(t, gl.URL, "--cache-ttl", "5m")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 500}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	codes := make([]int, len(tokens))
	for i, tok := range tokens {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, svc.URL+"/v1/env", nil)
			req.Header.Set("JOB-TOKEN", tok)
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("caller %d: %d", i, c)
		}
	}
	for route, want := range map[gitlabtest.Route]int{gitlabtest.RouteJobs: 10, gitlabtest.RouteBridges: 1, gitlabtest.RouteJob: 500} {
		if n := gl.Count(route); n != want {
			t.Errorf("GitLab saw %d requests on %s, want %d", n, route, want)
		}
	}
}
