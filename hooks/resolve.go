package hooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Lister lists a pipeline's jobs and trigger jobs; *gitlab.Client satisfies it.
type Lister interface {
	PipelineJobs(ctx context.Context, projectID string, pipelineID int64, o gitlab.ListOptions) ([]gitlab.Job, error)
	PipelineBridges(ctx context.Context, projectID string, pipelineID int64) ([]gitlab.Job, error)
}

// JobFinder answers GET /job for a job token: the token's own job, whose
// pipeline.id a pipeline cannot redefine. *gitlab.Client satisfies it.
type JobFinder interface {
	CurrentJob(ctx context.Context) (*gitlab.Job, error)
}

// Source is one way to list the pipeline's jobs, tried in order: the job
// token, then the admin's read_api token.
type Source struct {
	Name   string // for messages: "job token", "admin token"
	Lister Lister
	// SameProjectOnly keeps a source to the job's own project: the admin
	// token must not read other projects because a job variable said so.
	SameProjectOnly bool
	// Self, set on the job token's source only, checks the pipeline id a
	// variable claimed (see Resolve).
	Self JobFinder
}

// Target is the job siblings are resolved for.
type Target struct {
	APIURL     string // CI_API_V4_URL
	ProjectID  string
	PipelineID int64
	JobID      int64
	// ParentPipelineID is the pipeline that triggered this one (0: none), in
	// ParentProjectID ("" or the same id: this project).
	ParentPipelineID int64
	ParentProjectID  string
	// Children adds the jobs of pipelines this pipeline's bridges triggered.
	Children bool
}

// Resolution is what a job is told about its siblings.
type Resolution struct {
	Target
	Siblings   []Sibling
	Collisions [][]string
	// Source is SourceAPI plus the credential that listed the jobs, or
	// SourcePayload when only the runner's payload answered.
	Source string
	// APIErr says why no listing answered (nil when one did); the job then
	// knows only its declared dependencies.
	APIErr error
	// Warnings about what the job asked for or would silently miss: a
	// parent pipeline that could not be listed, a pipeline id that was not
	// the job's own.
	Warnings []string
	// Notes are facts for the debug log and doctor, never a warning: e.g.
	// this GitLab refuses the job token on /bridges and no admin token is
	// configured, so child pipelines are not looked for. A pipeline without
	// children must not get a warning in every job.
	Notes []string
}

// resolver lists through the sources, with the host cache when there is one.
type resolver struct {
	t       Target
	sources []Source
	cache   *Cache
}

// Resolve merges the payload's declared dependencies (free, trusted) with
// the first source that lists the pipeline's jobs, keeping the latest
// attempt of each name, then adds related pipelines' jobs under their
// prefixes. It never fails: what could not be listed is in APIErr and
// Warnings, and the caller decides whether that fails the job (--strict).
//
// With a cache, the whole chain of sources runs at most once per pipeline
// per TTL on a host: a job-token try GitLab refuses is not repeated by every
// job waiting for the same list.
//
// The pipeline id comes from a job variable (CI_PIPELINE_ID) unless the
// caller had a better one, and a pipeline's author can redefine variables.
// Runners before 19.0 do not put job_info.pipeline_id in JOB_RESPONSE_FILE
// (absent from common/network.go@v17.9.3 and every tag to v18.11; it came
// with common/spec/spec.go@v19.0.0, commit b3f74d7f8), and where present it
// is only what GitLab sent, so it cannot be relied on alone. The check costs nothing in the common case: a
// listing of the right pipeline contains the job itself (t.JobID, from the
// payload's id, which no variable overrides). Only when it does not — or the
// id is unknown — is GET /job asked with the job token (Source.Self): it
// answers the token's own job with pipeline.id, one round trip.
func Resolve(ctx context.Context, t Target, payload *Payload, sources []Source, cache *Cache) *Resolution {
	var deps []gitlab.Job
	if payload != nil {
		deps = payload.DependencyJobs()
	}
	rv := resolver{t: t, sources: sources, cache: cache}
	r := &Resolution{Target: t, Source: SourcePayload}
	own, used, err := rv.ownPipeline(ctx, r)
	r.Target, r.APIErr = rv.t, err
	api := own.Jobs
	if err == nil {
		r.Source = fmt.Sprintf("%s (%s)", SourceAPI, used)
		deps = inPipeline(deps, api)
	}
	r.Siblings, r.Collisions = BuildSiblings(LatestAttempts(Merge(deps, api)), t.JobID, t.APIURL, t.ProjectID)
	MarkSources(r.Siblings, deps)
	if err == nil { // what cannot list this pipeline cannot list its relatives: one warning is enough
		r.addRelated(ctx, rv, own)
	}
	return r
}

