package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/download"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const (
	dlProject  = 7
	dlPipeline = 100
	dlToken    = "glcbt-download-consumer-7"
)

// dlFixture is a fake GitLab with a job "build" that has a zip archive, a
// job "lint" without one, and the environment of a running consumer job.
type dlFixture struct {
	srv   *gitlabtest.Server
	build *gitlabtest.FakeJob
	lint  *gitlabtest.FakeJob
	zip   []byte
	dir   string
}

func newDLFixture(t *testing.T) *dlFixture {
	t.Helper()
	f := &dlFixture{srv: gitlabtest.NewTest(t), dir: t.TempDir()}
	f.zip = gitlabtest.MakeZip(t, map[string]string{"dist/app.txt": "hello", "index.html": "<h1>hi</h1>"})
	f.srv.AddPipeline(dlProject, dlPipeline)
	me := f.srv.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "deploy", Token: dlToken})
	f.build = f.srv.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "build", Artifact: f.zip})
	f.lint = f.srv.AddJob(dlProject, dlPipeline, gitlabtest.JobSpec{Name: "lint"})
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	m := hooks.Manifest{PipelineID: dlPipeline, ProjectID: "7", JobID: me.ID, Siblings: []hooks.Sibling{
		{Name: "build", Var: "BUILD", ID: f.build.ID, Status: "success", ArtifactSize: int64(len(f.zip)), URL: f.runnerURL(f.build.ID), PublicURL: f.archiveURL(f.build.ID)},
		{Name: "lint", Var: "LINT", ID: f.lint.ID, Status: "success", URL: f.runnerURL(f.lint.ID), PublicURL: f.archiveURL(f.lint.ID)},
	}}
	if err := hooks.WriteManifest(manifest, m); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"CI_API_V4_URL": f.srv.APIURL(), "CI_PROJECT_ID": "7", "CI_PIPELINE_ID": fmt.Sprint(dlPipeline),
		"CI_JOB_TOKEN": dlToken, hooks.ManifestVar: manifest, envPrivateToken: "", "CI_SERVER_TLS_CA_FILE": "",
	} {
		t.Setenv(k, v)
	}
	t.Chdir(f.dir) // a default --dest of "." must never land in the source tree
	return f
}

func (f *dlFixture) runnerURL(id int64) string {
	return fmt.Sprintf("%s/jobs/%d/artifacts", f.srv.APIURL(), id)
}

func (f *dlFixture) archiveURL(id int64) string {
	return fmt.Sprintf("%s/projects/%d/jobs/%d/artifacts", f.srv.APIURL(), dlProject, id)
}

// run drives the command line like the binary does and checks that the
// token never reaches the output.
func (f *dlFixture) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(t.Context(), append([]string{"pipeline-artifacts", "download"}, args...), &out, &errb)
	if strings.Contains(out.String()+errb.String(), dlToken) {
		t.Errorf("the token was printed:\n%s\n%s", out.String(), errb.String())
	}
	return code, out.String(), errb.String()
}

func TestDownloadCommandExtractsASiblingByName(t *testing.T) {
	f := newDLFixture(t)
	public := filepath.Join(f.dir, "public")
	code, stdout, stderr := f.run(t, "build", "--dest", public, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(public, "dist", "app.txt")); err != nil || string(b) != "hello" {
		t.Errorf("dist/app.txt = %q, %v", b, err)
	}
	var res download.JSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %q", stdout)
	}
	sum := sha256.Sum256(f.zip)
	want := download.JSON{Found: true, Job: "build", JobID: f.build.ID, URL: f.runnerURL(f.build.ID), Bytes: int64(len(f.zip)),
		SHA256: hex.EncodeToString(sum[:]), VerifiedBy: "sha256 (GitLab ETag)", Files: 2, Seconds: res.Seconds, Attempts: 1, Dest: public}
	if res != want {
		t.Errorf("JSON = %+v\nwant   %+v", res, want)
	}
	if !strings.Contains(stderr, hex.EncodeToString(sum[:])) || !strings.Contains(stderr, `job "build"`) {
		t.Errorf("stderr lacks the summary: %q", stderr)
	}
}

