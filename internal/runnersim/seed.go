package runnersim

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// The seed story's pipeline, as the end-to-end tests and the failure suite
// set it up.
const (
	SeedProject  = 42
	SeedPipeline = 7001
)

// Seed is the seed story's pipeline on a fake GitLab: build (done, with a
// site), two parallel tests, and deploy, the job the runner runs next.
type Seed struct {
	GL            *gitlabtest.Server
	Build, Deploy *gitlabtest.FakeJob
	// Runner is the runner version DeployJob's payload mimics ("" for
	// RunnerLatest); set Runner17_9_3 for a payload without
	// job_info.pipeline_id.
	Runner string
}

// NewSeed sets up the pipeline; token is deploy's CI_JOB_TOKEN.
func NewSeed(t testing.TB, token string, opts ...gitlabtest.Option) Seed {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	gl.AddProject(SeedProject)
	gl.AddPipeline(SeedProject, SeedPipeline)
	site := gitlabtest.MakeZip(t, map[string]string{"public/index.html": "<h1>hello</h1>"})
	s := Seed{GL: gl}
	s.Build = gl.AddJob(SeedProject, SeedPipeline, gitlabtest.JobSpec{Name: "build", Stage: "build", Artifact: site})
	gl.AddJob(SeedProject, SeedPipeline, gitlabtest.JobSpec{Name: "test 1/2", Stage: "test"})
	gl.AddJob(SeedProject, SeedPipeline, gitlabtest.JobSpec{Name: "test 2/2", Stage: "test"})
	s.Deploy = gl.AddJob(SeedProject, SeedPipeline, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: token})
	return s
}

// DeployJob is the deploy job as GitLab hands it to the runner, declaring
// build as its dependency. Its Environ is the runner's: this process's
// environment without settings of ours a developer's shell may hold, the
// race runtime told not to sleep a second at exit, the host cache off.
func (s Seed) DeployJob(script string) Job {
	spec := Spec{
		APIURL: s.GL.APIURL(), ProjectID: SeedProject, PipelineID: SeedPipeline, JobID: s.Deploy.ID,
		Name: "deploy", Stage: "deploy", Token: s.Deploy.Token,
		Dependencies: []Dependency{{ID: s.Build.ID, Name: "build", ArtifactFilename: "artifacts.zip", ArtifactSize: 100}},
		Runner:       s.Runner, GitLab: s.GL.Profile(),
	}
	j := spec.Job()
	j.Script = script
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIPELINE_ARTIFACTS_") && !strings.HasPrefix(kv, "GORACE=") {
			j.Environ = append(j.Environ, kv)
		}
	}
	j.Environ = append(j.Environ, "GORACE=atexit_sleep_ms=0", "PIPELINE_ARTIFACTS_CACHE_TTL=0")
	return j
}

// StageEnv writes job's payload into tmp and returns the environment the
// runner gives one stage executable there (before job_env exists): TMPDIR,
// the exit-code variables, JOB_RESPONSE_FILE and CUSTOM_ENV_*.
func StageEnv(tmp string, job Job) ([]string, error) {
	payload := filepath.Join(tmp, "response.json")
	if err := os.WriteFile(payload, job.Response, 0o600); err != nil {
		return nil, err
	}
	env := []string{"TMPDIR=" + tmp, "BUILD_FAILURE_EXIT_CODE=1", "SYSTEM_FAILURE_EXIT_CODE=2",
		"BUILD_EXIT_CODE_FILE=" + filepath.Join(tmp, "build_exit_code"), "JOB_RESPONSE_FILE=" + payload}
	for _, k := range sortedKeys(job.Variables) {
		env = append(env, "CUSTOM_ENV_"+k+"="+job.Variables[k])
	}
	return env, nil
}

// Gone reports whether pid no longer runs; a zombie counts as gone, since
// nothing reaps orphans in some sandboxes.
func Gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(after, "Z")
}
