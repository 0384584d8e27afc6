package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// configJobs is the pipeline size of the config stage's figures.
const configJobs = 100

// What a cache hit can reach on this machine is the payload-only path that
// writes the same output (all siblings declared), measured in the same
// run: a hit does that work plus reading one cache file. cacheHitAllowed
// is the room for that read and for the noise of medians of 30 runs on 2
// shared cores. Against the payload-only path with 3 siblings, which
// writes a 33rd of the output, the ratio is for information.
const cacheHitAllowed = 1.10

// stageJob is one job as the runner hands it to the stage executables:
// its per-job directory (TMPDIR, also the working directory) and the
// stage environment.
type stageJob struct {
	dir string
	env []string
}

// newStageJob writes the job's payload and composes its environment like
// gitlab-runner: the runner's own environment, the stage variables, then
// the job's variables as CUSTOM_ENV_*. settings are our PIPELINE_ARTIFACTS_*
// variables, which come from the runner process's environment.
func (b *bench) newStageJob(dir string, spec runnersim.Spec, settings ...string) (stageJob, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return stageJob{}, err
	}
	job := spec.Job()
	response := filepath.Join(dir, "response.json")
	if err := os.WriteFile(response, job.Response, 0o600); err != nil {
		return stageJob{}, err
	}
	env := append(slices.Clone(b.environ), stageVars(dir)...)
	env = append(env, "JOB_RESPONSE_FILE="+response)
	keys := make([]string, 0, len(job.Variables))
	for k := range job.Variables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, "CUSTOM_ENV_"+k+"="+job.Variables[k])
	}
	return stageJob{dir: dir, env: append(env, settings...)}, nil
}

// configCmd runs config_exec with config_args from examples/config.toml.
func (b *bench) configCmd(ctx context.Context, j stageJob) *exec.Cmd {
	c := exec.CommandContext(ctx, b.driver.ConfigExec, b.driver.ConfigArgs...)
	c.Dir, c.Env = j.dir, j.env
	return c
}

// expectConfig checks a config stage's output: its JSON names urls
// siblings, and its log line names the source.
func expectConfig(urls int, source func(log string) bool) func(stdout, stderr []byte) error {
	return func(stdout, stderr []byte) error {
		var out struct {
			JobEnv map[string]string `json:"job_env"`
		}
		if err := json.Unmarshal(stdout, &out); err != nil {
			return fmt.Errorf("config output is not JSON: %w\n%s", err, stderr)
		}
		n := 0
		for k := range out.JobEnv {
			if strings.HasPrefix(k, "ARTIFACT_URL_") {
				n++
			}
		}
		if n != urls || !source(string(stderr)) {
			return fmt.Errorf("config gave %d ARTIFACT_URL_ variables (want %d) or an unexpected source:\n%s", n, urls, stderr)
		}
		return nil
	}
}

// The job log's summary line names where the siblings came from, e.g.
// "99 siblings of pipeline 7001 from api (job token, cached) in 1ms".
func fromAPI(log string) bool {
	return strings.Contains(log, "from api") && !strings.Contains(log, "cached")
}

func fromCache(log string) bool {
	return strings.Contains(log, "from api") && strings.Contains(log, "cached")
}

func fromPayloadOnly(log string) bool { return strings.Contains(log, "from payload") }

// configStage times the config stage for a 100-job pipeline on loopback:
// listing with the job token (cache off), the payload alone (no job token,
// so no API call) with the usual few declared dependencies and with all 99
// siblings declared, and a warm host cache.
func (b *bench) configStage(ctx context.Context) error {
	gl, err := serveFake()
	if err != nil {
		return err
	}
	defer gl.close()
	others := gl.addJobs(configJobs - 1)
	self := gl.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: "glcbt-bench-deploy"})
	spec := runnersim.Spec{APIURL: gl.APIURL(), ProjectID: projectID, PipelineID: pipelineID, JobID: self.ID,
		Name: self.Name, Stage: "deploy", Token: self.Token, Dependencies: dependencies(others[:3])}
	kinds, err := b.configKinds(ctx, spec, dependencies(others))
	if err != nil {
		return err
	}
	const warmup = 3
	before := gl.Count(gitlabtest.RouteJobs)
	m, err := measure(kinds, b.configRuns, warmup)
	if err != nil {
		return err
	}
	// Only the cache-off kind may list: the cache hits must not.
	if n := gl.Count(gitlabtest.RouteJobs) - before; n != b.configRuns+warmup {
		return fmt.Errorf("GitLab saw %d listings, want %d (one per cache-off run)", n, b.configRuns+warmup)
	}
	b.reportConfig(m[0], m[1], m[2], m[3])
	return nil
}

