package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// scenario is one fan-out: many config stages of one pipeline at once.
type scenario struct {
	key, figure string
	target      *figures.Target
	opts        []gitlabtest.Option
	adminToken  bool
	cacheTTL    string // "0" turns the cache off
}

// fanOut starts b.fanout config stages of one pipeline at once and counts
// the pipeline-jobs listings GitLab sees (the goal: at most 2 on older
// GitLab, one refused job-token try and one admin listing).
func (b *bench) fanOut(ctx context.Context) error {
	n := b.fanout
	older := []gitlabtest.Option{gitlabtest.OlderGitLab()}
	for _, s := range []scenario{
		{key: "fanout.older.cache", figure: "older GitLab + admin token, cache on (TTL 30s)", opts: older,
			target: figures.AtMost(2, "≤ 2"), adminToken: true, cacheTTL: "30s"},
		{key: "fanout.older.nocache", figure: "older GitLab + admin token, cache off (contrast)", opts: older,
			target: figures.Exactly(float64(2*n), fmt.Sprintf("expect %d", 2*n)), adminToken: true, cacheTTL: "0"},
		{key: "fanout.current.cache", figure: "current GitLab (job token lists), cache on (TTL 30s)",
			target: figures.Exactly(1, "1"), cacheTTL: "30s"},
	} {
		r, err := b.runFanOut(ctx, s)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("fan-out of %d configs, %s", n, s.figure)
		b.rep.Add(figures.Figure{Key: s.key, Section: figures.SectionListing, Name: name + ": pipeline-jobs listings GitLab sees",
			Target: s.target}, float64(r.listings))
		b.addMS(figures.SectionListing, s.key+".ms", name+": first start to last exit", r.took)
	}
	return nil
}

// fanOutResult is what GitLab saw, and the wall time from the first start
// to the last exit.
type fanOutResult struct {
	listings int
	took     time.Duration
}

// runFanOut runs one scenario. Every stage must give every sibling.
func (b *bench) runFanOut(ctx context.Context, s scenario) (fanOutResult, error) {
	gl, err := serveFake(s.opts...)
	if err != nil {
		return fanOutResult{}, err
	}
	defer gl.close()
	jobs, err := b.fanOutJobs(gl, s)
	if err != nil {
		return fanOutResult{}, err
	}
	cmds := make([]*exec.Cmd, len(jobs))
	outs := make([][2]bytes.Buffer, len(jobs))
	for i, j := range jobs {
		cmds[i] = b.configCmd(ctx, j)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i][0], &outs[i][1]
	}
	start := time.Now()
	var errs []error
	for _, c := range cmds {
		errs = append(errs, c.Start())
	}
	check := expectConfig(configJobs-1, func(string) bool { return true })
	for i, c := range cmds {
		if errs[i] == nil {
			errs[i] = errors.Join(c.Wait(), check(outs[i][0].Bytes(), outs[i][1].Bytes()))
		}
	}
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return fanOutResult{}, fmt.Errorf("%s: %w", s.figure, err)
	}
	return fanOutResult{listings: gl.Count(gitlabtest.RouteJobs), took: took}, nil
}

// fanOutJobs makes a 100-job pipeline whose last b.fanout jobs are running,
// and their stage environments: a fresh cache directory shared by all.
func (b *bench) fanOutJobs(gl *fake, s scenario) ([]stageJob, error) {
	gl.addJobs(configJobs - b.fanout)
	dir, err := os.MkdirTemp(b.tmp, "fanout")
	if err != nil {
		return nil, err
	}
	settings := []string{"PIPELINE_ARTIFACTS_CACHE_DIR=" + filepath.Join(dir, "cache"), "PIPELINE_ARTIFACTS_CACHE_TTL=" + s.cacheTTL}
	if s.adminToken {
		tokenFile := filepath.Join(dir, "read_api.token")
		if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
			return nil, err
		}
		settings = append(settings, "PIPELINE_ARTIFACTS_API_TOKEN_FILE="+tokenFile)
	}
	var jobs []stageJob
	for i := 1; i <= b.fanout; i++ {
		fj := gl.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: fmt.Sprintf("deploy %d/%d", i, b.fanout),
			Stage: "deploy", Token: fmt.Sprintf("glcbt-bench-%d", i)})
		spec := runnersim.Spec{APIURL: gl.APIURL(), ProjectID: projectID, PipelineID: pipelineID, JobID: fj.ID,
			Name: fj.Name, Stage: "deploy", Token: fj.Token}
		j, err := b.newStageJob(filepath.Join(dir, fmt.Sprint(i)), spec, settings...)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}
