package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
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

// doctorOptions is a healthy host: a 0700 cache directory, gitlab-runner and bash on the PATH, no retries.
func doctorOptions(t *testing.T, gl *gitlabtest.Server) DoctorOptions {
	t.Helper()
	cache := t.TempDir()
	if err := os.Chmod(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	return DoctorOptions{
		Settings: Settings{CacheDir: cache, CacheTTL: 10 * time.Second},
		URL:      gl.URL, Timeout: 30 * time.Second,
		Path:     fakePath(t, "gitlab-runner", "bash"),
		retryMax: -1,
	}
}

func adminFile(t *testing.T, token string) string {
	return writeFile(t, "read_api.token", token+"\n", 0o600)
}

type doctorCase struct {
	name     string
	gitlab   []gitlabtest.Option
	setup    func(t *testing.T, o *DoctorOptions)
	wantCode int
	want     []string // lines or parts of lines, in order; "%f" stands for the token file
	notWant  []string
}

func TestDoctor(t *testing.T) {
	older := []gitlabtest.Option{gitlabtest.OlderGitLab()}
	withAdmin := func(token string) func(*testing.T, *DoctorOptions) {
		return func(t *testing.T, o *DoctorOptions) {
			o.APITokenFile, o.ProjectID, o.PipelineID = adminFile(t, token), "7", docPipeline
		}
	}
	tests := []doctorCase{
		{
			name: "a healthy current GitLab with an admin token passes", setup: withAdmin(docAdmin),
			want: []string{
				"ok    GitLab 18.9.0 reachable at %u (plain HTTP",
				"ok    admin token file %f: one token, readable only by its owner",
				"ok    admin token from %f accepted by GitLab",
				"ok    admin token lists the 2 jobs of pipeline 4711 in project 7",
				"skip  job token: listing pipeline jobs with it can't be checked without a running job's token (--job-token or CI_JOB_TOKEN); GitLab 18.9.0 should allow it",
				"ok    cache directory ", ": writable, mode 0700",
				"ok    gitlab-runner on PATH: ",
				"ok    bash on PATH: ",
				"verdict: a job on this host would get its siblings (from: admin token)",
			},
			notWant: []string{"FAIL", "warn"},
		},
		{
			name:  "a running job's token finds its own pipeline and lists it",
			setup: func(t *testing.T, o *DoctorOptions) { o.JobToken = docJob },
			want: []string{
				"ok    GitLab 18.9.0 reachable",
				"skip  no admin token (--api-token-file, PIPELINE_ARTIFACTS_API_TOKEN_FILE): jobs rely on the job token",
				"ok    job token lists the 2 jobs of pipeline 4711 in project 7",
				"verdict: a job on this host would get its siblings (from: job token)",
			},
		},
		{
			name: "older GitLab refuses the job token and without an admin token jobs get declared dependencies only", gitlab: older,
			setup:    func(t *testing.T, o *DoctorOptions) { o.JobToken = docJob },
			wantCode: 1,
			want: []string{
				"ok    GitLab 17.9.0 reachable",
				"warn  job token may not list the jobs of pipeline 4711 on GitLab 17.9.0 (403 Forbidden): jobs need the admin token (--api-token-file)",
				"verdict: a job on this host would get its declared dependencies only: GitLab refuses the job token for pipeline jobs and no admin token is configured (--api-token-file)",
			},
		},
		{
			name: "older GitLab without any token can't be vouched for", gitlab: older, wantCode: 1,
			want: []string{
				"ok    GitLab (version unknown: GET /version needs a token GitLab accepts) reachable",
				"skip  job token: ", "GitLab 17.9 and older refuse it, 18.x allows it",
				"verdict: a job on this host would get its declared dependencies only: nothing shows the job token may list pipeline jobs and no admin token is configured",
			},
		},
		{
			name: "older GitLab with an admin token falls back to it", gitlab: older,
			setup: func(t *testing.T, o *DoctorOptions) {
				withAdmin(docAdmin)(t, o)
				o.JobToken = docJob
			},
			want: []string{
				"ok    admin token lists the 2 jobs of pipeline 4711 in project 7",
				"warn  job token may not list the jobs of pipeline 4711 on GitLab 17.9.0 (403 Forbidden)",
				"verdict: a job on this host would get its siblings (from: admin token)",
			},
		},
		{
			name: "--project alone lists the newest pipeline with the admin token", gitlab: older,
			setup: func(t *testing.T, o *DoctorOptions) { o.APITokenFile, o.ProjectID = adminFile(t, docAdmin), "7" },
			want: []string{
				"ok    admin token lists the 2 jobs of pipeline 4711 in project 7",
				"skip  job token: ", "GitLab 17.9.0 most likely refuses it",
				"verdict: a job on this host would get its siblings (from: admin token)",
			},
		},
		{
			name: "an accepted admin token without a project to test counts as working", gitlab: older,
			setup: func(t *testing.T, o *DoctorOptions) { o.APITokenFile = adminFile(t, docAdmin) },
			want: []string{
				"ok    admin token from %f accepted by GitLab",
				"skip  admin token's read_api scope and project access not tested: give --project ID (and --pipeline ID)",
				"verdict: a job on this host would get its siblings (from: admin token; its listing untested without --project)",
			},
		},
		{
			name: "a rejected admin token fails naming its file", gitlab: older, setup: withAdmin(docWrong), wantCode: 1,
			want: []string{
				"FAIL  admin token from %f rejected by GitLab (401 Unauthorized): expired, revoked, or made on another instance",
				"verdict: a job on this host would get its declared dependencies only: ", "the admin token does not work (see above)",
			},
		},
		{
			name: "an admin token that can't see the project fails", setup: withAdmin(docOther), wantCode: 1,
			want: []string{
				"ok    admin token from %f accepted by GitLab",
				"FAIL  admin token may not list project 7's pipelines (404 Not Found): the project or pipeline does not exist, or the token's user cannot see it",
				"verdict: a job on this host would get its siblings (from: job token, which GitLab 18.9.0 should allow; untested without a running job's token)",
			},
		},
		{
			name: "a finished job's token is rejected and leaves the job token untested", gitlab: older,
			setup:    func(t *testing.T, o *DoctorOptions) { o.JobToken = docFinished },
			wantCode: 1,
			want: []string{
				"ok    GitLab (version unknown: GET /version needs a token GitLab accepts) reachable",
				"warn  job token rejected by GitLab (401 Unauthorized): it is valid only while its job runs",
				"verdict: a job on this host would get its declared dependencies only: nothing shows",
			},
		},
		{
			name: "a world-readable token file is a warning, not a failure",
			setup: func(t *testing.T, o *DoctorOptions) {
				withAdmin(docAdmin)(t, o)
				if err := os.Chmod(o.APITokenFile, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"warn  admin token file %f: mode 0644 lets other users of this host read it; chmod 600 it", "verdict: a job on this host would get its siblings"},
		},
		{
			name: "a missing token file fails", wantCode: 1,
			setup: func(t *testing.T, o *DoctorOptions) { o.APITokenFile = filepath.Join(t.TempDir(), "nope.token") },
			want:  []string{"FAIL  admin token file %f: no such file or directory"},
		},
		{
			name: "a token file without read permission fails", wantCode: 1,
			setup: func(t *testing.T, o *DoctorOptions) {
				if os.Geteuid() == 0 {
					t.Skip("root reads any file")
				}
				o.APITokenFile = writeFile(t, "locked.token", docAdmin, 0o000)
			},
			want: []string{"FAIL  admin token file %f: permission denied"},
		},
		{
			name: "a token file that can't be read fails", wantCode: 1,
			setup: func(t *testing.T, o *DoctorOptions) { o.APITokenFile = t.TempDir() },
			want:  []string{"FAIL  admin token file %f: is a directory"},
		},
		{
			name: "a token file with two tokens fails", wantCode: 1,
			setup: func(t *testing.T, o *DoctorOptions) {
				o.APITokenFile = writeFile(t, "two.token", docAdmin+"\n"+docOther+"\n", 0o600)
			},
			want: []string{"FAIL  admin token file %f: must hold exactly one token"},
		},
		{
			name: "without gitlab-runner on the PATH the check fails though siblings resolve", setup: func(t *testing.T, o *DoctorOptions) {
				withAdmin(docAdmin)(t, o)
				o.Path = fakePath(t, "bash")
			},
			wantCode: 1,
			want:     []string{"FAIL  gitlab-runner not on PATH (", "upload and download artifacts", "ok    bash on PATH", "verdict: a job on this host would get its siblings"},
		},
		{
			name: "a group-readable cache directory is a warning", setup: func(t *testing.T, o *DoctorOptions) {
				withAdmin(docAdmin)(t, o)
				if err := os.Chmod(o.CacheDir, 0o750); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"warn  cache directory ", "mode 0750 lets other users of this host read the cached job lists"},
		},
		{
			name: "a cache directory that does not exist yet is created by the first job", setup: func(t *testing.T, o *DoctorOptions) {
				withAdmin(docAdmin)(t, o)
				o.CacheDir = filepath.Join(o.CacheDir, "a", "b")
			},
			want: []string{"ok    cache directory ", "a/b does not exist yet; the first job creates it (mode 0700)"},
		},
		{
			name: "a cache turned off is skipped", setup: func(t *testing.T, o *DoctorOptions) {
				withAdmin(docAdmin)(t, o)
				o.CacheTTL = 0
			},
			want: []string{"skip  cache off (--cache-ttl 0)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t) })
	}
}

func (tt doctorCase) run(t *testing.T) {
	t.Helper()
	gl := doctorGitLab(t, tt.gitlab...)
	o := doctorOptions(t, gl)
	if tt.setup != nil {
		tt.setup(t, &o)
	}
	var out bytes.Buffer
	o.Stdout = &out
	err := runDoctor(t.Context(), o)
	if got := exitCode(err); got != tt.wantCode {
		t.Errorf("exit code %d (%v), want %d", got, err, tt.wantCode)
	}
	checkDoctorOutput(t, out.String(), expand(tt.want, o, gl), tt.notWant)
}

func expand(want []string, o DoctorOptions, gl *gitlabtest.Server) []string {
	r := strings.NewReplacer("%f", o.APITokenFile, "%u", gl.APIURL())
	out := make([]string, len(want))
	for i, w := range want {
		out[i] = r.Replace(w)
	}
	return out
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

func TestDoctorTLS(t *testing.T) {
	otherCA := selfSignedCA(t)
	tests := []struct {
		name     string
		ca       func(gl *gitlabtest.Server) string // --ca-file; "" for none
		wantCode int
		want     []string
	}{
		{
			name: "without the CA the certificate error is explained", wantCode: 1,
			ca: func(*gitlabtest.Server) string { return "" },
			want: []string{
				"FAIL  GitLab not reachable at https://", "certificate signed by an unknown authority: give its CA with --ca-file or CI_SERVER_TLS_CA_FILE",
				"verdict: a job on this host would get its declared dependencies only: GitLab is not reachable",
			},
		},
		{
			name: "with the CA file the certificate is verified",
			ca:   func(gl *gitlabtest.Server) string { return writeFile(t, "ca.pem", string(gl.CAPEM()), 0o644) },
			want: []string{"ok    CA file ", ": 1 certificate", "ok    GitLab 17.9.0 reachable at https://", "(TLS verified with file ", "verdict: a job on this host would get its siblings (from: admin token)"},
		},
		{
			name: "CA content in CI_SERVER_TLS_CA_FILE works like a file",
			ca:   func(gl *gitlabtest.Server) string { return string(gl.CAPEM()) },
			want: []string{"ok    CA certificates given inline: 1 certificate", "(TLS verified with certificates given inline)"},
		},
		{
			name: "a CA that did not sign GitLab's certificate is named as the problem", wantCode: 1,
			ca:   func(*gitlabtest.Server) string { return writeFile(t, "other.pem", otherCA, 0o644) },
			want: []string{"FAIL  GitLab not reachable at https://", "the CA given does not hold the issuer of GitLab's certificate"},
		},
		{
			name: "a CA file without certificates fails and the system roots are tried", wantCode: 1,
			ca:   func(*gitlabtest.Server) string { return writeFile(t, "empty.pem", "not a certificate\n", 0o644) },
			want: []string{"FAIL  CA file ", "holds no PEM certificate", "FAIL  GitLab not reachable", "unknown authority: give its CA"},
		},
		{
			name: "a missing CA file fails", wantCode: 1,
			ca:   func(*gitlabtest.Server) string { return filepath.Join(t.TempDir(), "missing.pem") },
			want: []string{"FAIL  CA file ", "missing.pem: no such file or directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := doctorGitLab(t, gitlabtest.WithTLS(), gitlabtest.OlderGitLab())
			o := doctorOptions(t, gl)
			o.APITokenFile, o.ProjectID, o.PipelineID = adminFile(t, docAdmin), "7", docPipeline
			o.CAFile = tt.ca(gl)
			var out bytes.Buffer
			o.Stdout = &out
			if got := exitCode(runDoctor(t.Context(), o)); got != tt.wantCode {
				t.Errorf("exit code %d, want %d", got, tt.wantCode)
			}
			checkDoctorOutput(t, out.String(), tt.want, nil)
		})
	}
}

// selfSignedCA is a CA that signed nothing the fake serves (every httptest
// TLS server shares one certificate).
func selfSignedCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestDoctorUnreachableGitLab(t *testing.T) {
	gl := doctorGitLab(t)
	o := doctorOptions(t, gl)
	gl.Close() // nothing listens there any more
	o.APITokenFile = adminFile(t, docAdmin)
	var out bytes.Buffer
	o.Stdout = &out
	if got := exitCode(runDoctor(t.Context(), o)); got != 1 {
		t.Errorf("exit code %d, want 1", got)
	}
	checkDoctorOutput(t, out.String(), []string{
		"FAIL  GitLab not reachable at " + gl.APIURL(),
		"skip  admin token from " + o.APITokenFile + " not tested: GitLab not reachable",
		"verdict: a job on this host would get its declared dependencies only: GitLab is not reachable",
	}, nil)
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
