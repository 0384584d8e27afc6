package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sirupsen/logrus"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/serve"
)

const (
	dlProject, dlOther, dlPipeline = 42, 43, 500
	dlToken                        = "glcbt-DOWNLOAD-consumer-token"
	versionText                    = "v1.2.3\n"
)

// dlFixture is one GitLab (one profile) with a pipeline whose job "deploy"
// runs with dlToken and downloads its siblings' artifacts:
//
//	build    a zip of a large incompressible file, dist/version.txt and index.html
//	lint     no archive
//	late     running, no archive until armed (for --wait)
//	secret   an archive under artifacts:access none
//	foreign  a job with an archive in another project
type dlFixture struct {
	gl                                 *gitlabtest.Server
	profile                            gitlabtest.Profile
	archive                            []byte
	build, lint, late, secret, foreign *gitlabtest.FakeJob
	env                                []string
	armed                              atomic.Int64 // the runner-route request count after which late gets its archive
}

func newDLFixture(t *testing.T, p gitlabtest.Profile, archive []byte) *dlFixture {
	t.Helper()
	gl := gitlabtest.NewTest(t, gitlabtest.WithProfile(p))
	f := &dlFixture{gl: gl, profile: p, archive: archive}
	gl.AddProject(dlProject)
	gl.AddProject(dlOther)
	gl.AddPipeline(dlProject, dlPipeline)
	gl.AddPipeline(dlOther, dlPipeline+1)
	f.build = gl.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "build", Stage: "build", Artifact: archive})
	f.lint = gl.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "lint", Stage: "build"})
	f.late = gl.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "late", Stage: "build", Status: "running"})
	f.secret = gl.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "secret", Stage: "build", Artifact: archive, ArtifactsAccess: "none"})
	f.foreign = gl.AddJob(dlOther, dlPipeline+1, gitlabtest.JobSpec{Name: "foreign", Artifact: archive})
	me := gl.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: dlToken})
	f.armed.Store(-1)
	gl.OnRequest(gitlabtest.RouteRunnerArtifacts, func(n int) {
		if at := f.armed.Load(); at >= 0 && int64(n) > at && f.armed.CompareAndSwap(at, -1) {
			gl.SetArtifact(f.late.ID, archive)
		}
	})
	var sibs []hooks.Sibling
	for _, j := range []*gitlabtest.FakeJob{f.build, f.lint, f.late, f.secret} {
		sibs = append(sibs, hooks.Sibling{Name: j.Name, Var: hooks.VarName(j.Name), ID: j.ID, Status: "success",
			URL: gitlab.RunnerArtifactsURL(gl.APIURL(), j.ID), PublicURL: gitlab.PublicArtifactsURL(gl.APIURL(), fmt.Sprint(dlProject), j.ID)})
	}
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	if err := hooks.WriteManifest(manifest, hooks.Manifest{PipelineID: dlPipeline, ProjectID: fmt.Sprint(dlProject), JobID: me.ID, Siblings: sibs}); err != nil {
		t.Fatal(err)
	}
	f.env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "HOME=" + t.TempDir(), "CI_JOB_TOKEN=" + dlToken,
		"CI_API_V4_URL=" + gl.APIURL(), "CI_PROJECT_ID=" + fmt.Sprint(dlProject), "CI_PIPELINE_ID=" + fmt.Sprint(dlPipeline),
		hooks.ManifestVar + "=" + manifest}
	return f
}

func (f *dlFixture) runner(id int64) string { return gitlab.RunnerArtifactsURL(f.gl.APIURL(), id) }
func (f *dlFixture) public(project, id int64) string {
	return gitlab.PublicArtifactsURL(f.gl.APIURL(), fmt.Sprint(project), id)
}

// dlRun is one run of the binary in its own directory.
type dlRun struct {
	dir            string
	code           int
	stdout, stderr string
}

func (f *dlFixture) run(t *testing.T, args ...string) dlRun {
	t.Helper()
	r := dlRun{dir: t.TempDir()}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(t.Context(), binary, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = r.dir, f.env, &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		t.Fatal(err)
	}
	r.code, r.stdout, r.stderr = cmd.ProcessState.ExitCode(), out.String(), errb.String()
	if strings.Contains(r.stdout+r.stderr, dlToken) {
		t.Errorf("the job token was printed:\n%s\n%s", r.stdout, r.stderr)
	}
	return r
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

func (r dlRun) file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		t.Fatalf("%s: %v (exit %d, stderr %s)", name, err, r.code, r.stderr)
	}
	return string(b)
}

