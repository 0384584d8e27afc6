package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Lister lists a pipeline's jobs and trigger jobs; *gitlab.Client satisfies it.
type Lister interface {
	PipelineJobs(ctx context.Context, projectID string, pipelineID int64, o gitlab.ListOptions) ([]gitlab.Job, error)
	PipelineBridges(ctx context.Context, projectID string, pipelineID int64) ([]gitlab.Job, error)
}

// Source is one way to list the pipeline's jobs, tried in the CONTRACT's
// order: the job token, then the admin's read_api token.
type Source struct {
	Name   string // for messages: "job token", "admin token"
	Lister Lister
	// SameProjectOnly keeps a source to the job's own project: the admin
	// token must not read other projects because a job variable said so.
	SameProjectOnly bool
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
	// Warnings about related pipelines that could not be listed.
	Warnings []string
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
func Resolve(ctx context.Context, t Target, payload *Payload, sources []Source, cache *Cache) *Resolution {
	var deps []gitlab.Job
	if payload != nil {
		deps = payload.DependencyJobs()
	}
	rv := resolver{t: t, sources: sources, cache: cache}
	own, used, err := rv.pipeline(ctx, t.ProjectID, t.PipelineID, t.Children)
	api := own.Jobs
	r := &Resolution{Target: t, Source: SourcePayload, APIErr: err}
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

// listing is what one pipeline's listing gave: its jobs and, when asked
// for, its trigger jobs (whose failure alone is only a warning).
type listing struct {
	Jobs       []gitlab.Job `json:"jobs"`
	Bridges    []gitlab.Job `json:"bridges,omitempty"`
	BridgesErr string       `json:"bridges_error,omitempty"`
}

// pipeline lists one pipeline's jobs (and bridges), through the cache when
// there is one: one entry, one lock and one file read per pipeline.
func (rv resolver) pipeline(ctx context.Context, projectID string, pipelineID int64, withBridges bool) (listing, string, error) {
	call := func(l Lister) (listing, error) {
		jobs, err := l.PipelineJobs(ctx, projectID, pipelineID, gitlab.ListOptions{})
		if err != nil || !withBridges {
			return listing{Jobs: jobs}, err
		}
		out := listing{Jobs: jobs}
		if out.Bridges, err = l.PipelineBridges(ctx, projectID, pipelineID); err != nil {
			out.BridgesErr = err.Error()
		}
		return out, nil
	}
	fetch := func() (listing, string, error) { return rv.first(ctx, projectID, pipelineID, call) }
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
	var why []string
	for _, s := range rv.sources {
		if s.SameProjectOnly && projectID != rv.t.ProjectID {
			continue
		}
		l, err := call(s.Lister)
		if err == nil {
			return l, s.Name, nil
		}
		why = append(why, fmt.Sprintf("%s: %v", s.Name, err))
		if ctx.Err() != nil {
			break
		}
	}
	if len(why) == 0 {
		return listing{}, "", errors.New("no token to list the pipeline's jobs")
	}
	return listing{}, "", errors.New(strings.Join(why, "; "))
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
