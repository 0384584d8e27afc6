package doctor_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/doctor"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// Fixtures: project 7, pipeline 4711 with a finished build job that has an
// archive (its token docFinished no longer valid) and a running test job
// (docJob); docAdmin reads project 7 only, docOther project 8 only.
const (
	docProject  = 7
	docPipeline = 4711
	docAdmin    = "glpat-doctor-admin-secret"
	docOther    = "glpat-doctor-other-project"
	docWrong    = "glpat-doctor-unknown-token"
	docJob      = "glcbt-doctor-running-job"
	docFinished = "glcbt-doctor-finished-job"
)

func doctorGitLab(t *testing.T, opts ...gitlabtest.Option) *gitlabtest.Server {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	gl.AddProject(docProject)
	gl.AddProject(8)
	gl.AddPipeline(docProject, docPipeline)
	gl.AddJob(docProject, docPipeline, gitlabtest.JobSpec{Name: "build", Stage: "build", Token: docFinished, Status: "success", Artifact: []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00")})
	gl.AddJob(docProject, docPipeline, gitlabtest.JobSpec{Name: "test", Token: docJob})
	gl.AddToken(docAdmin, docProject)
	gl.AddToken(docOther, 8)
	return gl
}

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

// healthy is a healthy host: a 0700 cache directory, gitlab-runner and bash
// on the PATH, no retries.
func healthy(t *testing.T, url string) doctor.Options {
	t.Helper()
	cache := t.TempDir()
	if err := os.Chmod(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	return doctor.Options{
		URL: url, Timeout: 30 * time.Second, CacheDir: cache, CacheTTL: 10 * time.Second,
		Path: fakePath(t, "gitlab-runner", "bash"), RetryMax: -1,
	}
}

func adminFile(t *testing.T, token string) string {
	return writeFile(t, "read_api.token", token+"\n", 0o600)
}

// want is one finding expected, by check, status and reason.
type want struct {
	check  doctor.Check
	status doctor.Status
	reason doctor.Reason
}

type doctorCase struct {
	name     string
	gitlab   []gitlabtest.Option
	setup    func(t *testing.T, o *doctor.Options)
	want     []want
	siblings bool
	from     string
	job      *doctor.JobAccess
}

func withAdmin(token string) func(*testing.T, *doctor.Options) {
	return func(t *testing.T, o *doctor.Options) {
		o.APITokenFile, o.ProjectID, o.PipelineID = adminFile(t, token), "7", docPipeline
	}
}

func TestDoctorFindings(t *testing.T) {
	older := []gitlabtest.Option{gitlabtest.OlderGitLab()}
	current := []gitlabtest.Option{gitlabtest.WithProfile(gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version19_2})}
	eeFree18 := []gitlabtest.Option{gitlabtest.WithProfile(gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_0})}
	tests := []doctorCase{
		{
			name: "a healthy current GitLab with an admin token passes", setup: withAdmin(docAdmin), siblings: true, from: "admin token",
			want: []want{
				{doctor.CheckGitLab, doctor.OK, doctor.Reached}, {doctor.CheckJobToken, doctor.Skip, doctor.NotGiven},
				{doctor.CheckAdminFile, doctor.OK, doctor.Private}, {doctor.CheckAdminToken, doctor.OK, doctor.Accepted},
				{doctor.CheckAdminListing, doctor.OK, doctor.Lists}, {doctor.CheckCache, doctor.OK, doctor.Writable},
				{doctor.CheckCommand, doctor.OK, doctor.Found},
			},
		},
		{
			name: "on 19.2 a running job's token finds its own pipeline and every route takes it", gitlab: current, siblings: true, from: "job token",
			setup: func(t *testing.T, o *doctor.Options) { o.JobToken = docJob },
			want: []want{
				{doctor.CheckAdminFile, doctor.Skip, doctor.NotGiven}, {doctor.CheckJobListing, doctor.OK, doctor.Lists},
				{doctor.CheckChildren, doctor.OK, doctor.WithJobToken}, {doctor.CheckDownloads, doctor.OK, doctor.PublicRoute},
			},
			job: &doctor.JobAccess{Identity: doctor.Allowed, ListJobs: doctor.Allowed, ListBridges: doctor.Allowed, ListTriggers: doctor.Allowed,
				PublicDownload: doctor.Allowed, RunnerDownload: doctor.Allowed},
		},
		{
			name: "on 18.x EE Free downloads use the runner route and child pipelines need the admin token", gitlab: eeFree18,
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				o.JobToken = docJob
			},
			siblings: true, from: "job token; admin token as fallback",
			want: []want{
				{doctor.CheckJobListing, doctor.OK, doctor.Lists},
				{doctor.CheckChildren, doctor.OK, doctor.NeedsAdmin}, {doctor.CheckDownloads, doctor.OK, doctor.RunnerRoute},
			},
			job: &doctor.JobAccess{Identity: doctor.Allowed, ListJobs: doctor.Allowed, ListBridges: doctor.Denied, ListTriggers: doctor.Denied,
				PublicDownload: doctor.Denied, RunnerDownload: doctor.Allowed, AdminBridges: doctor.Allowed},
		},
		{
			// A fact of the version, not a fault of the host: no warning.
			name: "on 18.x EE Free without an admin token child pipelines need one", gitlab: eeFree18,
			setup:    func(t *testing.T, o *doctor.Options) { o.JobToken = docJob },
			siblings: true, from: "job token",
			want: []want{{doctor.CheckChildren, doctor.OK, doctor.NeedsAdmin}, {doctor.CheckDownloads, doctor.OK, doctor.RunnerRoute}},
		},
		{
			name: "older GitLab refuses the job token and without an admin token jobs get declared dependencies only", gitlab: older,
			setup: func(t *testing.T, o *doctor.Options) { o.JobToken = docJob },
			want:  []want{{doctor.CheckJobToken, doctor.OK, doctor.Accepted}, {doctor.CheckJobListing, doctor.Warn, doctor.Refused}},
		},
		{
			name: "older GitLab without any token can't be vouched for", gitlab: older,
			want: []want{{doctor.CheckGitLab, doctor.OK, doctor.Reached}, {doctor.CheckJobToken, doctor.Skip, doctor.NotGiven}},
		},
		{
			name: "older GitLab with an admin token falls back to it", gitlab: older, siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				o.JobToken = docJob
			},
			want: []want{{doctor.CheckAdminListing, doctor.OK, doctor.Lists}, {doctor.CheckJobListing, doctor.OK, doctor.NeedsAdmin}},
		},
		{
			name: "--project alone lists the newest pipeline with the admin token", gitlab: older, siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) { o.APITokenFile, o.ProjectID = adminFile(t, docAdmin), "7" },
			want:  []want{{doctor.CheckJobToken, doctor.Skip, doctor.NotGiven}, {doctor.CheckAdminListing, doctor.OK, doctor.Lists}},
		},
		{
			name: "an accepted admin token without a project to test counts as working", gitlab: older,
			setup:    func(t *testing.T, o *doctor.Options) { o.APITokenFile = adminFile(t, docAdmin) },
			siblings: true, from: "admin token; its listing untested without --project",
			want: []want{{doctor.CheckAdminToken, doctor.OK, doctor.Accepted}, {doctor.CheckAdminListing, doctor.Skip, doctor.NotTested}},
		},
		{
			name: "a rejected admin token fails", gitlab: older, setup: withAdmin(docWrong),
			want: []want{{doctor.CheckAdminToken, doctor.Fail, doctor.Rejected}},
		},
		{
			name: "an admin token that can't see the project fails", setup: withAdmin(docOther), siblings: true,
			from: "job token, which GitLab 18.9.0 should allow; untested without a running job's token",
			want: []want{{doctor.CheckAdminToken, doctor.OK, doctor.Accepted}, {doctor.CheckAdminListing, doctor.Fail, doctor.Refused}},
		},
		{
			name: "a finished job's token is rejected by GET /job", gitlab: older,
			setup: func(t *testing.T, o *doctor.Options) { o.JobToken = docFinished },
			want:  []want{{doctor.CheckJobToken, doctor.Warn, doctor.Rejected}},
		},
		{
			name: "an access token given as the job token is told apart by GET /job", siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				o.JobToken = docAdmin
			},
			want: []want{{doctor.CheckJobToken, doctor.Warn, doctor.Rejected}},
		},
		{
			name: "a world-readable token file is a warning", siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				if err := os.Chmod(o.APITokenFile, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []want{{doctor.CheckAdminFile, doctor.Warn, doctor.WideMode}},
		},
		{
			name:  "a missing token file fails, and GitLab's version stays unknown",
			setup: func(t *testing.T, o *doctor.Options) { o.APITokenFile = filepath.Join(t.TempDir(), "nope.token") },
			want:  []want{{doctor.CheckAdminFile, doctor.Fail, doctor.Unreadable}},
		},
		{
			name: "a token file with two tokens fails", gitlab: older,
			setup: func(t *testing.T, o *doctor.Options) {
				o.APITokenFile = writeFile(t, "two.token", docAdmin+"\n"+docOther+"\n", 0o600)
			},
			want: []want{{doctor.CheckAdminFile, doctor.Fail, doctor.Unreadable}},
		},
		{
			name: "without gitlab-runner on the PATH the check fails though siblings resolve", siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				o.Path = fakePath(t, "bash")
			},
			want: []want{{doctor.CheckCommand, doctor.Fail, doctor.Missing}, {doctor.CheckCommand, doctor.OK, doctor.Found}},
		},
		{
			name: "a group-readable cache directory is a warning", siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				if err := os.Chmod(o.CacheDir, 0o750); err != nil {
					t.Fatal(err)
				}
			},
			want: []want{{doctor.CheckCache, doctor.Warn, doctor.WideMode}},
		},
		{
			name: "a cache directory that does not exist yet is created by the first job", siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				o.CacheDir = filepath.Join(o.CacheDir, "a", "b")
			},
			want: []want{{doctor.CheckCache, doctor.OK, doctor.WillCreate}},
		},
		{
			name: "a cache turned off is skipped", siblings: true, from: "admin token",
			setup: func(t *testing.T, o *doctor.Options) {
				withAdmin(docAdmin)(t, o)
				o.CacheTTL = 0
			},
			want: []want{{doctor.CheckCache, doctor.Skip, doctor.CacheOff}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t) })
	}
}

