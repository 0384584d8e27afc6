package cli

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// Doctor fixtures: project 7, pipeline 4711 with a finished build job (its
// token docFinished no longer valid) and a running test job (docJob);
// docAdmin reads project 7 only, docOther project 8 only.
const (
	docProject  = 7
	docPipeline = 4711
	docAdmin    = "glpat-doctor-admin-secret"
	docOther    = "glpat-doctor-other-project"
	docWrong    = "glpat-doctor-unknown-token"
	docJob      = "glcbt-doctor-running-job"
	docFinished = "glcbt-doctor-finished-job"
)

var docSecrets = []string{docAdmin, docOther, docWrong, docJob, docFinished}

func doctorGitLab(t *testing.T, opts ...gitlabtest.Option) *gitlabtest.Server {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	gl.AddProject(docProject)
	gl.AddProject(8)
	gl.AddPipeline(docProject, docPipeline)
	gl.AddJob(docProject, docPipeline, gitlabtest.JobSpec{Name: "build", Stage: "build", Token: docFinished, Status: "success"})
	gl.AddJob(docProject, docPipeline, gitlabtest.JobSpec{Name: "test", Token: docJob})
	gl.AddToken(docAdmin, docProject)
	gl.AddToken(docOther, 8)
	return gl
}

// writeFile writes content with mode (chmod after, so the umask can't widen
// or narrow it) and returns the path.
func writeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakePath returns a PATH holding executable stubs of the given commands.
func fakePath(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func adminFile(t *testing.T, token string) string {
	return writeFile(t, "read_api.token", token+"\n", 0o600)
}

// checkDoctorOutput wants each part after the previous one, and never a
// token.
func checkDoctorOutput(t *testing.T, out string, want, notWant []string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("output lacks %q (in order)", w)
			continue
		}
		rest = rest[i+len(w):]
	}
	for _, w := range append(notWant, docSecrets...) {
		if strings.Contains(out, w) {
			t.Errorf("output contains %q", w)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestDoctorRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		o    DoctorOptions
		want string
	}{
		{"no GitLab URL is a usage error", DoctorOptions{Timeout: time.Second}, "no GitLab URL"},
		{"a URL that is not http(s) is a usage error", DoctorOptions{URL: "gitlab.example.com", Timeout: time.Second}, "--url must be an http(s) URL"},
		{"a URL with credentials is refused without echoing them", DoctorOptions{URL: "https://root:hunter2@gitlab.example.com", Timeout: time.Second}, "without credentials"},
		{"a pipeline without its project is a usage error", DoctorOptions{URL: "https://gitlab.example.com", PipelineID: 5, Timeout: time.Second}, "--pipeline needs --project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.o.Stdout = &out
			err := runDoctor(t.Context(), tt.o)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (exit %d), want a usage error about %q", err, exitCode(err), tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") || out.Len() > 0 {
				t.Fatalf("err = %v, output %q: want no secret and no check run", err, out.String())
			}
		})
	}
}

// TestDoctorCommand drives the real app: flags, environment fallbacks and
// exit codes.
func TestDoctorCommand(t *testing.T) {
	for _, k := range []string{"CI_API_V4_URL", "CI_SERVER_URL", "CI_SERVER_TLS_CA_FILE", "CI_JOB_TOKEN", "CI_PROJECT_ID", "CI_PIPELINE_ID",
		envAPITokenFile, envCacheDir, envCacheTTL} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	gl := doctorGitLab(t, gitlabtest.OlderGitLab())
	t.Setenv("PATH", fakePath(t, "gitlab-runner", "bash"))
	t.Setenv(envAPITokenFile, adminFile(t, docAdmin))
	t.Setenv("CI_SERVER_URL", gl.URL)
	cache := t.TempDir()
	tests := []struct {
		name string
		args []string
		want int
		out  string
	}{
		{"settings come from flags and the environment", []string{"--cache-dir", cache, "--project", "7", "--pipeline", "4711"}, 0,
			"verdict: a job on this host would get its siblings (from: admin token)"},
		{"a pipeline id that is not a number exits 2", []string{"--project", "7", "--pipeline", "latest"}, 2, ""},
		{"a pipeline without a project exits 2", []string{"--pipeline", "4711"}, 2, ""},
		{"a job token is probed route by route and each answer printed", []string{"--cache-dir", cache, "--job-token", docJob}, 0,
			// 17.9 ignores the job token there and answers as to an anonymous
			// caller (404); with an admin token that lists, it is a fact.
			"ok    job token may not list the jobs of pipeline 4711 on GitLab 17.9.0 (404 Not Found): jobs list with the admin token, which may\n" +
				"ok    child pipelines need the admin token here: the job token may not list trigger jobs, the admin token may\n"},
		{"an admin token that can't see the project exits 1", []string{"--cache-dir", cache, "--project", "8"}, 1,
			"FAIL  admin token may not list project 8's pipelines (404 Not Found)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := Main(t.Context(), append([]string{"pipeline-artifacts", "doctor"}, tt.args...), &stdout, &stderr)
			if got != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.want, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("stdout lacks %q:\n%s", tt.out, stdout.String())
			}
			checkDoctorOutput(t, stdout.String()+stderr.String(), nil, nil)
		})
	}
}

func TestDoctorPrintsAServersVersionOnOneLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/version") {
			w.Write([]byte(`{"version":"17.0.0\r\u001b[2K\nok    forged","revision":"x"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	var out bytes.Buffer
	_ = runDoctor(t.Context(), DoctorOptions{URL: srv.URL, Timeout: 5 * time.Second, Stdout: &out,
		Settings: Settings{APITokenFile: writeFile(t, "token", docAdmin, 0o600)}, retryMax: -1})
	if strings.ContainsAny(out.String(), "\r\x1b") || strings.Contains(out.String(), "\nok    forged") {
		t.Errorf("doctor printed the server's control characters:\n%q", out.String())
	}
	if !strings.Contains(out.String(), "17.0.0") {
		t.Errorf("doctor did not print the version:\n%s", out.String())
	}
}
