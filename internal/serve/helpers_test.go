package serve_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// testVersion is the version the test binary is stamped with, as make dist
// stamps a release.
const testVersion = "v9.9.9-test"

// binary is pipeline-artifacts, built once: the service runs as a real
// process, as it does beside a fleet.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pa-serve")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "pipeline-artifacts")
	build := exec.Command("go", "build", "-ldflags", "-X gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/cli.version="+testVersion,
		"-o", binary, "../../cmd/pipeline-artifacts")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	project     = 42
	pipelineID  = 7001
	adminToken  = "glpat-ADMIN-SECRET-never-in-a-job"
	deployToken = "glcbt-JOBTOKEN-deploy-0001"
)

// seed is a pipeline with build (an archive), two parallel tests, a child
// pipeline triggered by "trigger docs", and deploy, the running job that asks.
type seed struct {
	gl          *gitlabtest.Server
	build       *gitlabtest.FakeJob
	zip         []byte
	childToken  string
	childPipeID int64
}

func newSeed(t *testing.T, opts ...gitlabtest.Option) seed {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	return addSeed(t, gl)
}

func addSeed(t *testing.T, gl *gitlabtest.Server) seed {
	gl.AddProject(project)
	gl.AddPipeline(project, pipelineID)
	zip := gitlabtest.MakeZip(t, map[string]string{"public/index.html": "<h1>hello</h1>"})
	s := seed{gl: gl, zip: zip, childToken: "glcbt-JOBTOKEN-child-0001", childPipeID: pipelineID + 1}
	s.build = gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "build", Stage: "build", Artifact: zip})
	gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "test 1/2"})
	gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "test 2/2"})
	gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: deployToken})
	gl.AddPipeline(project, s.childPipeID, gitlabtest.ChildOf(pipelineID, "trigger docs"))
	gl.AddJob(project, s.childPipeID, gitlabtest.JobSpec{Name: "docs", Artifact: zip})
	gl.AddJob(project, s.childPipeID, gitlabtest.JobSpec{Name: "publish", Token: s.childToken})
	return s
}

// service is a running `pipeline-artifacts serve`.
type service struct {
	URL string
	cmd *exec.Cmd
	mu  sync.Mutex
	log bytes.Buffer
}

// startService runs serve against gitlabURL and waits until it listens.
func startService(t *testing.T, gitlabURL string, args ...string) *service {
	t.Helper()
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--gitlab-url", gitlabURL, "--log-format", "json"}, args...)
	s := &service{cmd: exec.Command(binary, args...)}
	s.cmd.Env = []string{} // no HOME, no TMPDIR, nothing of ours from the developer's shell
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go s.readLog(stderr, addr)
	select {
	case a := <-addr:
		s.URL = "http://" + a
		if slices.Contains(args, "--tls-cert") {
			s.URL = "https://" + a
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start; log:\n%s", s.Log())
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *service) readLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		s.mu.Lock()
		s.log.Write(append(sc.Bytes(), '\n'))
		s.mu.Unlock()
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			addr <- line.Addr
		}
	}
}

// Log is what the service logged so far.
func (s *service) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM, as an orchestrator does, and expects a clean exit.
func (s *service) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v; log:\n%s", err, s.Log())
	}
	for _, tok := range []string{adminToken, deployToken, "glcbt-JOBTOKEN"} {
		if strings.Contains(s.Log(), tok) {
			t.Errorf("the service logged a token (%s…)", tok[:8])
		}
	}
}

// get is curl -H "JOB-TOKEN: token" URL.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("JOB-TOKEN", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