func (tt doctorCase) run(t *testing.T) {
	gl := doctorGitLab(t, tt.gitlab...)
	o := healthy(t, gl.URL)
	if tt.setup != nil {
		tt.setup(t, &o)
	}
	r, err := doctor.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkFindings(t, r, tt.want)
	if r.Verdict.Siblings != tt.siblings || r.Verdict.From != tt.from {
		t.Errorf("verdict %+v, want siblings=%v from %q", r.Verdict, tt.siblings, tt.from)
	}
	if tt.job != nil && r.Job != *tt.job {
		t.Errorf("job access %+v, want %+v", r.Job, *tt.job)
	}
}

// checkFindings wants each finding after the previous one ("" reason: any),
// and never a token in a message.
func checkFindings(t *testing.T, r *doctor.Report, wants []want) {
	t.Helper()
	rest := r.Findings
	for _, w := range wants {
		i := 0
		for i < len(rest) && (rest[i].Check != w.check || rest[i].Status != w.status || (w.reason != "" && rest[i].Reason != w.reason)) {
			i++
		}
		if i == len(rest) {
			t.Errorf("no finding %v (in order)", w)
			continue
		}
		rest = rest[i+1:]
	}
	for _, f := range r.Findings {
		for _, tok := range []string{docAdmin, docOther, docWrong, docJob, docFinished} {
			if strings.Contains(f.Message, tok) {
				t.Errorf("finding %q holds a token", f.Message)
			}
		}
	}
	if t.Failed() {
		for _, f := range r.Findings {
			t.Logf("%-12s %-5s %-20s %s", f.Check, f.Status, f.Reason, f.Message)
		}
	}
}

