package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// The pipeline every benchmark lists.
const (
	projectID  = 42
	pipelineID = 7001
	adminToken = "glpat-bench-admin"
)

// fake is a gitlabtest server on a loopback port, reachable by the stage
// processes. close releases it.
type fake struct {
	*gitlabtest.Server
	srv *http.Server
}

func serveFake(opts ...gitlabtest.Option) (*fake, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gl := gitlabtest.New(opts...)
	gl.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: gl, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	gl.AddProject(projectID)
	gl.AddPipeline(projectID, pipelineID)
	gl.AddToken(adminToken, projectID)
	return &fake{Server: gl, srv: srv}, nil
}

// close releases handlers held by Latency first, so Close does not wait
// for them.
func (f *fake) close() {
	f.Server.Close()
	_ = f.srv.Close()
}

// addJobs adds n finished jobs: one build, parallel tests and lint jobs,
// so that names, groups and the manifest do real work.
func (f *fake) addJobs(n int) []*gitlabtest.FakeJob {
	var jobs []*gitlabtest.FakeJob
	tests := n * 3 / 5
	for i := range n {
		spec := gitlabtest.JobSpec{Name: fmt.Sprintf("lint-%d", i), Stage: "test"}
		switch {
		case i == 0:
			spec.Name, spec.Stage = "build", "build"
		case i <= tests:
			spec.Name = fmt.Sprintf("test %d/%d", i, tests)
		}
		jobs = append(jobs, f.AddJob(projectID, pipelineID, spec))
	}
	return jobs
}