func (r dlRun) want(t *testing.T, code int, phrases ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, p := range phrases {
		if !strings.Contains(r.stdout+r.stderr, p) {
			t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", p, r.stdout, r.stderr)
		}
	}
}

// requestsSince returns the requests to route after the first n of all.
func requestsSince(gl *gitlabtest.Server, n int, route gitlabtest.Route) []gitlabtest.Request {
	var out []gitlabtest.Request
	for _, r := range gl.Requests()[n:] {
		if r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

// rangedBytes adds up the bytes the Range headers asked for; a request
// without one counts as the whole archive.
func rangedBytes(t *testing.T, reqs []gitlabtest.Request, size int) int {
	t.Helper()
	sum := 0
	for _, r := range reqs {
		var from, to int
		h := r.Header.Get("Range")
		switch {
		case h == "":
			sum += size
		case strings.HasPrefix(h, "bytes=-"):
			fmt.Sscanf(h, "bytes=-%d", &to)
			sum += min(to, size)
		default:
			if n, _ := fmt.Sscanf(h, "bytes=%d-%d", &from, &to); n == 2 {
				sum += to - from + 1
			} else {
				sum += size - from
			}
		}
	}
	return sum
}

// TestDownloadWithTheJobTokenOnEveryTier runs every form of download and
// list with only the job token against every GitLab the fake plays: CE,
// EE Free and EE Premium, each at 17.9, 18.0, 18.9 and 19.2.
func TestDownloadWithTheJobTokenOnEveryTier(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 768<<10)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	archive := gitlabtest.MakeZip(t, map[string]string{"dist/big.bin": string(big), "dist/version.txt": versionText, "index.html": "<h1>hi</h1>"})
	for _, p := range gitlabtest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			f := newDLFixture(t, p, archive)
			for _, tc := range downloadCases() {
				t.Run(tc.name, func(t *testing.T) { tc.check(t, f) })
			}
		})
	}
}

type downloadCase struct {
	name  string
	check func(t *testing.T, f *dlFixture)
}