func TestDownloadCommandExitCodes(t *testing.T) {
	cases := []struct {
		name     string
		args     func(f *dlFixture) []string
		code     int
		stderr   string
		stdout   string
		noOutput bool // nothing may exist at <dir>/out
	}{
		{"artifacts that do not exist are exit 3", func(f *dlFixture) []string { return []string{"lint", "-o", f.out()} },
			3, `job "lint" (%d) has no artifacts (yet)`, "", true},
		{"--optional turns a missing archive into a warning", func(f *dlFixture) []string { return []string{"lint", "--optional", "--json", "-o", f.out()} },
			0, "WARNING: job \"lint\" (%d) has no artifacts (yet); continuing without them (--optional)", `"found":false`, true},
		{"an unknown job name is not found", func(f *dlFixture) []string { return []string{"docs", "-o", f.out()} },
			3, `job "docs" is not a job of this pipeline (its jobs: "build", "lint")`, "", true},
		{"a digest mismatch fails and leaves nothing", func(f *dlFixture) []string {
			return []string{"build", "-o", f.out(), "--sha256", strings.Repeat("0", 64)}
		}, 1, "sha256 mismatch", "", true},
		{"a second destination is a usage error", func(f *dlFixture) []string { return []string{"build", "-o", f.out(), "--dest", f.dir} },
			2, "--dest and -o exclude each other", "", true},
		{"no selection is a usage error", func(f *dlFixture) []string { return []string{"-o", f.out()} },
			2, "exactly one of JOB_NAME, --job-id and --url", "", true},
		{"--wait with a separate duration gets a hint", func(f *dlFixture) []string { return []string{"build", "--wait", "5m"} },
			2, `give --wait its duration with "=", as in --wait=5m`, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newDLFixture(t)
			code, stdout, stderr := f.run(t, tc.args(f)...)
			want := tc.stderr
			if strings.Contains(want, "%d") {
				want = fmt.Sprintf(want, f.lint.ID)
			}
			if code != tc.code || !strings.Contains(stderr, want) || !strings.Contains(stdout, tc.stdout) {
				t.Errorf("exit %d, stderr %q, stdout %q\nwant exit %d with %q", code, stderr, stdout, tc.code, want)
			}
			if _, err := os.Stat(f.out()); tc.noOutput && err == nil {
				t.Error("a file was left at the output")
			}
		})
	}
}

func (f *dlFixture) out() string { return filepath.Join(f.dir, "out") }

func TestDownloadCommandStopsWaitingForAJobThatFailed(t *testing.T) {
	f := newDLFixture(t)
	f.srv.SetStatus(f.lint.ID, "failed")
	code, _, stderr := f.run(t, "lint", "--wait", "-o", f.out())
	if want := fmt.Sprintf(`job "lint" (%d) ended with status "failed" and has no artifacts`, f.lint.ID); code != 3 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 3 and %q", code, stderr, want)
	}
	if n := f.srv.Count(gitlabtest.RouteJobs); n != 1 {
		t.Errorf("the pipeline's jobs were listed %d times, want 1", n)
	}
}

func TestDownloadCommandNamesTheRefusedTokenKind(t *testing.T) {
	f := newDLFixture(t)
	t.Setenv("CI_JOB_TOKEN", "glcbt-some-other-token-xyz")
	code, _, stderr := f.run(t, "build", "-o", f.out())
	if code != 1 || !strings.Contains(stderr, "GitLab refused the job token (CI_JOB_TOKEN) for "+f.runnerURL(f.build.ID)+": 401 Unauthorized") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "glcbt-some-other-token-xyz") {
		t.Errorf("stderr shows the token: %q", stderr)
	}
}

