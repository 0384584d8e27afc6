package component_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/release"
)

const (
	version      = "1.2.3"
	releasePath  = "pipeline-artifacts/pipeline-artifacts"
	releaseID    = 7
	consumerID   = 42
	pipelineID   = 7001
	jobToken     = "job-token-of-deploy-9f8e7d"
	uploadToken  = "glpat-release-uploader-1a2b"
	platformFile = "pipeline-artifacts-linux-amd64"
)

// world is one fake GitLab holding the release (generic package plus the
// release's asset link) and a consumer pipeline whose deploy job runs the
// component; bin is the release binary, digest its SHA-256.
type world struct {
	gl     *gitlabtest.Server
	bin    string
	digest string
	deploy *gitlabtest.FakeJob
	down   string // a URL where nothing listens
}

func newWorld(t testing.TB) *world {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the component test runs the linux-amd64 release binary")
	}
	w := &world{gl: gitlabtest.NewTest(t)}
	w.bin = filepath.Join(t.TempDir(), platformFile)
	build := exec.Command("go", "build", "-trimpath", "-ldflags",
		"-X gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/cli.version=v"+version, "-o", w.bin, "../../../cmd/pipeline-artifacts")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(w.bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	w.digest = hex.EncodeToString(sum[:])

	// The release, published as the project's tag pipeline does: an upload
	// to the generic package registry and a release link to it.
	w.gl.AddProject(releaseID, gitlabtest.Public())
	w.gl.AddToken(uploadToken, releaseID)
	pkg := fmt.Sprintf("%s/projects/%d/packages/generic/pipeline-artifacts/%s/%s", w.gl.APIURL(), releaseID, version, platformFile)
	upload(t, pkg, data)
	w.gl.AddReleaseLink(releaseID, releasePath, version, "/"+platformFile, pkg)
	// A mirror that serves other bytes under the same name.
	upload(t, fmt.Sprintf("%s/projects/%d/packages/generic/pipeline-artifacts/tampered/%s", w.gl.APIURL(), releaseID, platformFile),
		append(append([]byte(nil), data...), "#"...))

	w.gl.AddPipeline(consumerID, pipelineID)
	w.gl.AddJob(consumerID, pipelineID, gitlabtest.JobSpec{Name: "build", Stage: "build",
		Artifact: gitlabtest.MakeZip(t, map[string]string{"public/index.html": "<h1>hello</h1>"})})
	w.deploy = w.gl.AddJob(consumerID, pipelineID, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: jobToken})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.down = "http://" + ln.Addr().String()
	ln.Close()
	return w
}

func upload(t testing.TB, url string, data []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("PRIVATE-TOKEN", uploadToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload %s: %s", url, resp.Status)
	}
}

// mirror is a binaries_url input: the package registry's directory of a
// package version.
func (w *world) mirror(pkgVersion string) string {
	return fmt.Sprintf("%s/projects/%d/packages/generic/pipeline-artifacts/%s", w.gl.APIURL(), releaseID, pkgVersion)
}

// downloads counts the requests for the binary that reached the fake.
func (w *world) downloads() int {
	return w.gl.Count(gitlabtest.RoutePackageDownload)
}

// jobEnv is what the runner gives the deploy job.
func (w *world) jobEnv(projectDir string) map[string]string {
	return map[string]string{
		"CI_SERVER_URL":  w.gl.URL,
		"CI_API_V4_URL":  w.gl.APIURL(),
		"CI_JOB_TOKEN":   jobToken,
		"CI_PROJECT_ID":  fmt.Sprint(consumerID),
		"CI_PIPELINE_ID": fmt.Sprint(pipelineID),
		"CI_JOB_ID":      fmt.Sprint(w.deploy.ID),
		"CI_JOB_NAME":    "deploy",
		"CI_PROJECT_DIR": projectDir,
	}
}

// repo writes a consumer project that includes the component locally with
// inputs (a copy of templates/ with this run's binary pinned) and returns
// its directory.
func (w *world) repo(t testing.TB, inputs map[string]any, digest string) string {
	t.Helper()
	dir := t.TempDir()
	text, err := os.ReadFile("../../../" + release.Template)
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := release.Pin(text, version, release.Sums{"linux-amd64": digest})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, filepath.FromSlash(release.Template))
	if err := os.MkdirAll(filepath.Dir(tmpl), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmpl, pinned, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	ci := "include:\n  - local: " + release.Template + "\n    inputs: " + string(in) + `
deploy:
  stage: deploy
  extends: .pipeline-artifacts
  script:
    - echo "ARTIFACT_URL_BUILD=$ARTIFACT_URL_BUILD"
    - echo "ARTIFACT_JOB_ID_BUILD=$ARTIFACT_JOB_ID_BUILD"
    - echo "MANIFEST=$PIPELINE_ARTIFACTS_MANIFEST"
`
	if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte(ci), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"remote", "add", "origin", "https://gitlab.example.com/consumer/app.git"},
		{"add", "."},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "consumer"},
	} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// expanded is the deploy job as gitlab-ci-local expands the pipeline the way
// GitLab does (include, inputs, extends), validated against GitLab's schema.
func expanded(t testing.TB, dir string) (beforeScript, script []string) {
	t.Helper()
	preview := exec.Command("gitlab-ci-local", "--preview")
	preview.Dir = dir
	out, err := preview.Output()
	if err != nil {
		t.Fatalf("gitlab-ci-local --preview: %v\n%s", err, stderrOf(err))
	}
	// The preview is YAML after a "---" line; gitlab-ci-local's own js-yaml
	// turns it into JSON.
	text := string(out)
	if i := strings.Index(text, "\n---\n"); i >= 0 {
		text = text[i+5:]
	}
	toJSON := exec.Command("node", "-e", `
const yaml = require(require('path').join(process.argv[1], 'gitlab-ci-local/node_modules/js-yaml'));
let s = ''; process.stdin.on('data', d => s += d).on('end', () => process.stdout.write(JSON.stringify(yaml.load(s))));`, npmRoot(t))
	toJSON.Stdin = strings.NewReader(text)
	js, err := toJSON.Output()
	if err != nil {
		t.Fatalf("reading the preview: %v\n%s", err, stderrOf(err))
	}
	var doc map[string]json.RawMessage
	var job struct {
		BeforeScript []string `json:"before_script"`
		Script       []string `json:"script"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc["deploy"], &job); err != nil {
		t.Fatalf("the expanded deploy job: %v\n%s", err, text)
	}
	if len(job.BeforeScript) == 0 {
		t.Fatalf("the expanded deploy job has no before_script:\n%s", text)
	}
	return job.BeforeScript, job.Script
}

func npmRoot(t testing.TB) string {
	out, err := exec.Command("npm", "root", "-g").Output()
	if err != nil {
		t.Skip("npm is not installed: ", err)
	}
	return strings.TrimSpace(string(out))
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs it): %v", tool, err)
		}
	}
}