func downloadCases() []downloadCase {
	return []downloadCase{
		{"by name it extracts into --dest", func(t *testing.T, f *dlFixture) {
			r := f.run(t, "download", "build", "--dest", "public")
			r.want(t, 0, fmt.Sprintf(`job "build" (%d)`, f.build.ID))
			if got := r.file(t, "public/dist/version.txt"); got != versionText {
				t.Errorf("version.txt = %q", got)
			}
		}},
		{"--dest that does not exist yet is created", func(t *testing.T, f *dlFixture) {
			r := f.run(t, "download", "build", "--dest", "a/b/c")
			r.want(t, 0)
			r.file(t, "a/b/c/index.html")
		}},
		{"--job-id uses the runner route", func(t *testing.T, f *dlFixture) {
			n := len(f.gl.Requests())
			r := f.run(t, "download", "--job-id", fmt.Sprint(f.build.ID), "-o", "a.zip")
			r.want(t, 0)
			if r.file(t, "a.zip") != string(f.archive) {
				t.Error("a.zip is not the archive")
			}
			if pub := requestsSince(f.gl, n, gitlabtest.RouteArtifacts); len(pub) != 0 {
				t.Errorf("the job token went to the project's API %d times", len(pub))
			}
		}},
		{"--url in the runner shape", func(t *testing.T, f *dlFixture) {
			r := f.run(t, "download", "--url", f.runner(f.build.ID), "-o", "a.zip")
			r.want(t, 0)
			if r.file(t, "a.zip") != string(f.archive) {
				t.Error("a.zip is not the archive")
			}
		}},
		{"--url in the public shape, through the runner route where the tier refuses the job token", func(t *testing.T, f *dlFixture) {
			n := len(f.gl.Requests())
			r := f.run(t, "download", "--url", f.public(dlProject, f.build.ID), "--dest", ".")
			r.want(t, 0)
			if got := r.file(t, "dist/version.txt"); got != versionText {
				t.Errorf("version.txt = %q", got)
			}
			runner := len(requestsSince(f.gl, n, gitlabtest.RouteRunnerArtifacts))
			if want := !f.profile.PublicArtifactsTakeJobToken(); (runner > 0) != want {
				t.Errorf("%d requests on the runner route; the fall-back is for EE Free only", runner)
			}
		}},
		{"-o - writes the archive to stdout", func(t *testing.T, f *dlFixture) {
			r := f.run(t, "download", "build", "-o", "-", "-q")
			r.want(t, 0)
			if r.stdout != string(f.archive) {
				t.Errorf("stdout has %d bytes, want the %d-byte archive", len(r.stdout), len(f.archive))
			}
		}},
		{"--wait gets an archive that appears", func(t *testing.T, f *dlFixture) {
			f.armed.Store(int64(f.gl.Count(gitlabtest.RouteRunnerArtifacts)) + 1)
			r := f.run(t, "download", "late", "--wait=1m", "-o", "late.zip")
			r.want(t, 0)
			if r.file(t, "late.zip") != string(f.archive) {
				t.Error("late.zip is not the archive")
			}
		}},
		{"a missing archive is exit 3, and 0 with --optional", func(t *testing.T, f *dlFixture) {
			f.run(t, "download", "lint", "-o", "x.zip").want(t, 3, fmt.Sprintf(`job "lint" (%d) has no artifacts`, f.lint.ID))
			r := f.run(t, "download", "lint", "--optional", "--json", "--dest", "out")
			r.want(t, 0, "continuing without them (--optional)", `"found":false`)
			if _, err := os.Stat(filepath.Join(r.dir, "out")); err == nil {
				t.Error("--dest was created for artifacts that do not exist")
			}
		}},
		{"--path reads one file by ranges, never the whole archive", func(t *testing.T, f *dlFixture) {
			n := len(f.gl.Requests())
			r := f.run(t, "download", "build", "--path", "dist/version.txt", "--dest", "bin")
			r.want(t, 0)
			if got := r.file(t, "bin/version.txt"); got != versionText {
				t.Errorf("version.txt = %q", got)
			}
			reqs := requestsSince(f.gl, n, gitlabtest.RouteRunnerArtifacts)
			if sent := rangedBytes(t, reqs, len(f.archive)); len(reqs) == 0 || sent > len(f.archive)/2 {
				t.Errorf("GitLab sent %d bytes in %d requests for one file of a %d-byte archive", sent, len(reqs), len(f.archive))
			}
			for _, q := range reqs {
				if q.Query.Get("direct_download") != "true" {
					t.Errorf("a ranged read without direct_download=true: %s?%s", q.Path, q.Query.Encode())
				}
			}
		}},
		{"--path of a file the archive lacks is exit 3 and creates nothing", func(t *testing.T, f *dlFixture) {
			r := f.run(t, "download", "build", "--path", "dist/nope.txt", "--dest", "bin")
			r.want(t, 3, `no entry "dist/nope.txt"`)
			if _, err := os.Stat(filepath.Join(r.dir, "bin")); err == nil {
				t.Error("--dest was created before anything was downloaded")
			}
		}},
		{"--url with a query and --path gets the file, not the archive", func(t *testing.T, f *dlFixture) {
			r := f.run(t, "download", "--url", f.public(dlProject, f.build.ID)+"?x=y", "--path", "dist/version.txt", "-o", "v.txt")
			r.want(t, 0)
			if got := r.file(t, "v.txt"); got != versionText {
				t.Errorf("v.txt = %q, want the file's content", got)
			}
		}},
		{"list prints the archive's entries from its central directory", func(t *testing.T, f *dlFixture) {
			n := len(f.gl.Requests())
			r := f.run(t, "list", "build")
			r.want(t, 0, "dist/version.txt", "index.html", fmt.Sprint(len(versionText)))
			if sent := rangedBytes(t, requestsSince(f.gl, n, gitlabtest.RouteRunnerArtifacts), len(f.archive)); sent > len(f.archive)/2 {
				t.Errorf("listing took %d bytes of a %d-byte archive", sent, len(f.archive))
			}
			r = f.run(t, "list", "--job-id", fmt.Sprint(f.build.ID), "--json")
			r.want(t, 0)
			var l struct {
				Entries []struct {
					Name string
					Size int64
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || len(l.Entries) != 3 {
				t.Errorf("--json: %v, %+v", err, l)
			}
		}},
		{"a refusal is never reported as missing artifacts", func(t *testing.T, f *dlFixture) {
			// Another project's job: the project's API refuses (EE Free for
			// its tier, the others because the token's project may not
			// see it), and so does the runner route (another project).
			r := f.run(t, "download", "--url", f.public(dlOther, f.foreign.ID), "-o", "x.zip")
			r.want(t, 1, "403")
			for _, wrong := range []string{"has no artifacts", "do not exist"} {
				if strings.Contains(r.stderr, wrong) {
					t.Errorf("a refusal reads as %q: %s", wrong, r.stderr)
				}
			}
		}},
		{"artifacts:access is not bypassed through the runner route", func(t *testing.T, f *dlFixture) {
			n := len(f.gl.Requests())
			r := f.run(t, "download", "--url", f.public(dlProject, f.secret.ID), "-o", "x.zip")
			runner := len(requestsSince(f.gl, n, gitlabtest.RouteRunnerArtifacts))
			if !f.profile.PublicArtifactsTakeJobToken() {
				// EE Free never lets the job token reach artifacts:access:
				// its tier refusal sends us to the runner route, which
				// GitLab serves without applying artifacts:access
				// (lib/api/ci/helpers/runner.rb), as ARTIFACT_URL_* does.
				r.want(t, 0)
				return
			}
			r.want(t, 1, "403 Forbidden", "artifacts:access")
			if runner != 0 {
				t.Errorf("after artifacts:access refused, the runner route was asked %d times", runner)
			}
		}},
	}
}

// TestDownloadWithAPrivateTokenUsesTheProjectAPI: the runner route takes
// only job tokens, so an access token goes to the project's API — by name
// through the manifest's public_url, and a runner-shape --url only with a
// project to put it in.
func TestDownloadWithAPrivateTokenUsesTheProjectAPI(t *testing.T) {
	t.Parallel()
	const private = "glpat-DOWNLOAD-private-token"
	archive := gitlabtest.MakeZip(t, map[string]string{"dist/version.txt": versionText, "index.html": "<h1>hi</h1>"})
	for _, p := range []gitlabtest.Profile{
		{Edition: gitlabtest.CE, Version: gitlabtest.Version18_9},
		{Edition: gitlabtest.EEFree, Version: gitlabtest.Version17_9},
		{Edition: gitlabtest.EEPremium, Version: gitlabtest.Version18_0},
	} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			f := newDLFixture(t, p, archive)
			f.gl.AddToken(private, dlProject)
			f.env = append(f.env, "PIPELINE_ARTIFACTS_PRIVATE_TOKEN="+private)
			count := func(n int) (public, file, runner int) {
				return len(requestsSince(f.gl, n, gitlabtest.RouteArtifacts)), len(requestsSince(f.gl, n, gitlabtest.RouteArtifactFile)),
					len(requestsSince(f.gl, n, gitlabtest.RouteRunnerArtifacts))
			}
			n := len(f.gl.Requests())
			f.run(t, "download", "build", "--dest", "public").want(t, 0)
			if public, _, runner := count(n); public == 0 || runner != 0 {
				t.Errorf("by name: %d requests on the project's API, %d on the runner route", public, runner)
			}
			n = len(f.gl.Requests())
			r := f.run(t, "download", "--url", f.runner(f.build.ID), "--path", "dist/version.txt", "--dest", "new/dir")
			r.want(t, 0)
			if got := r.file(t, "new/dir/version.txt"); got != versionText {
				t.Errorf("version.txt = %q", got)
			}
			if _, file, runner := count(n); file != 1 || runner != 0 {
				t.Errorf("--path: %d requests on the single-file route, %d on the runner route", file, runner)
			}
			env := f.env
			f.env = append(slicesWithout(env, "CI_PROJECT_ID="), "CI_PROJECT_ID=")
			f.run(t, "download", "--url", f.runner(f.build.ID), "-o", "a.zip").want(t, 2, "--project")
			f.env = env
		})
	}
}

