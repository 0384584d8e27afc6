package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// resolveStage resolves the job's siblings for a custom-executor stage: the
// runner's payload, then the job token, then the admin token. Resolution
// problems are one warning line, or with --strict an error.
func resolveStage(ctx context.Context, se *executor.StageEnv, s Settings, log *logrus.Entry) (*hooks.Resolution, error) {
	if res, ok := resolveViaServer(ctx, s.Server, s.ResolveTimeout, se.JobVar, log); ok {
		return res, nil
	}
	payload, err := readPayload(se.JobResponseFile)
	if err != nil {
		log.Warnf("pipeline-artifacts: %v", err)
	}
	t := stageTarget(se, payload)
	sources, err := stageSources(se, s, t, payload, log)
	if err != nil && s.Strict {
		return nil, err
	} else if err != nil {
		log.Warnf("pipeline-artifacts: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.ResolveTimeout)
	defer cancel()
	start := time.Now()
	res := hooks.Resolve(ctx, t, payload, sources, s.cache())
	report(res, start, log, "Give the runner a read_api token (--api-token-file), or use a GitLab version whose job token may list pipeline jobs")
	if res.APIErr != nil && s.Strict {
		return nil, fmt.Errorf("siblings not resolved (--strict): %w", res.APIErr)
	}
	return res, nil
}

func readPayload(path string) (*hooks.Payload, error) {
	if path == "" {
		return nil, errors.New("no JOB_RESPONSE_FILE (runner older than 14.1?): declared dependencies unknown")
	}
	return hooks.ReadPayload(path)
}

// stageTarget prefers the payload's ids: job variables can be overridden by
// a pipeline's author, the payload cannot (docs/gitlab.md, "Environment of
// a stage").
func stageTarget(se *executor.StageEnv, p *hooks.Payload) hooks.Target {
	t := hooks.Target{
		APIURL:    se.JobVar("CI_API_V4_URL"),
		ProjectID: se.JobVar("CI_PROJECT_ID"),
	}
	t.PipelineID, _ = strconv.ParseInt(se.JobVar("CI_PIPELINE_ID"), 10, 64)
	t.JobID, _ = strconv.ParseInt(se.JobVar("CI_JOB_ID"), 10, 64)
	setRelated(&t, se.JobVar)
	if p != nil {
		if p.ID != 0 {
			t.JobID = p.ID
		}
		if p.JobInfo.PipelineID != 0 {
			t.PipelineID = p.JobInfo.PipelineID
		}
		if p.JobInfo.ProjectID != 0 {
			t.ProjectID = strconv.FormatInt(p.JobInfo.ProjectID, 10)
		}
	}
	return t
}

// stageSources builds the job-token and admin-token listers. The admin token
// goes only to the GitLab host the runner's payload names, never to a
// CI_API_V4_URL a pipeline redefined.
func stageSources(se *executor.StageEnv, s Settings, t hooks.Target, p *hooks.Payload, log *logrus.Entry) ([]hooks.Source, error) {
	ca, err := caPEM(se.JobVar("CI_SERVER_TLS_CA_FILE"))
	if err != nil {
		return nil, err
	}
	var sources []hooks.Source
	if tok := se.JobVar("CI_JOB_TOKEN"); tok != "" && t.APIURL != "" {
		c, err := newClient(t.APIURL, gitlab.Credential{Kind: gitlab.JobToken, Token: tok}, ca, log)
		if err != nil {
			return nil, err
		}
		// Self: GET /job confirms the pipeline id when the listing of
		// CI_PIPELINE_ID does not hold this job.
		sources = append(sources, hooks.Source{Name: "job token", Lister: c, Self: c})
	}
	admin, err := adminSource(s, t, p, ca, log)
	if admin != nil {
		sources = append(sources, *admin)
	}
	return sources, err
}

func adminSource(s Settings, t hooks.Target, p *hooks.Payload, ca []byte, log *logrus.Entry) (*hooks.Source, error) {
	if s.APITokenFile == "" || t.APIURL == "" {
		return nil, nil
	}
	if p != nil {
		if err := executor.PinnedHost(t.APIURL, p.ServerHost); err != nil {
			return nil, fmt.Errorf("admin token withheld: %w", err)
		}
	}
	tok, err := readTokenFile(s.APITokenFile)
	if err != nil {
		return nil, err
	}
	c, err := newClient(t.APIURL, gitlab.Credential{Kind: gitlab.PrivateToken, Token: tok}, ca, log)
	if err != nil {
		return nil, err
	}
	return &hooks.Source{Name: "admin token", Lister: c, SameProjectOnly: true}, nil
}

// report writes the job-log summary: one collapsed section whose header is
// the summary line and whose body lists each sibling's variable, then the
// warnings, outside the section so that they stay visible.
func report(res *hooks.Resolution, start time.Time, log *logrus.Entry, hint string) {
	end := time.Now()
	header := fmt.Sprintf("pipeline-artifacts: %s of pipeline %d from %s in %s", plural(len(res.Siblings), "sibling"), res.PipelineID, res.Source, end.Sub(start).Round(time.Millisecond))
	section("pipeline_artifacts_siblings", header, start, end, siblingLines(res.Siblings))
	if w := hooks.CollisionWarning(res.Collisions); w != "" {
		log.Warn("pipeline-artifacts: " + w)
	}
	for _, w := range res.Warnings {
		log.Warn("pipeline-artifacts: " + w)
	}
	// Notes are facts of this GitLab (e.g. child pipelines need an admin
	// token before 19.2), not faults of the job: debug level only.
	for _, n := range res.Notes {
		log.Debug("pipeline-artifacts: " + n)
	}
	if res.APIErr != nil {
		log.Warnf("pipeline-artifacts: siblings not listed (%v); this job sees only its %s. %s", res.APIErr, plural(len(res.Siblings), "declared dependency"), hint)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// setRelated reads which pipeline triggered this one: CI_UPSTREAM_PIPELINE_ID
// (GitLab 18.9+), else a PIPELINE_ARTIFACTS_PARENT_PIPELINE_ID the parent
// passed down (trigger: forward or variables). Children are always asked for.
func setRelated(t *hooks.Target, get func(string) string) {
	t.Children = true
	if id, err := strconv.ParseInt(get("CI_UPSTREAM_PIPELINE_ID"), 10, 64); err == nil && id > 0 {
		t.ParentPipelineID, t.ParentProjectID = id, get("CI_UPSTREAM_PROJECT_ID")
		return
	}
	if id, err := strconv.ParseInt(get("PIPELINE_ARTIFACTS_PARENT_PIPELINE_ID"), 10, 64); err == nil && id > 0 {
		t.ParentPipelineID = id
	}
}

// siblingLines is the body of the summary section: variable, job, status.
func siblingLines(sibs []hooks.Sibling) []string {
	lines := make([]string, 0, len(sibs))
	for _, s := range sibs {
		line := fmt.Sprintf("%s%s  %q #%d %s", hooks.URLPrefix, s.Var, s.Name, s.ID, s.Status)
		if s.ArtifactFilename != "" {
			line += fmt.Sprintf(" (%s, %d bytes)", s.ArtifactFilename, s.ArtifactSize)
		}
		lines = append(lines, line)
	}
	return lines
}
