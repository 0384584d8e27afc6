package serve

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// caller is the running job a request's JOB-TOKEN belongs to.
type caller struct {
	token      string // never logged, never a cache key
	JobID      int64
	Name       string
	ProjectID  string
	PipelineID int64
}

// errUnknownToken: GitLab does not know the token, or its job is not running.
var errUnknownToken = errors.New("job token refused by GitLab (unknown, or its job is not running)")

// tokenKey is how a token is named in caches: its SHA-256, never itself.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }

// tokenCache remembers for a short TTL whose token is whose, refusals
// included, so that a job's burst of calls costs GitLab one GET /job.
type tokenCache struct {
	lru    *expirable.LRU[tokenKey, tokenAnswer]
	flight singleflight.Group
}

type tokenAnswer struct {
	c   caller
	err error // nil or errUnknownToken; transient errors are not cached
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	return &tokenCache{lru: expirable.NewLRU[tokenKey, tokenAnswer](size, nil, ttl)}
}

// whoami returns the caller of token, asking GitLab's GET /job (which
// answers a job token only while its job runs) at most once per TTL.
func (s *Service) whoami(ctx context.Context, token string) (caller, error) {
	key := keyOf(token)
	if a, ok := s.tokens.lru.Get(key); ok {
		s.metrics.cacheHits.WithLabelValues("token").Inc()
		a.c.token = token
		return a.c, a.err
	}
	s.metrics.cacheMisses.WithLabelValues("token").Inc()
	v, err, _ := s.tokens.flight.Do(string(key[:]), func() (any, error) {
		// A check that ended since the miss above has filled the cache.
		if a, ok := s.tokens.lru.Get(key); ok {
			return a.c, a.err
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		c, err := s.currentJob(ctx, token)
		s.metrics.tokenChecks.WithLabelValues(checkResult(err)).Inc()
		if err == nil || errors.Is(err, errUnknownToken) {
			s.tokens.lru.Add(key, tokenAnswer{c: c, err: err})
		}
		return c, err
	})
	c, _ := v.(caller)
	c.token = token
	return c, err
}

func checkResult(err error) string {
	switch {
	case err == nil:
		return "valid"
	case errors.Is(err, errUnknownToken):
		return "refused"
	}
	return "error"
}

// currentJob asks GitLab whose token it is (GET /job, any tier, 13.10+).
func (s *Service) currentJob(ctx context.Context, token string) (caller, error) {
	var j gitlab.Job
	err := s.anon.Do(ctx, gitlab.Unit{
		Method: http.MethodGet, URL: s.anon.URL("job", nil),
		Prepare: func(r *http.Request) error { r.Header.Set("JOB-TOKEN", token); return nil },
		Handle:  func(resp *http.Response) error { return gitlab.DecodeJSON(resp, &j) },
	})
	switch {
	case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound):
		return caller{}, errUnknownToken
	case err != nil:
		return caller{}, fmt.Errorf("checking the job token: %w", err)
	case j.Pipeline == nil || j.Pipeline.ID == 0 || j.Pipeline.ProjectID == 0:
		return caller{}, errors.New("checking the job token: GitLab's GET /job named no pipeline")
	}
	return caller{JobID: j.ID, Name: j.Name, ProjectID: strconv.FormatInt(j.Pipeline.ProjectID, 10), PipelineID: j.Pipeline.ID}, nil
}

type callerHandler func(w http.ResponseWriter, r *http.Request, c caller)

// withCaller authenticates the request's JOB-TOKEN and rate-limits it. A
// missing, forged or finished job's token is 401; GitLab unreachable is 503.
func (s *Service) withCaller(h callerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("JOB-TOKEN")
		if token == "" {
			writeMessage(w, http.StatusUnauthorized, "401 Unauthorized: send the job's CI_JOB_TOKEN in a JOB-TOKEN header")
			return
		}
		if !s.limits.allow(keyOf(token)) {
			s.metrics.rateLimited.Inc()
			w.Header().Set("Retry-After", "1")
			writeMessage(w, http.StatusTooManyRequests, "429 Too Many Requests")
			return
		}
		c, err := s.whoami(r.Context(), token)
		switch {
		case errors.Is(err, errUnknownToken):
			writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
			return
		case err != nil:
			s.warn(token, 0, err.Error())
			writeMessage(w, http.StatusServiceUnavailable, "503 GitLab did not answer the token check")
			return
		}
		setLogFields(r, c)
		h(w, r, c)
	}
}

// warn logs msg masked for the admin token (in the process-wide register)
// and for this request's job token. Job tokens are not added to the
// register: a service sees every job of a fleet, and a register that only
// grows would slow every log line and never free its memory.
func (s *Service) warn(token string, jobID int64, msg string) {
	msg = secret.Mask(msg)
	if len(token) >= 8 {
		msg = strings.ReplaceAll(msg, token, secret.Placeholder)
	}
	e := s.cfg.Log
	if jobID != 0 {
		e = e.WithField("job_id", jobID)
	}
	e.Warn(msg)
}
