package artifacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// Fixture ids and tokens. Tokens are long and distinctive so that the object
// store's leak search and the "never in a message" checks can find them.
const (
	projectID   = 7
	pipelineID  = 100
	consumerTok = "glcbt-consumer-job-token-7"
	finishedTok = "glcbt-finished-job-token-7"
	otherTok    = "glcbt-other-project-token-8"
)

// fixture is a fake GitLab with a producer job whose archive is data, and a
// running consumer job whose token the client sends.
type fixture struct {
	srv    *gitlabtest.Server
	store  *gitlabtest.ObjectStore // nil unless redirecting
	client *gitlab.Client
	job    *gitlabtest.FakeJob
	data   []byte
	dir    string
}

type fixtureOption func(*fixtureConfig)

type fixtureConfig struct {
	redirect   bool
	noArtifact bool
	status     string
	token      string
	cred       gitlab.AuthKind
}

func redirected() fixtureOption { return func(c *fixtureConfig) { c.redirect = true } }
func withoutArtifact() fixtureOption {
	return func(c *fixtureConfig) { c.noArtifact = true; c.status = "running" }
}
func sending(kind gitlab.AuthKind, token string) fixtureOption {
	return func(c *fixtureConfig) { c.cred, c.token = kind, token }
}

func newFixture(t *testing.T, data []byte, opts ...fixtureOption) *fixture {
	t.Helper()
	cfg := fixtureConfig{token: consumerTok, cred: gitlab.JobToken, status: "success"}
	for _, o := range opts {
		o(&cfg)
	}
	f := &fixture{srv: gitlabtest.NewTest(t), data: data, dir: t.TempDir()}
	f.srv.AddPipeline(projectID, pipelineID)
	f.srv.AddPipeline(8, 800)
	f.srv.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "consumer", Token: consumerTok})
	f.srv.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "done", Token: finishedTok, Status: "success"})
	f.srv.AddJob(8, 800, gitlabtest.JobSpec{Name: "elsewhere", Token: otherTok})
	spec := gitlabtest.JobSpec{Name: "build", Status: cfg.status, Artifact: data}
	if cfg.noArtifact {
		spec.Artifact = nil
	}
	f.job = f.srv.AddJob(projectID, pipelineID, spec)
	if cfg.redirect {
		f.store = gitlabtest.NewObjectStore(t)
		f.srv.RedirectTo(f.store)
	}
	f.client = newTestClient(t, f.srv.APIURL(), gitlab.Credential{Kind: cfg.cred, Token: cfg.token})
	return f
}

// newTestClient retries within milliseconds: tests never wait for backoff.
func newTestClient(t *testing.T, base string, cred gitlab.Credential) *gitlab.Client {
	t.Helper()
	c, err := gitlab.New(gitlab.Options{BaseURL: base, Credential: cred, RetryMax: 4,
		MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.HTTPClient().CloseIdleConnections)
	return c
}

func (f *fixture) url() string {
	return fmt.Sprintf("%s/projects/%d/jobs/%d/artifacts", f.srv.APIURL(), projectID, f.job.ID)
}

// options saves to a file in the fixture's directory, with fast clocks.
func (f *fixture) options() Options {
	return Options{URL: f.url(), Job: fmt.Sprintf("job %d", f.job.ID), Output: filepath.Join(f.dir, "out.zip"),
		StallTimeout: time.Minute, PollMin: time.Millisecond, PollMax: time.Millisecond}
}

func (f *fixture) download(t *testing.T, o Options) (*Result, error) {
	t.Helper()
	return Download(t.Context(), f.client, o)
}

// mustMatch checks that path holds exactly f.data and that the result says so.
func (f *fixture) mustMatch(t *testing.T, res *Result, path string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(f.data) {
		t.Fatalf("downloaded %d bytes that differ from the %d-byte archive", len(got), len(f.data))
	}
	// A digest is reported only when one was verified.
	want := sha256Hex(f.data)
	if res.VerifiedBy == "" {
		want = ""
	}
	if res.Bytes != int64(len(f.data)) || res.SHA256 != want {
		t.Errorf("result says %d bytes, sha256 %q (verified by %q); want %d, %q", res.Bytes, res.SHA256, res.VerifiedBy, len(f.data), want)
	}
}

// mustBeEmpty checks that dir holds nothing: no output, no temporary file.
func mustBeEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

// mustHoldOnly checks that dir holds exactly the named entries.
func mustHoldOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("left behind: %s", e.Name())
		}
		delete(want, e.Name())
	}
	for n := range want {
		t.Errorf("missing: %s", n)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// randomBytes is n bytes of a fixed pseudo-random sequence: incompressible,
// so no layer can shortcut it, and the same in every run.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{7}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// rangeHeaders lists the Range header of each request on route.
func rangeHeaders(in interface{ Requests() []gitlabtest.Request }, route gitlabtest.Route) []string {
	var out []string
	for _, r := range in.Requests() {
		if r.Route == route {
			out = append(out, r.Header.Get("Range"))
		}
	}
	return out
}

// fakeClock is a clock whose sleeps return at once and move time forward.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) clock() clock {
	return clock{now: c.now, sleep: c.sleep}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}
