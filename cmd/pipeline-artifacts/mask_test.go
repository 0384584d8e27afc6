package main_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// quotingServer answers every request 400 with a body that quotes back the
// credential it received, wherever it came: a header, the query string or
// the URL's userinfo. Proxies and some GitLab errors do quote input back.
func quotingServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("PRIVATE-TOKEN") + r.Header.Get("JOB-TOKEN")
		for _, k := range []string{"private_token", "job_token", "token"} {
			tok += r.URL.Query().Get(k)
		}
		if _, p, ok := r.BasicAuth(); ok {
			tok += p
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"message":"token %s is invalid"}`, tok)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestNoTokenReachesAnyOutput drives the binary with tokens from every
// source a user can give one and a server that echoes it: neither stdout
// nor stderr, at debug level, with or without --json, may hold it.
func TestNoTokenReachesAnyOutput(t *testing.T) {
	const token = "glpat-QUOTED-back-by-the-server"
	base := quotingServer(t)
	host := strings.TrimPrefix(base, "http://")
	artifacts := "/api/v4/projects/7/jobs/42/artifacts"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  []string
	}{
		{"a token from a file quoted back in the server's error", []string{"download", "--url", base + artifacts, "--private-token-file", tokenFile}, nil},
		{"a token from the environment quoted back", []string{"download", "--url", base + artifacts}, []string{"PIPELINE_ARTIFACTS_PRIVATE_TOKEN=" + token}},
		{"a private_token inside --url", []string{"download", "--url", base + artifacts + "?private_token=" + token}, nil},
		{"a job_token inside --url, with --json", []string{"download", "--json", "--url", base + artifacts + "?job_token=" + token}, nil},
		{"a password inside --url", []string{"download", "--url", "http://deploy:" + token + "@" + host + artifacts}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"--debug"}, tt.args...)...)
			cmd.Env = append(cleanEnv(), tt.env...)
			cmd.Dir = t.TempDir()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err == nil {
				t.Fatalf("download succeeded against a server that answers 400")
			}
			all := stdout.String() + stderr.String()
			if strings.Contains(all, token) {
				t.Errorf("the token reached the output:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), "pipeline-artifacts: ") {
				t.Errorf("no final error line:\n%s", stderr.String())
			}
		})
	}
}

// cleanEnv is our environment without CI variables or our settings, which
// would change where download looks for its target and token.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CI_") && !strings.HasPrefix(kv, "PIPELINE_ARTIFACTS_") && !strings.HasPrefix(kv, "GITLAB_") {
			env = append(env, kv)
		}
	}
	return env
}

// TestArchiveOnStdoutIsNotMasked: `download -o -` writes the archive as
// GitLab sent it, even when its bytes happen to spell a registered token.
func TestArchiveOnStdoutIsNotMasked(t *testing.T) {
	const token = "glpat-ALSO-inside-the-archive"
	gl := gitlabtest.NewTest(t)
	gl.AddProject(7)
	gl.AddPipeline(7, 100)
	archive := []byte("PK\x03\x04 not really a zip, but bytes that hold " + token + " as data")
	j := gl.AddJob(7, 100, gitlabtest.JobSpec{Name: "build", Artifact: archive, ArtifactFilename: "artifacts.zip"})
	gl.AddToken(token, 7)
	cmd := exec.Command(binary, "download", "-o", "-", "--url", fmt.Sprintf("%s/projects/7/jobs/%d/artifacts", gl.APIURL(), j.ID))
	cmd.Env = append(cleanEnv(), "PIPELINE_ARTIFACTS_PRIVATE_TOKEN="+token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("download: %v\n%s", err, stderr.String())
	}
	if !bytes.Equal(stdout.Bytes(), archive) {
		t.Errorf("stdout is not the archive:\n%q", stdout.Bytes())
	}
	if strings.Contains(stderr.String(), token) {
		t.Errorf("the token reached stderr:\n%s", stderr.String())
	}
}
