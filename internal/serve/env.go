package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// ParentPipelineParam names the pipeline that triggered the caller's
// (CI_UPSTREAM_PIPELINE_ID, GitLab 18.9+, or PIPELINE_ARTIFACTS_PARENT_PIPELINE_ID).
// The service believes it only if one of that pipeline's trigger jobs
// started the caller's pipeline: not for the caller's own pipeline or one
// of its children, which would list them again as PARENT__<N>.
const ParentPipelineParam = "parent_pipeline"

// env answers GET /v1/env: what `pipeline-artifacts env` prints for the
// caller. Only a complete answer is a 200; anything else is an error status
// with a short body, which `curl -f` does not print, so `eval` gets nothing.
// There is no manifest file in this mode: PIPELINE_ARTIFACTS_MANIFEST is not
// set (GET /v1/env?format=json has every variable).
func (s *Service) env(w http.ResponseWriter, r *http.Request, c caller) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = hooks.DefaultFormat
	}
	res, release, ok := s.resolved(w, r, c)
	if !ok {
		return
	}
	defer release()
	var body bytes.Buffer
	body.WriteString(comments(format, res))
	if err := hooks.Render(&body, format, hooks.Variables(res.Siblings, "")); err != nil {
		writeMessage(w, http.StatusBadRequest, "400 "+err.Error())
		return
	}
	w.Header().Set("Content-Type", contentTypeOf(format))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body.Bytes())
}

// resolve resolves the caller's siblings. The work a pipeline's jobs share
// (its family's siblings, with nobody left out) is done once per TTL; each
// caller then only leaves itself out. Where job names collide on a variable
// name, leaving one out can change another's suffix, so such a pipeline is
// resolved for each caller in full.
func (s *Service) resolve(ctx context.Context, r *http.Request, c caller) *hooks.Resolution {
	l := lister{s: s, c: c}
	t := hooks.Target{APIURL: s.publicAPI, ProjectID: c.ProjectID, PipelineID: c.PipelineID, Children: true}
	if p, err := strconv.ParseInt(r.URL.Query().Get(ParentPipelineParam), 10, 64); err == nil && p > 0 {
		if ok, _ := l.isParent(ctx, p); ok {
			t.ParentPipelineID = p
		}
	}
	sources := []hooks.Source{{Name: "pipeline-artifacts serve", Lister: l}}
	family := s.family(ctx, t, sources)
	if family.APIErr != nil || len(family.Collisions) > 0 {
		t.JobID = c.JobID
		return hooks.Resolve(ctx, t, nil, sources, nil)
	}
	return withoutCaller(family, c)
}

// familyKey names a pipeline family's shared resolution.
type familyKey struct {
	project          string
	pipeline, parent int64
}

type familyCache struct {
	lru    *expirable.LRU[familyKey, *hooks.Resolution]
	flight singleflight.Group
}

func newFamilyCache(size int, ttl time.Duration) *familyCache {
	return &familyCache{lru: expirable.NewLRU[familyKey, *hooks.Resolution](size, nil, ttl)}
}

// family returns the siblings of every job of t's pipeline family, with
// nobody left out, resolved once per TTL.
func (s *Service) family(ctx context.Context, t hooks.Target, sources []hooks.Source) *hooks.Resolution {
	k := familyKey{project: t.ProjectID, pipeline: t.PipelineID, parent: t.ParentPipelineID}
	if res, ok := s.families.lru.Get(k); ok {
		s.metrics.cacheHits.WithLabelValues("family").Inc()
		return res
	}
	s.metrics.cacheMisses.WithLabelValues("family").Inc()
	v, _, _ := s.families.flight.Do(fmt.Sprint(k), func() (any, error) {
		// A resolution that ended since the miss above has filled the cache.
		if res, ok := s.families.lru.Get(k); ok {
			return res, nil
		}
		res := hooks.Resolve(context.WithoutCancel(ctx), t, nil, sources, nil)
		if res.APIErr == nil {
			s.families.lru.Add(k, res)
		}
		return res, nil
	})
	return v.(*hooks.Resolution)
}

// withoutCaller is the family's resolution as the caller sees it: every
// attempt of its own name left out of its own pipeline.
func withoutCaller(family *hooks.Resolution, c caller) *hooks.Resolution {
	res := *family
	res.JobID = c.JobID
	res.Siblings = make([]hooks.Sibling, 0, len(family.Siblings))
	for _, sib := range family.Siblings {
		if sib.Relation == "" && (sib.Name == c.Name || sib.ID == c.JobID) {
			continue
		}
		res.Siblings = append(res.Siblings, sib)
	}
	return &res
}

// comments are the warnings of a partial answer as comment lines, for the
// formats whose readers skip them (sh and PowerShell both read # as a
// comment). A warning is one line: GitLab's messages must not start a command.
func comments(format string, res *hooks.Resolution) string {
	if format != "sh" && format != "powershell" {
		return ""
	}
	warnings := res.Manifest().Warnings
	var b strings.Builder
	for _, w := range warnings {
		w = strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r < 0x20 {
				return ' '
			}
			return r
		}, secret.Mask(w))
		b.WriteString("# pipeline-artifacts: " + w + "\n")
	}
	return b.String()
}

func contentTypeOf(format string) string {
	if format == "json" {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// resolved resolves the caller's siblings within the resolve timeout,
// holding one of the service's slots for answers built at once; the caller
// calls release once its answer is written. It has answered the request
// (503 busy, 502 GitLab did not answer) when ok is false.
func (s *Service) resolved(w http.ResponseWriter, r *http.Request, c caller) (res *hooks.Resolution, release func(), ok bool) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ResolveTimeout)
	defer cancel()
	if !s.acquire(ctx) {
		writeMessage(w, http.StatusServiceUnavailable, "503 busy")
		return nil, nil, false
	}
	res = s.resolve(ctx, r, c)
	if res.APIErr != nil {
		s.release()
		s.warn(c.token, c.JobID, "siblings not listed: "+res.APIErr.Error())
		writeMessage(w, http.StatusBadGateway, "502 siblings not listed: GitLab did not answer")
		return nil, nil, false
	}
	return res, s.release, true
}

// manifest answers GET /v1/manifest: the resolution as the manifest file
// PIPELINE_ARTIFACTS_MANIFEST points to, for clients (env --server, the
// stage subcommands) that write that file on the job's side.
func (s *Service) manifest(w http.ResponseWriter, r *http.Request, c caller) {
	res, release, ok := s.resolved(w, r, c)
	if !ok {
		return
	}
	defer release()
	body, err := json.Marshal(res.Manifest())
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "500 encoding the manifest")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n'))
}

// acquire takes one of the slots that bound how many answers are built at
// once: a burst of a whole fleet queues here instead of holding every
// answer in memory together. It fails when ctx ends first.
func (s *Service) acquire(ctx context.Context) bool {
	select {
	case s.work <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Service) release() { <-s.work }