func dependencies(jobs []*gitlabtest.FakeJob) []runnersim.Dependency {
	deps := make([]runnersim.Dependency, 0, len(jobs))
	for _, j := range jobs {
		deps = append(deps, runnersim.Dependency{ID: j.ID, Name: j.Name})
	}
	return deps
}

// configKinds are the ways of running config; the cache is warmed here so
// that every measured run of the last is a hit.
func (b *bench) configKinds(ctx context.Context, spec runnersim.Spec, all []runnersim.Dependency) ([]kind, error) {
	dir := filepath.Join(b.tmp, "config")
	cacheOff := "PIPELINE_ARTIFACTS_CACHE_TTL=0"
	payloadSpec := spec
	payloadSpec.Token = ""
	fullSpec := payloadSpec
	fullSpec.Dependencies = all
	var jobs [4]stageJob
	for i, j := range []struct {
		name     string
		spec     runnersim.Spec
		settings []string
	}{
		{"api", spec, []string{cacheOff}},
		{"payload", payloadSpec, []string{cacheOff}},
		{"payload-full", fullSpec, []string{cacheOff}},
		{"hit", spec, []string{"PIPELINE_ARTIFACTS_CACHE_DIR=" + filepath.Join(dir, "cache"), "PIPELINE_ARTIFACTS_CACHE_TTL=1h"}},
	} {
		var err error
		if jobs[i], err = b.newStageJob(filepath.Join(dir, j.name), j.spec, j.settings...); err != nil {
			return nil, err
		}
	}
	cmd := func(j stageJob) func() *exec.Cmd { return func() *exec.Cmd { return b.configCmd(ctx, j) } }
	siblings := configJobs - 1
	warm := kind{name: "config (warming the cache)", cmd: cmd(jobs[3]), check: expectConfig(siblings, fromAPI)}
	if _, err := warm.once(); err != nil {
		return nil, err
	}
	return []kind{
		{name: "config, API", cmd: cmd(jobs[0]), check: expectConfig(siblings, fromAPI)},
		{name: "config, payload only", cmd: cmd(jobs[1]), check: expectConfig(len(spec.Dependencies), fromPayloadOnly)},
		{name: "config, payload only, all declared", cmd: cmd(jobs[2]), check: expectConfig(siblings, fromPayloadOnly)},
		{name: "config, cache hit", cmd: cmd(jobs[3]), check: expectConfig(siblings, fromCache)},
	}, nil
}

func (b *bench) reportConfig(api, payload, payloadFull, hit time.Duration) {
	n := fmt.Sprintf(" (median of %d)", b.configRuns)
	b.addMS(figures.SectionResolve, "config.api", fmt.Sprintf("config, %d-job pipeline, loopback, the job token lists it, cache off", configJobs)+n, api)
	b.addMS(figures.SectionResolve, "config.payload", "config, payload only (3 declared dependencies, no job token, no API call)"+n, payload)
	b.addMS(figures.SectionListing, "config.hit", "config, cache hit (warm cache, TTL 1h)"+n, hit)
	b.addRatio(figures.SectionListing, "config.hit.ratio", "config, cache hit / payload only (3 siblings: a 33rd of the output)", hit, payload, nil)
	b.addMS(figures.SectionListing, "config.payloadfull", fmt.Sprintf("config, payload only with all %d siblings declared (same output as a hit)", configJobs-1)+n, payloadFull)
	b.addRatio(figures.SectionListing, "config.hit.fullratio", "config, cache hit / payload only with all siblings declared (same output: reachable here)", hit, payloadFull,
		figures.AtMost(cacheHitAllowed, fmt.Sprintf("≤ %.2f× (reachable + one cache read, noise)", cacheHitAllowed)))
}