func TestDownloadCommandSelections(t *testing.T) {
	cases := []struct {
		name string
		args func(f *dlFixture) []string
		file string // relative to f.dir
		want string
	}{
		{"--job-id builds the URL from CI_API_V4_URL", func(f *dlFixture) []string {
			return []string{"--job-id", fmt.Sprint(f.build.ID), "--dest", f.dir}
		}, "index.html", "<h1>hi</h1>"},
		{"--url takes the URL as is", func(f *dlFixture) []string {
			return []string{"--url", f.archiveURL(f.build.ID), "--dest", f.dir}
		}, "dist/app.txt", "hello"},
		{"--path saves one file under its base name", func(f *dlFixture) []string {
			return []string{"build", "--path", "dist/app.txt", "--dest", filepath.Join(f.dir, "bin")}
		}, "bin/app.txt", "hello"},
		{"flags may come before the job name", func(f *dlFixture) []string {
			return []string{"-q", "--path", "dist/app.txt", "-o", filepath.Join(f.dir, "v.txt"), "build"}
		}, "v.txt", "hello"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newDLFixture(t)
			if code, _, stderr := f.run(t, tc.args(f)...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if b, err := os.ReadFile(filepath.Join(f.dir, tc.file)); err != nil || string(b) != tc.want {
				t.Errorf("%s = %q, %v", tc.file, b, err)
			}
		})
	}
}

func TestDownloadCommandWritesStdout(t *testing.T) {
	f := newDLFixture(t)
	code, stdout, stderr := f.run(t, "build", "-o", "-", "--quiet")
	if code != 0 || stdout != string(f.zip) || stderr != "" {
		t.Errorf("exit %d, %d bytes on stdout, stderr %q", code, len(stdout), stderr)
	}
}

func TestDownloadCommandSendsNoTokenToAnotherHost(t *testing.T) {
	f := newDLFixture(t)
	store := gitlabtest.NewObjectStore(t) // fails the test on any credential
	u := store.Put("elsewhere/artifacts.zip", f.zip)
	code, _, stderr := f.run(t, "--url", u, "-o", f.out())
	if code != 0 || !strings.Contains(stderr, "not sending the job token (CI_JOB_TOKEN) to "+store.URL) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "X-Amz-Signature") {
		t.Errorf("stderr shows the presigned query: %q", stderr)
	}
}

func TestWaitFlagTakesAnOptionalDuration(t *testing.T) {
	cases := []struct {
		args []string
		want time.Duration
	}{
		{[]string{"--wait", "build"}, defaultWait},
		{[]string{"--wait=90s", "build"}, 90 * time.Second},
		{[]string{"build", "--wait"}, defaultWait},
		{[]string{"build", "--wait=1h"}, time.Hour},
		{[]string{"build"}, 0},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var got time.Duration
			cmd := downloadCommand(streams{environ: os.Environ})
			cmd.Action = func(c *ucli.Context) error {
				args, err := lateFlags(c, cmd.Flags, c.Args().Slice())
				if err == nil {
					var o download.Options
					o, _, err = downloadOptions(c, streams{environ: os.Environ}, args)
					got = o.Wait
				}
				return err
			}
			app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
			app.Commands = []*ucli.Command{cmd}
			if err := app.RunContext(t.Context(), append([]string{"pa", "download"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("wait = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{"1048576": 1 << 20, "16MiB": 16 << 20, "16M": 16 << 20, "1.5GiB": 3 << 29, "512 KiB": 512 << 10}
	for in, want := range good {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "0", "12 parsecs"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestInertJSONEscapesWhatATerminalActsOnAndMeansTheSame(t *testing.T) {
	in := map[string]string{"name": "é ok \u009b31m \u202e \U000e0001 \u2028 \x1b \ufffd"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got := inertJSON(b)
	for _, r := range string(got) {
		if !strconv.IsPrint(r) {
			t.Errorf("%s holds %U raw", got, r)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil || back["name"] != in["name"] {
		t.Errorf("%s decodes to %q (%v), want %q", got, back["name"], err, in["name"])
	}
	if plain := []byte(`{"a":"é"}`); &inertJSON(plain)[0] != &plain[0] {
		t.Error("JSON with nothing to escape was copied")
	}
}
