// Package serve is `pipeline-artifacts serve`: one HTTP service beside a
// runner fleet that answers each job, identified by its own CI_JOB_TOKEN,
// about its pipeline and that pipeline's parent and children. A pipeline's
// jobs are listed once per TTL for the whole fleet, however many jobs ask.
//
// The admin token (--api-token-file) never leaves the service: it lists only
// the caller's own project, and every artifact byte is fetched with the
// caller's own job token.
package serve

import (
	"cmp"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// Config configures a Service. Zero values mean the documented defaults.
type Config struct {
	// GitLabURL is the instance, e.g. https://gitlab.example.com; a trailing
	// /api/v4 is accepted.
	GitLabURL string
	// PublicURL is GitLab as jobs reach it, for the URLs in their variables
	// (CI_API_V4_URL's host); default GitLabURL.
	PublicURL string
	// APIToken is a read_api token for GitLab versions whose job token may
	// not list pipeline jobs (before 18.0) or trigger jobs. "" for none.
	APIToken string
	CAPEM    []byte        // extra CAs for GitLab's certificate
	CacheTTL time.Duration // how long a pipeline listing is reused; default 10s
	TokenTTL time.Duration // how long a token check is reused; default 10s
	// MaxPipelines and MaxTokens bound the caches; defaults 2,000 and 20,000.
	MaxPipelines, MaxTokens int
	// RatePerToken requests per second and Burst per job token; defaults 5 and 20.
	RatePerToken float64
	Burst        int
	// ResolveTimeout bounds one /v1/env answer; default 20s.
	ResolveTimeout time.Duration
	// RedirectArtifacts answers the seed's endpoint with a 307 to GitLab's
	// runner route instead of streaming the archive through the service.
	RedirectArtifacts bool
	Log               *logrus.Entry
	// Registry receives the metrics; default a new registry.
	Registry *prometheus.Registry
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.CacheTTL, 10*time.Second)
	def(&c.TokenTTL, 10*time.Second)
	def(&c.ResolveTimeout, 20*time.Second)
	if c.MaxPipelines <= 0 {
		c.MaxPipelines = 2000
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = 20000
	}
	if c.RatePerToken <= 0 {
		c.RatePerToken = 5
	}
	if c.Burst <= 0 {
		c.Burst = 20
	}
	if c.Log == nil {
		c.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	return c
}

// Service answers jobs' requests. Create it with New; it is safe for
// concurrent use and holds no goroutines of its own.
type Service struct {
	cfg       Config
	apiURL    string         // <GitLabURL>/api/v4
	publicAPI string         // <PublicURL>/api/v4, for URLs handed to jobs
	anon      *gitlab.Client // no credential: token checks and readiness
	admin     *gitlab.Client // nil without APIToken
	transport http.RoundTripper
	metrics   *metrics
	tokens    *tokenCache
	listings  *listingCache
	families  *familyCache
	work      chan struct{} // slots for building answers
	limits    *limiter
	ready     *readiness
}

// New validates cfg and returns a Service. It does not contact GitLab: the
// service must start, and answer /healthz, while GitLab is down.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.GitLabURL == "" {
		return nil, errors.New("no GitLab URL (--gitlab-url)")
	}
	secret.Register(cfg.APIToken)
	s := &Service{cfg: cfg, apiURL: apiURL(cfg.GitLabURL), publicAPI: apiURL(cmp.Or(cfg.PublicURL, cfg.GitLabURL))}
	s.metrics = newMetrics(cfg.Registry)
	var err error
	if s.anon, err = s.client(gitlab.Credential{}); err != nil {
		return nil, err
	}
	s.transport = &countingTransport{next: s.anon.HTTPClient().Transport, m: s.metrics}
	s.anon.HTTPClient().Transport = s.transport
	if cfg.APIToken != "" {
		if s.admin, err = s.client(gitlab.Credential{Kind: gitlab.PrivateToken, Token: cfg.APIToken}); err != nil {
			return nil, err
		}
	}
	s.tokens = newTokenCache(cfg.MaxTokens, cfg.TokenTTL)
	s.listings = newListingCache(cfg.MaxPipelines, cfg.CacheTTL)
	s.families = newFamilyCache(cfg.MaxPipelines, cfg.CacheTTL)
	s.work = make(chan struct{}, 4*runtime.GOMAXPROCS(0))
	s.limits = newLimiter(cfg.MaxTokens, cfg.RatePerToken, cfg.Burst)
	s.ready = &readiness{}
	return s, nil
}

// client builds a GitLab client on the service's shared, counted transport:
// one connection pool for every credential. Retries are few and short, since
// a job is waiting on the other end.
func (s *Service) client(cred gitlab.Credential) (*gitlab.Client, error) {
	c, err := gitlab.New(gitlab.Options{
		BaseURL: s.apiURL, Credential: cred, CAPEM: s.cfg.CAPEM, Logger: s.cfg.Log,
		// Job tokens are masked per request (see warn); the register keeps
		// the admin token only, however many jobs the fleet runs.
		MaskedByCaller: cred.Kind == gitlab.JobToken,
		RetryMax:       2, MinWait: 200 * time.Millisecond, MaxWait: 2 * time.Second, MaxRetryAfter: 5 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	if s.transport != nil {
		c.HTTPClient().Transport = s.transport
	}
	return c, nil
}

func apiURL(gitlabURL string) string {
	u := strings.TrimRight(gitlabURL, "/")
	if !strings.HasSuffix(u, "/api/v4") {
		u += "/api/v4"
	}
	return u
}

// Handler returns the service's routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	on := func(pattern, route string, h http.HandlerFunc) {
		mux.Handle(pattern, s.observe(route, h))
	}
	on("GET /healthz", "healthz", s.healthz)
	on("GET /readyz", "readyz", s.readyz)
	mux.Handle("GET /metrics", s.metricsHandler())
	on("GET /v1/env", "env", s.withCaller(s.env))
	on("GET /v1/manifest", "manifest", s.withCaller(s.manifest))
	on("GET /api/v4/projects/{id}/pipelines/{pid}/artifacts", "archive", s.withCaller(s.archive))
	on("GET /api/v4/projects/{id}/pipelines/{pid}/artifacts/{path...}", "file", s.withCaller(s.file))
	on("/", "unknown", func(w http.ResponseWriter, _ *http.Request) {
		writeMessage(w, http.StatusNotFound, "404 Not Found")
	})
	return mux
}

func (s *Service) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}
