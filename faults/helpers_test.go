package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

const (
	projectID  = runnersim.SeedProject
	pipelineID = runnersim.SeedPipeline
	jobToken   = "glcbt-FAULTS-JOBTOKEN-deploy"
	adminToken = "glpat-FAULTS-ADMIN-never-in-a-job"

	// deadline bounds every wait on a condition; nothing should come near it.
	deadline = 60 * time.Second
)

// secrets are the values no output of ours may ever contain.
var secrets = []string{jobToken, adminToken}

// baseEnv is every child's environment: the race runtime must not sleep a
// second at exit, and the host cache is off unless a scenario turns it on.
func baseEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"GORACE=atexit_sleep_ms=0", "PIPELINE_ARTIFACTS_CACHE_TTL=0",
	}
}

// proc is one run of the binary in a process group of its own, so that a
// signal reaches it (and anything it started) as the runner would send it.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the binary with args in dir; env is added to baseEnv (later
// entries win). The process group is killed when the test ends.
func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	p := &proc{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
	})
	return p
}

// run starts the binary and waits for it.
func run(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := start(t, dir, env, args...)
	p.wait(t)
	return p
}

// signal sends sig to the process group; a group already gone is fine.
func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// wait waits for the process to end, at most deadline, and checks what
// every run must hold: no data race, no secret in its output.
func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(deadline):
		p.signal(syscall.SIGKILL)
		<-p.done
		t.Fatalf("%s did not end within %v\nstderr:\n%s", p.argv(), deadline, p.stderr.String())
	}
	checkOutput(t, p.argv(), p.stdout.String()+p.stderr.String())
}

// code is the exit status, -1 when a signal ended the process.
func (p *proc) code() int { return p.cmd.ProcessState.ExitCode() }

// signaled reports the signal that ended the process, if one did.
func (p *proc) signaled() (syscall.Signal, bool) {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

func (p *proc) argv() string { return strings.Join(p.cmd.Args[1:], " ") }

func (p *proc) String() string {
	return fmt.Sprintf("`%s`: exit %d\nstdout:\n%s\nstderr:\n%s", p.argv(), p.code(), p.stdout.String(), p.stderr.String())
}

// checkOutput fails the test when output shows a data race or a secret.
func checkOutput(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, "WARNING: DATA RACE") {
		t.Errorf("%s: the race detector reported a data race:\n%s", what, out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s printed a token (%.10s…)", what, s)
		}
	}
}

// waitFor polls cond until it holds, at most deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waited %v for %s", deadline, what)
		case <-tick.C:
		}
	}
}

// waitChan waits until ch is closed, at most deadline.
func waitChan(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(deadline):
		t.Fatalf("waited %v for %s", deadline, what)
	}
}

// seen returns a channel closed at the route's first request.
func seen(in interface {
	OnRequest(gitlabtest.Route, func(int))
}, route gitlabtest.Route) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	in.OnRequest(route, func(int) { once.Do(func() { close(ch) }) })
	return ch
}

// randomBytes returns n deterministic, incompressible bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// artifactsFixture is a pipeline whose build job has archive (none when
// nil) and whose deploy job is running with jobToken.
type artifactsFixture struct {
	gl      *gitlabtest.Server
	url     string // build's ARTIFACT_URL_BUILD
	archive []byte
}

func newArtifacts(t *testing.T, archive []byte, opts ...gitlabtest.Option) artifactsFixture {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	gl.AddProject(projectID)
	gl.AddPipeline(projectID, pipelineID)
	build := gl.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "build", Stage: "build", Artifact: archive})
	gl.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: jobToken})
	return artifactsFixture{gl: gl, archive: archive,
		url: fmt.Sprintf("%s/projects/%d/jobs/%d/artifacts", gl.APIURL(), projectID, build.ID)}
}

