package gitlabtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestHandlerRunsWithoutTesting mounts the fakes the way another process
// would: New and NewObjectStoreHandler, no *testing.T.
func TestHandlerRunsWithoutTesting(t *testing.T) {
	s := gitlabtest.New()
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	s.URL = ts.URL

	var mu sync.Mutex
	var leaks []string
	store := gitlabtest.NewObjectStoreHandler(gitlabtest.OnViolation(func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		leaks = append(leaks, msg)
	}))
	defer store.Close()
	sts := httptest.NewServer(store)
	defer sts.Close()
	store.URL = sts.URL

	s.AddPipeline(projectID, pipelineID)
	build := s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "build", Artifact: []byte("not really a zip")})
	s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "deploy", Token: tokRunning})
	s.RedirectTo(store)

	resp, body := get(t, newClient(t), fmt.Sprintf("%s/projects/%d/jobs/%d/artifacts", s.APIURL(), projectID, build.ID),
		"JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	if string(body) != "not really a zip" {
		t.Errorf("body %q", body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaks) == 0 || len(store.Violations()) != len(leaks) {
		t.Errorf("OnViolation got %q, Violations %q: Go's redirect forwards JOB-TOKEN", leaks, store.Violations())
	}
}

func TestTLSServerIsTrustedThroughCAPEM(t *testing.T) {
	f := newFixture(t, gitlabtest.WithTLS())
	store := gitlabtest.NewObjectStore(t, gitlabtest.StoreTLS())
	f.s.RedirectTo(store)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(f.s.CAPEM()) {
		t.Fatalf("CAPEM %q holds no certificate", f.s.CAPEM())
	}
	c := safeClient(t)
	c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	resp, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	if resp.Request.URL.Scheme != "https" || len(store.CAPEM()) == 0 {
		t.Errorf("ended at %s", resp.Request.URL)
	}
	if _, err := newClient(t).Get(f.s.APIURL() + "/version"); err == nil {
		t.Error("a client without the CA reached the TLS server")
	}
}

func TestRequestLogIsACopy(t *testing.T) {
	f := newFixture(t)
	get(t, newClient(t), f.s.APIURL()+"/projects/7/pipelines/100/jobs?scope[]=success&scope[]=failed", "JOB-TOKEN", tokRunning)
	reqs := f.s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests logged, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Route != gitlabtest.RouteJobs || r.Method != "GET" || r.Path != "/api/v4/projects/7/pipelines/100/jobs" ||
		len(r.Query["scope[]"]) != 2 || r.Header.Get("JOB-TOKEN") != tokRunning {
		t.Errorf("logged %+v", r)
	}
	r.Header.Del("JOB-TOKEN")
	r.Query.Del("scope[]")
	if again := f.s.Requests()[0]; again.Header.Get("JOB-TOKEN") == "" || again.Query.Get("scope[]") == "" {
		t.Error("changing a returned Request changed the log")
	}
}

func TestOnRequestLetsAJobFinishWhilePolled(t *testing.T) {
	f := newFixture(t)
	waiting := f.s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "slow", Status: "running"})
	f.s.OnRequest(gitlabtest.RouteProjectJob, func(n int) {
		if n == 3 {
			f.s.SetArtifact(waiting.ID, f.zip)
			f.s.SetStatus(waiting.ID, "success")
		}
	})
	c := newClient(t)
	polls := 0
	for status := ""; status != "success" && polls < 10; polls++ {
		resp, body := get(t, c, fmt.Sprintf("%s/projects/7/jobs/%d", f.s.APIURL(), waiting.ID), "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 200)
		j := decode[jobJSON](t, body)
		status = j.Status
		if (status == "success") != (j.ArtifactsFile != nil) {
			t.Fatalf("poll %d: status %s with artifacts_file %v", polls+1, status, j.ArtifactsFile)
		}
	}
	if polls != 3 || f.s.Count(gitlabtest.RouteProjectJob) != 3 {
		t.Errorf("finished after %d polls (%d logged), want 3", polls, f.s.Count(gitlabtest.RouteProjectJob))
	}
}