// ownPipeline lists the job's pipeline, first making sure the pipeline id
// is the job's own (see Resolve). It may correct rv.t.PipelineID.
func (rv *resolver) ownPipeline(ctx context.Context, r *Resolution) (listing, string, error) {
	t, self := rv.t, rv.self()
	var own listing
	var used string
	var listErr error
	if t.PipelineID != 0 {
		own, used, listErr = rv.pipeline(ctx, t.ProjectID, t.PipelineID, t.Children)
		// A pipeline that does not exist (404: a redefined CI_PIPELINE_ID)
		// is corrected by GET /job like one that does not hold the job.
		missing := gitlab.IsStatus(listErr, http.StatusNotFound)
		if (listErr != nil && !missing) || t.JobID == 0 || self == nil || (listErr == nil && containsJob(own.Jobs, t.JobID)) {
			return own, used, listErr
		}
	} else if self == nil {
		return rv.pipeline(ctx, t.ProjectID, 0, t.Children) // fails: id unknown
	}
	j, err := self.CurrentJob(ctx)
	switch {
	case err != nil || j.Pipeline == nil || j.Pipeline.ID == 0 || (t.JobID != 0 && j.ID != t.JobID):
		if t.PipelineID == 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("GET /job did not name the job's pipeline: %v", err))
			return rv.pipeline(ctx, t.ProjectID, 0, t.Children)
		}
		if listErr != nil {
			return own, used, listErr
		}
		// Siblings from a pipeline nobody confirmed are the job's to know
		// about: they are used, and the job log says so.
		r.Warnings = append(r.Warnings, fmt.Sprintf("pipeline %d does not list this job and GET /job did not confirm it (%v): its jobs may not be this job's siblings",
			t.PipelineID, orNone(err)))
		return own, used, nil
	case j.Pipeline.ID == t.PipelineID: // a listing cached before this job's retry
		return own, used, listErr
	case t.PipelineID != 0:
		r.Warnings = append(r.Warnings, fmt.Sprintf("CI_PIPELINE_ID %d is not this job's pipeline: GitLab says %d (GET /job); using %d",
			t.PipelineID, j.Pipeline.ID, j.Pipeline.ID))
	}
	rv.t.PipelineID, rv.t.JobID = j.Pipeline.ID, j.ID
	return rv.pipeline(ctx, t.ProjectID, rv.t.PipelineID, t.Children)
}

func orNone(err error) any {
	if err == nil {
		return "another job's answer"
	}
	return err
}

func (rv *resolver) self() JobFinder {
	for _, s := range rv.sources {
		if s.Self != nil {
			return s.Self
		}
	}
	return nil
}

func containsJob(jobs []gitlab.Job, id int64) bool {
	for _, j := range jobs {
		if j.ID == id {
			return true
		}
	}
	return false
}

// listing is what one pipeline's listing gave: its jobs and, when asked
// for, its trigger jobs (whose failure alone never fails the listing).
type listing struct {
	Jobs       []gitlab.Job `json:"jobs"`
	Bridges    []gitlab.Job `json:"bridges,omitempty"`
	BridgesErr string       `json:"bridges_error,omitempty"`
	// BridgesRefused: every source was refused (401/403/404), as a job
	// token is on 18.x /bridges when no admin token is configured. That
	// is a fact about this GitLab, not a problem of this pipeline.
	BridgesRefused bool `json:"bridges_refused,omitempty"`
}