// download runs `pipeline-artifacts download --url URL args...` as a job
// would, with the deploy job's token.
func (f artifactsFixture) download(t *testing.T, args ...string) *proc {
	t.Helper()
	return run(t, t.TempDir(), f.env(), append([]string{"download", "--url", f.url}, args...)...)
}

func (f artifactsFixture) env() []string {
	return []string{"CI_JOB_TOKEN=" + jobToken, "CI_API_V4_URL=" + f.gl.APIURL()}
}

// rangeRequests returns the Range headers the route received, in order.
func rangeRequests(in interface{ Requests() []gitlabtest.Request }, route gitlabtest.Route) []string {
	var out []string
	for _, r := range in.Requests() {
		if r.Route == route && r.Method == "GET" {
			out = append(out, r.Header.Get("Range"))
		}
	}
	return out
}

// tree returns every file under dir (relative slash path → content); a
// directory that holds nothing shows as "dir/".
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			files[rel] = string(b)
			return err
		case d.IsDir():
			if ents, err := os.ReadDir(p); err == nil && len(ents) == 0 {
				files[rel+"/"] = ""
			}
		default:
			files[rel] = "(" + d.Type().String() + ")"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// nothingLost asserts that dir holds exactly want: the complete, correct
// files, or nothing at all — no temporary, partial or staging file.
func nothingLost(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := tree(t, dir)
	for name, body := range got {
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("%s holds %s (%d bytes), which nothing should have left", dir, name, len(body))
		case w != body:
			t.Errorf("%s/%s holds %d bytes (sha256 %.12s), want %d bytes (sha256 %.12s)", dir, name,
				len(body), sha256Hex([]byte(body)), len(w), sha256Hex([]byte(w)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[name]; !ok {
			t.Errorf("%s lacks %s", dir, name)
		}
	}
}

// closedURL returns an http URL on a loopback port that refuses
// connections: a socket is bound to it but never listens, so no other test
// can be handed the port while this one runs.
func closedURL(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

// mountTmpfs mounts a tmpfs of size bytes and returns its root, or skips
// the scenario when this host cannot (not root, no mount privilege).
func mountTmpfs(t *testing.T, sc *scenario, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		sc.skip("a full disk needs a tmpfs mount, which needs root")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		sc.skip("cannot mount a tmpfs to fill: %v: %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// newPipeline is the seed story's pipeline for the stage scenarios.
func newPipeline(t *testing.T, opts ...gitlabtest.Option) runnersim.Seed {
	t.Helper()
	return runnersim.NewSeed(t, jobToken, opts...)
}

// deployJob is the deploy job as GitLab hands it to the runner; extra is
// added to the runner's own environment.
func deployJob(p runnersim.Seed, script string, extra ...string) runnersim.Job {
	j := p.DeployJob(script)
	j.Environ = append(j.Environ, extra...)
	return j
}

// stageEnv is the environment the runner gives a stage executable of job,
// with its own TMPDIR (returned) holding the job payload.
func stageEnv(t *testing.T, job runnersim.Job) ([]string, string) {
	t.Helper()
	tmp := t.TempDir()
	env, err := runnersim.StageEnv(tmp, job)
	if err != nil {
		t.Fatal(err)
	}
	return env, tmp
}

func custom(t *testing.T) runnersim.Custom {
	t.Helper()
	c, err := runnersim.LoadDriver("../examples/config.toml", binary, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runJob(t *testing.T, job runnersim.Job) *runnersim.Result {
	t.Helper()
	res, err := custom(t).RunJob(t.Context(), job)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Stages {
		checkOutput(t, "stage "+s.Name, s.Stdout+s.Stderr)
	}
	return res
}

// warnings returns the WARNING lines of a log.
func warnings(log string) []string {
	var out []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, "WARNING: ") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// writeTokenFile writes the admin token where the runner host keeps it.
func writeTokenFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "read_api.token")
	if err := os.WriteFile(path, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// gone reports whether pid no longer runs.
func gone(pid int) bool { return runnersim.Gone(pid) }