func TestDoctorTLS(t *testing.T) {
	otherCA := selfSignedCA(t)
	tests := []struct {
		name     string
		ca       func(gl *gitlabtest.Server) string
		siblings bool
		want     []want
	}{
		{
			name: "without the CA the certificate error is explained",
			ca:   func(*gitlabtest.Server) string { return "" },
			want: []want{{doctor.CheckGitLab, doctor.Fail, doctor.Unreachable}, {doctor.CheckAdminToken, doctor.Skip, doctor.NotTested}},
		},
		{
			name: "with the CA file the certificate is verified", siblings: true,
			ca:   func(gl *gitlabtest.Server) string { return writeFile(t, "ca.pem", string(gl.CAPEM()), 0o644) },
			want: []want{{doctor.CheckCA, doctor.OK, doctor.Certificates}, {doctor.CheckGitLab, doctor.OK, doctor.Reached}},
		},
		{
			name: "CA content in CI_SERVER_TLS_CA_FILE works like a file", siblings: true,
			ca:   func(gl *gitlabtest.Server) string { return string(gl.CAPEM()) },
			want: []want{{doctor.CheckCA, doctor.OK, doctor.Certificates}, {doctor.CheckGitLab, doctor.OK, doctor.Reached}},
		},
		{
			name: "a CA that did not sign GitLab's certificate is named as the problem",
			ca:   func(*gitlabtest.Server) string { return writeFile(t, "other.pem", otherCA, 0o644) },
			want: []want{{doctor.CheckGitLab, doctor.Fail, doctor.Unreachable}},
		},
		{
			name: "a CA file without certificates fails and the system roots are tried",
			ca:   func(*gitlabtest.Server) string { return writeFile(t, "empty.pem", "not a certificate\n", 0o644) },
			want: []want{{doctor.CheckCA, doctor.Fail, doctor.NoCertificate}, {doctor.CheckGitLab, doctor.Fail, doctor.Unreachable}},
		},
		{
			name: "a missing CA file fails",
			ca:   func(*gitlabtest.Server) string { return filepath.Join(t.TempDir(), "missing.pem") },
			want: []want{{doctor.CheckCA, doctor.Fail, doctor.Unreadable}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := doctorGitLab(t, gitlabtest.WithTLS(), gitlabtest.OlderGitLab())
			o := healthy(t, gl.URL)
			withAdmin(docAdmin)(t, &o)
			o.CAFile = tt.ca(gl)
			r, err := doctor.Run(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			checkFindings(t, r, tt.want)
			if r.Verdict.Siblings != tt.siblings {
				t.Errorf("verdict %+v, want siblings=%v", r.Verdict, tt.siblings)
			}
		})
	}
}

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
	o := healthy(t, gl.URL)
	gl.Close()
	o.APITokenFile = adminFile(t, docAdmin)
	r, err := doctor.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkFindings(t, r, []want{{doctor.CheckGitLab, doctor.Fail, doctor.Unreachable}, {doctor.CheckAdminToken, doctor.Skip, doctor.NotTested}})
	if r.Verdict.Siblings || r.Verdict.Missing != "GitLab is not reachable" {
		t.Errorf("verdict %+v", r.Verdict)
	}
}

func TestDoctorRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		o    doctor.Options
	}{
		{"no GitLab URL", doctor.Options{Timeout: time.Second}},
		{"a URL that is not http(s)", doctor.Options{URL: "gitlab.example.com", Timeout: time.Second}},
		{"a URL with credentials", doctor.Options{URL: "https://root:hunter2@gitlab.example.com", Timeout: time.Second}},
		{"a pipeline without its project", doctor.Options{URL: "https://gitlab.example.com", PipelineID: 5, Timeout: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a usage error", func(t *testing.T) {
			_, err := doctor.Run(t.Context(), tt.o)
			var ue *doctor.UsageError
			if !errors.As(err, &ue) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("err = %v, want a *UsageError without the password", err)
			}
		})
	}
}