// pipeline lists one pipeline's jobs and, when asked, its bridges, each
// through the sources in order (GitLab 18.x takes the job token for jobs
// but not for bridges: the admin token may answer those), through the cache
// when there is one: one entry, one lock and one file read per pipeline.
func (rv resolver) pipeline(ctx context.Context, projectID string, pipelineID int64, withBridges bool) (listing, string, error) {
	jobs := func(l Lister) (listing, error) {
		jobs, err := l.PipelineJobs(ctx, projectID, pipelineID, gitlab.ListOptions{})
		return listing{Jobs: jobs}, err
	}
	bridges := func(l Lister) (listing, error) {
		b, err := l.PipelineBridges(ctx, projectID, pipelineID)
		return listing{Bridges: b}, err
	}
	fetch := func() (listing, string, error) {
		if !withBridges {
			return rv.first(ctx, projectID, pipelineID, jobs)
		}
		// Jobs and trigger jobs are listed at once: they do not depend on
		// each other, and the trigger jobs may take two requests of their
		// own (/trigger_jobs, then /bridges before GitLab 19.2).
		type answer struct {
			l   listing
			err error
		}
		bc := make(chan answer, 1)
		go func() {
			b, _, err := rv.first(ctx, projectID, pipelineID, bridges)
			bc <- answer{b, err}
		}()
		out, used, err := rv.first(ctx, projectID, pipelineID, jobs)
		b := <-bc
		if err != nil {
			return out, used, err
		}
		out.Bridges = b.l.Bridges
		if b.err != nil {
			out.BridgesErr, out.BridgesRefused = b.err.Error(), allRefused(b.err)
		}
		return out, used, nil
	}
	if rv.cache == nil || len(rv.sources) == 0 || pipelineID == 0 {
		return fetch()
	}
	return rv.cache.list(ctx, rv.cacheKey(projectID, pipelineID, withBridges), fetch)
}

// cacheKey names a listing in the host cache. The asking project is part of
// it: a job must not read from the cache what only another project's token
// could list.
func (rv resolver) cacheKey(projectID string, pipelineID int64, withBridges bool) string {
	return fmt.Sprintf("pipeline|%t|%s|%s|%s|%d", withBridges, rv.t.APIURL, rv.t.ProjectID, projectID, pipelineID)
}

// first tries each source in order and returns the first answer. Every
// failure is kept, so that the one warning line says why each was refused.
func (rv resolver) first(ctx context.Context, projectID string, pipelineID int64, call func(Lister) (listing, error)) (listing, string, error) {
	if pipelineID == 0 || projectID == "" {
		return listing{}, "", errors.New("the job's pipeline or project id is unknown")
	}
	var why sourceErrors
	for _, s := range rv.sources {
		if s.SameProjectOnly && projectID != rv.t.ProjectID {
			continue
		}
		l, err := call(s.Lister)
		if err == nil {
			return l, s.Name, nil
		}
		why = append(why, fmt.Errorf("%s: %w", s.Name, err))
		if ctx.Err() != nil {
			break
		}
	}
	if len(why) == 0 {
		return listing{}, "", errors.New("no token to list the pipeline's jobs")
	}
	return listing{}, "", why
}

// sourceErrors is every source's failure, on one line.
type sourceErrors []error

func (e sourceErrors) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (e sourceErrors) Unwrap() []error { return e }

// allRefused reports whether every source got a refusal (401, 403, 404)
// rather than a failure worth a warning (a timeout, a 5xx).
func allRefused(err error) bool {
	var errs sourceErrors
	if !errors.As(err, &errs) {
		return false
	}
	for _, e := range errs {
		if !gitlab.IsStatus(e, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound) {
			return false
		}
	}
	return true
}

// inPipeline drops payload dependencies the pipeline's listing does not
// name: needs:project and needs:pipeline:job bring jobs of other pipelines,
// whose URL would not be under this project.
func inPipeline(deps, api []gitlab.Job) []gitlab.Job {
	names := make(map[string]bool, len(api))
	for _, j := range api {
		names[j.Name] = true
	}
	kept := deps[:0:0]
	for _, d := range deps {
		if names[d.Name] {
			kept = append(kept, d)
		}
	}
	return kept
}

// Manifest returns the manifest for the resolution; warnings are one line
// each, as in the job log.
func (r *Resolution) Manifest() Manifest {
	m := Manifest{
		Version: ManifestVersion, PipelineID: r.PipelineID, ProjectID: r.ProjectID,
		JobID: r.JobID, Source: r.Source, Siblings: r.Siblings,
	}
	if w := CollisionWarning(r.Collisions); w != "" {
		m.Warnings = append(m.Warnings, w)
	}
	if r.APIErr != nil {
		m.Warnings = append(m.Warnings, "siblings not listed: "+r.APIErr.Error())
	}
	m.Warnings = append(m.Warnings, r.Warnings...)
	if m.Siblings == nil {
		m.Siblings = []Sibling{}
	}
	return m
}

// IsOurVariable reports whether a variable name is one we inject.
func IsOurVariable(name string) bool {
	return name == ManifestVar || strings.HasPrefix(name, URLPrefix) ||
		strings.HasPrefix(name, JobIDPrefix) || strings.HasPrefix(name, GroupURLPrefix)
}
