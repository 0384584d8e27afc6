package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Lister lists a pipeline's jobs; *gitlab.Client satisfies it, and so does
// the host cache in front of one.
type Lister interface {
	PipelineJobs(ctx context.Context, projectID string, pipelineID int64, o gitlab.ListOptions) ([]gitlab.Job, error)
}

// Source is one way to list the pipeline's jobs, tried in the CONTRACT's
// order: the job token, then the admin's read_api token.
type Source struct {
	Name   string // for messages: "job token", "admin token"
	Lister Lister
}

// Target is the job siblings are resolved for.
type Target struct {
	APIURL     string // CI_API_V4_URL
	ProjectID  string
	PipelineID int64
	JobID      int64
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
}

// Resolve merges the payload's declared dependencies (free, trusted) with
// the first source that lists the pipeline's jobs, keeping the latest
// attempt of each name. It never fails: what could not be listed is in
// APIErr, and the caller decides whether that fails the job (--strict).
//
// With a cache, the whole chain of sources runs at most once per pipeline
// per TTL on a host: a job-token try GitLab refuses is not repeated by every
// job waiting for the same list.
func Resolve(ctx context.Context, t Target, payload *Payload, sources []Source, cache *Cache) *Resolution {
	var deps []gitlab.Job
	if payload != nil {
		deps = payload.DependencyJobs()
	}
	fetch := func() ([]gitlab.Job, string, error) { return listFirst(ctx, t, sources) }
	var api []gitlab.Job
	var used string
	var err error
	if cache != nil && len(sources) > 0 && t.PipelineID != 0 {
		api, used, err = cache.list(ctx, t, fetch)
	} else {
		api, used, err = fetch()
	}
	r := &Resolution{Target: t, Source: SourcePayload, APIErr: err}
	if err == nil {
		r.Source = fmt.Sprintf("%s (%s)", SourceAPI, used)
		deps = inPipeline(deps, api)
	}
	r.Siblings, r.Collisions = BuildSiblings(LatestAttempts(Merge(deps, api)), t.JobID, t.APIURL, t.ProjectID)
	MarkSources(r.Siblings, deps)
	return r
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

// listFirst tries each source in order and returns the first listing. Every
// failure is kept, so that the one warning line says why each was refused.
func listFirst(ctx context.Context, t Target, sources []Source) ([]gitlab.Job, string, error) {
	if t.PipelineID == 0 || t.ProjectID == "" {
		return nil, "", errors.New("the job's pipeline or project id is unknown")
	}
	if len(sources) == 0 {
		return nil, "", errors.New("no token to list the pipeline's jobs")
	}
	var why []string
	for _, s := range sources {
		jobs, err := s.Lister.PipelineJobs(ctx, t.ProjectID, t.PipelineID, gitlab.ListOptions{})
		if err == nil {
			return jobs, s.Name, nil
		}
		why = append(why, fmt.Sprintf("%s: %v", s.Name, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, "", errors.New(strings.Join(why, "; "))
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
