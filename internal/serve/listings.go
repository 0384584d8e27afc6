package serve

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// listingCache holds pipelines' job and trigger-job lists for the whole
// fleet: one GitLab listing per pipeline per TTL, however many jobs ask at
// once (single flight), in an LRU so that memory stays bounded.
type listingCache struct {
	lru    *expirable.LRU[listingKey, []gitlab.Job]
	flight singleflight.Group
	// jobTokenRefusedUntil (unix nanoseconds), for job listings [0] and
	// bridge listings [1]: GitLab refused a job token there (jobs before
	// 18.0, bridges before 19.2), so the admin token goes first until then.
	jobTokenRefusedUntil [2]atomic.Int64
}

// refusedUntil is the memo of k's kind of listing.
func (lc *listingCache) refusedUntil(k listingKey) *atomic.Int64 {
	if k.bridges {
		return &lc.jobTokenRefusedUntil[1]
	}
	return &lc.jobTokenRefusedUntil[0]
}

// listingKey names a listing in the cache. The asking project is part of
// it, as in the host cache (hooks): a listing of a related pipeline in
// another project that one project's job token may read must not be
// handed to a job of a project whose token may not.
type listingKey struct {
	asker    string
	project  string
	pipeline int64
	bridges  bool
}

func (k listingKey) String() string {
	return fmt.Sprintf("%s>%s/%d/%t", k.asker, k.project, k.pipeline, k.bridges)
}

func newListingCache(size int, ttl time.Duration) *listingCache {
	return &listingCache{lru: expirable.NewLRU[listingKey, []gitlab.Job](size, nil, ttl)}
}

// lister lists pipelines for one caller; it satisfies hooks.Lister. The
// caller's job token goes first; the admin token lists only the caller's own
// project, so that no job learns through us what its own token may not read.
type lister struct {
	s *Service
	c caller
}

func (l lister) PipelineJobs(ctx context.Context, projectID string, pipelineID int64, _ gitlab.ListOptions) ([]gitlab.Job, error) {
	return l.list(ctx, listingKey{asker: l.c.ProjectID, project: projectID, pipeline: pipelineID})
}

func (l lister) PipelineBridges(ctx context.Context, projectID string, pipelineID int64) ([]gitlab.Job, error) {
	return l.list(ctx, listingKey{asker: l.c.ProjectID, project: projectID, pipeline: pipelineID, bridges: true})
}

func (l lister) list(ctx context.Context, k listingKey) ([]gitlab.Job, error) {
	lc := l.s.listings
	if jobs, ok := lc.lru.Get(k); ok {
		l.s.metrics.cacheHits.WithLabelValues("pipeline").Inc()
		l.s.metrics.listingsSaved.Inc()
		return jobs, nil
	}
	l.s.metrics.cacheMisses.WithLabelValues("pipeline").Inc()
	v, err, shared := lc.flight.Do(k.String(), func() (any, error) {
		// A flight that ended between the miss above and this one has
		// filled the cache: take its listing rather than list again.
		if jobs, ok := lc.lru.Get(k); ok {
			return jobs, nil
		}
		// The listing outlives the first asker: others wait for it too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.s.cfg.ResolveTimeout)
		defer cancel()
		jobs, err := l.fetch(ctx, k)
		if err == nil {
			lc.lru.Add(k, jobs)
		}
		return jobs, err
	})
	if shared {
		l.s.metrics.listingsSaved.Inc()
	}
	jobs, _ := v.([]gitlab.Job)
	return jobs, err
}

// fetch lists from GitLab: job token (jobs 18.0+, bridges 19.2+), then admin token, or the other
// way round while GitLab is known to refuse job tokens there.
func (l lister) fetch(ctx context.Context, k listingKey) ([]gitlab.Job, error) {
	tries := []func() ([]gitlab.Job, error){l.withJobToken(ctx, k)}
	if l.s.admin != nil && k.project == l.c.ProjectID {
		adminFirst := time.Now().UnixNano() < l.s.listings.refusedUntil(k).Load()
		admin := func() ([]gitlab.Job, error) { return listWith(ctx, l.s.admin, k) }
		if adminFirst {
			tries = append([]func() ([]gitlab.Job, error){admin}, tries...)
		} else {
			tries = append(tries, admin)
		}
	}
	var errs []error // joined, so that callers can still branch on GitLab's status
	for _, try := range tries {
		jobs, err := try()
		if err == nil {
			return jobs, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("listing pipeline %d: %w", k.pipeline, oneLine(errs))
}

func (l lister) withJobToken(ctx context.Context, k listingKey) func() ([]gitlab.Job, error) {
	return func() ([]gitlab.Job, error) {
		c, err := l.s.client(gitlab.Credential{Kind: gitlab.JobToken, Token: l.c.token})
		if err != nil {
			return nil, err
		}
		jobs, err := listWith(ctx, c, k)
		// GitLab refuses with 403, or ignores the job token and answers as
		// to an anonymous caller: 404 Project Not Found. Only a refusal in
		// the caller's own project says what this GitLab's version does;
		// another project's refusal is that project's allowlist speaking.
		if k.project == l.c.ProjectID && (gitlab.IsStatus(err, 401, 403) || gitlab.Cause(err) == gitlab.RefusalJobTokenIgnored) {
			l.s.listings.refusedUntil(k).Store(time.Now().Add(10 * time.Minute).UnixNano())
		}
		return jobs, err
	}
}

func listWith(ctx context.Context, c *gitlab.Client, k listingKey) ([]gitlab.Job, error) {
	if k.bridges {
		return c.PipelineBridges(ctx, k.project, k.pipeline)
	}
	return c.PipelineJobs(ctx, k.project, k.pipeline, gitlab.ListOptions{})
}

// related reports whether pipeline pid of project is the caller's own, one
// of its children, or its parent. Anything else is "not found" to the
// caller, who must not learn that it exists.
func (l lister) related(ctx context.Context, project string, pid int64) (bool, error) {
	if pid == l.c.PipelineID && project == l.c.ProjectID {
		return true, nil
	}
	own, err := l.PipelineBridges(ctx, l.c.ProjectID, l.c.PipelineID)
	if err == nil && triggered(own, l.c.ProjectID, project, pid) {
		return true, nil
	}
	if project != l.c.ProjectID {
		return false, nil
	}
	return l.isParent(ctx, pid)
}

// isParent reports whether pipeline pid of the caller's project triggered
// the caller's pipeline: one of its trigger jobs started it.
func (l lister) isParent(ctx context.Context, pid int64) (bool, error) {
	if pid == l.c.PipelineID {
		return false, nil
	}
	parent, err := l.PipelineBridges(ctx, l.c.ProjectID, pid)
	if err != nil {
		if gitlab.IsStatus(err, 403, 404) {
			return false, nil
		}
		return false, err
	}
	return triggered(parent, l.c.ProjectID, l.c.ProjectID, l.c.PipelineID), nil
}

// triggered reports whether one of bridges (of a pipeline in bridgeProject)
// triggered pipeline pid of project.
func triggered(bridges []gitlab.Job, bridgeProject, project string, pid int64) bool {
	for _, b := range bridges {
		d := b.DownstreamPipeline
		if d == nil || d.ID != pid {
			continue
		}
		p := bridgeProject
		if d.ProjectID != 0 {
			p = strconv.FormatInt(d.ProjectID, 10)
		}
		if p == project {
			return true
		}
	}
	return false
}

// oneLine joins errors on one line (errors.Join uses newlines, which would
// split a log line or a warning); errors.As still finds each of them.
type oneLine []error

func (e oneLine) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e oneLine) Unwrap() []error { return e }
