package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// fetchBuild is deploy's script in the seed story: fetch build's archive
// with nothing but the job token, by curl and by the real binary, and show
// that both got the same archive with the site in it.
const fetchBuild = `set -e
curl -fsSL -H "JOB-TOKEN: $CI_JOB_TOKEN" -o curl.zip "$ARTIFACT_URL_BUILD"
"$PA_BINARY" download -q --url "$ARTIFACT_URL_BUILD" -o binary.zip
cmp curl.zip binary.zip && echo same-archive
grep -c public/index.html curl.zip >/dev/null && echo site-inside`

// TestEndToEndSeedStoryOnEveryGitLab runs the seed story on every edition and
// version the fake plays, with the payload of runner 17.9.3 (no
// job_info.pipeline_id): deploy gets ARTIFACT_URL_BUILD and fetches it with
// only its job token. On 17.9 the job token may not list the pipeline, so
// the runner is given an admin token there. No job log warns when
// everything the job needs was resolved.
func TestEndToEndSeedStoryOnEveryGitLab(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine")
	}
	warning := regexp.MustCompile(`(?m)^.*WARNING: pipeline-artifacts.*$`)
	for _, prof := range gitlabtest.Profiles() {
		t.Run(prof.String(), func(t *testing.T) {
			p := newPipeline(t, gitlabtest.WithProfile(prof))
			p.Runner = runnersim.Runner17_9_3
			job := p.DeployJob(fetchBuild)
			job.Environ = append(job.Environ, "PA_BINARY="+binary)
			if !prof.JobTokenListsJobs() {
				job.Environ = append(job.Environ, "PIPELINE_ARTIFACTS_API_TOKEN_FILE="+adminTokenFile(t, p))
			}
			res := runJob(t, job)
			if res.Status != "success" {
				t.Fatalf("status %s, log:\n%s", res.Status, res.Log())
			}
			out := res.Stage("run:build_script").Stdout
			for _, want := range []string{"same-archive", "site-inside"} {
				if !strings.Contains(out, want) {
					t.Errorf("job output lacks %q:\n%s", want, res.Log())
				}
			}
			if !strings.Contains(res.Log(), "3 siblings of pipeline 7001 from api") {
				t.Errorf("deploy was not told every sibling:\n%s", res.Log())
			}
			if w := warning.FindAllString(res.Log(), -1); len(w) > 0 {
				t.Errorf("warnings though the job got everything it needs:\n%s", strings.Join(w, "\n"))
			}
			if n := p.GL.Count(gitlabtest.RouteRunnerArtifacts); n != 2 {
				t.Errorf("the runner route saw %d downloads, want 2 (curl and download)", n)
			}
			if strings.Contains(res.Log(), adminToken) {
				t.Error("the admin token appears in the job log")
			}
		})
	}
}

// adminTokenFile makes adminToken valid for the seed's project and writes it
// where the runner's host keeps it.
func adminTokenFile(t *testing.T, p runnersim.Seed) string {
	t.Helper()
	p.GL.AddToken(adminToken, projectID)
	file := filepath.Join(t.TempDir(), "read_api.token")
	if err := os.WriteFile(file, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestEndToEndRedefinedPipelineIDIsCheckedWithTheJobToken: runner 17.9.3's
// payload has no job_info.pipeline_id, and a pipeline may redefine
// CI_PIPELINE_ID. The listing of the pipeline it names does not hold the
// job, so the job token asks GET /job and the job gets its own pipeline's
// siblings, with a warning that says so.
func TestEndToEndRedefinedPipelineIDIsCheckedWithTheJobToken(t *testing.T) {
	p := newPipeline(t)
	p.Runner = runnersim.Runner17_9_3
	p.GL.AddPipeline(projectID, 9001)
	p.GL.AddJob(projectID, 9001, gitlabtest.JobSpec{Name: "impostor", Stage: "build"})
	job := p.DeployJob(`env | grep -E '^ARTIFACT_URL_' | sort`)
	job.Variables["CI_PIPELINE_ID"] = "9001"
	res := runJob(t, job)
	if res.Status != "success" {
		t.Fatalf("status %s, log:\n%s", res.Status, res.Log())
	}
	out := res.Stage("run:build_script").Stdout
	if strings.Contains(out, "IMPOSTOR") || !strings.Contains(out, "ARTIFACT_URL_TEST_1_2=") {
		t.Errorf("want the siblings of pipeline 7001, got:\n%s", out)
	}
	if !strings.Contains(res.Log(), "CI_PIPELINE_ID 9001 is not this job's pipeline: GitLab says 7001") {
		t.Errorf("no warning about the redefined pipeline id:\n%s", res.Log())
	}
	if n := p.GL.Count(gitlabtest.RouteJob); n != 1 {
		t.Errorf("GET /job asked %d times, want 1", n)
	}
}
