package hooks

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// secretToken stands for every token a payload carries; no output may contain it.
const secretToken = "glcbt-SECRET-do-not-leak-0123456789"

// payloadJSON is shaped like the runner's JOB_RESPONSE_FILE (protocol
// reference §1.8, §3.4), tokens and all.
var payloadJSON = `{
  "id": 1004,
  "token": "` + secretToken + `",
  "allow_git_fetch": true,
  "job_info": {"name": "test 1/2", "stage": "test", "project_id": 42, "pipeline_id": 77, "project_name": "p"},
  "git_info": {"repo_url": "https://gitlab-ci-token:` + secretToken + `@gitlab.example.com/g/p.git",
               "ref": "main", "sha": "0123abcd", "before_sha": "0000"},
  "variables": [{"key": "CI_JOB_TOKEN", "value": "` + secretToken + `", "public": false, "masked": true}],
  "dependencies": [
    {"id": 1001, "name": "build: [linux, amd64]", "token": "` + secretToken + `",
     "artifacts_file": {"filename": "artifacts.zip", "size": 10485}},
    {"id": 1002, "name": "lint", "token": "` + secretToken + `", "artifacts_file": {"filename": "", "size": 0}},
    {"id": 1003, "name": "docs", "token": "` + secretToken + `"}
  ],
  "credentials": [{"type": "registry", "url": "registry.example.com", "username": "gitlab-ci-token", "password": "` + secretToken + `"}]
}`

func writePayload(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "response.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadPayload(t *testing.T) {
	p, err := ReadPayload(writePayload(t, payloadJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := &Payload{
		ID:      1004,
		JobInfo: PayloadJobInfo{Name: "test 1/2", Stage: "test", PipelineID: 77, ProjectID: 42},
		GitInfo: PayloadGitInfo{SHA: "0123abcd", Ref: "main"},
		Dependencies: []PayloadDependency{
			{ID: 1001, Name: "build: [linux, amd64]", ArtifactsFile: gitlab.ArtifactsFile{Filename: "artifacts.zip", Size: 10485}},
			{ID: 1002, Name: "lint"},
			{ID: 1003, Name: "docs"},
		},
		ServerHost: "gitlab.example.com", // repo_url's host, without the token in its user info
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
	if s := fmt.Sprintf("%+v %#v", p, p); strings.Contains(s, secretToken) {
		t.Errorf("the parsed payload holds the token: %s", s)
	}
}

func TestReadPayloadErrors(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{"a missing file says it could not read the payload", filepath.Join(t.TempDir(), "nope.json"), "read job payload: "},
		{"broken JSON says it could not parse the payload", writePayload(t, `{"id": 1, "token": "`+secretToken), "parse job payload "},
		{"a wrong type says it could not parse the payload", writePayload(t, `{"id": "`+secretToken+`"}`), "parse job payload "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadPayload(tt.path)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want prefix %q", err, tt.want)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, secretToken) {
				t.Errorf("err = %q: not one line, or shows the token", msg)
			}
		})
	}
}

func TestDependencyJobs(t *testing.T) {
	p, err := ReadPayload(writePayload(t, payloadJSON))
	if err != nil {
		t.Fatal(err)
	}
	p.Dependencies = append(p.Dependencies, PayloadDependency{ID: 0, Name: "broken"})
	want := []gitlab.Job{
		{ID: 1001, Name: "build: [linux, amd64]", Status: "success", ArtifactsFile: &gitlab.ArtifactsFile{Filename: "artifacts.zip", Size: 10485}},
		{ID: 1002, Name: "lint"},
		{ID: 1003, Name: "docs"},
	}
	if got := p.DependencyJobs(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