func slicesWithout(env []string, prefix string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

// TestDownloadResolvesThroughTheServer: the curl hook writes no manifest,
// so a name is resolved through --server; a server that does not answer
// leaves the job to list GitLab itself.
func TestDownloadResolvesThroughTheServer(t *testing.T) {
	t.Parallel()
	archive := gitlabtest.MakeZip(t, map[string]string{"dist/version.txt": versionText})
	f := newDLFixture(t, gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version19_2}, archive)
	f.env = slicesWithout(f.env, hooks.ManifestVar+"=")
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	svc, err := serve.New(serve.Config{GitLabURL: f.gl.URL, Log: logrus.NewEntry(quiet)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(svc.Handler())
	t.Cleanup(ts.Close)

	f.run(t, "download", "build", "-o", "a.zip").want(t, 2, "--server")
	env := f.env
	f.env = append(env, "PIPELINE_ARTIFACTS_SERVER="+ts.URL)
	r := f.run(t, "download", "build", "-o", "a.zip")
	r.want(t, 0)
	if r.file(t, "a.zip") != string(archive) || strings.Contains(r.stderr, "looking the job up in GitLab") {
		t.Errorf("not through the server: %s", r.stderr)
	}
	f.env = append(env, "PIPELINE_ARTIFACTS_SERVER="+closedServerURL(t))
	r = f.run(t, "download", "build", "-o", "b.zip")
	r.want(t, 0, "looking the job up in GitLab")
	if r.file(t, "b.zip") != string(archive) {
		t.Error("b.zip is not the archive")
	}
}

// closedServerURL is an http URL nothing listens on.
func closedServerURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}
