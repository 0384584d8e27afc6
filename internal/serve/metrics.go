package serve

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the service's Prometheus series, all pipeline_artifacts_*.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec   // route, code
	duration      *prometheus.HistogramVec // route
	gitlabCalls   *prometheus.CounterVec   // call, code
	cacheHits     *prometheus.CounterVec   // cache
	cacheMisses   *prometheus.CounterVec   // cache
	listingsSaved prometheus.Counter
	tokenChecks   *prometheus.CounterVec // result
	rateLimited   prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pipeline_artifacts_http_requests_total",
			Help: "Requests answered, by route and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pipeline_artifacts_http_request_duration_seconds",
			Help: "Time to answer (archives: to the last byte), by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		gitlabCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pipeline_artifacts_gitlab_requests_total",
			Help: "Requests sent to GitLab, by call and status code (0: no answer)."}, []string{"call", "code"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pipeline_artifacts_cache_hits_total",
			Help: "Answers taken from a cache (pipeline listings, token checks)."}, []string{"cache"}),
		cacheMisses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pipeline_artifacts_cache_misses_total",
			Help: "Cache look-ups that found nothing."}, []string{"cache"}),
		listingsSaved: prometheus.NewCounter(prometheus.CounterOpts{Name: "pipeline_artifacts_listings_saved_total",
			Help: "Pipeline listings GitLab did not have to answer: served from cache or shared with a listing in flight."}),
		tokenChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pipeline_artifacts_token_checks_total",
			Help: "Job tokens checked with GitLab (GET /job), by result: valid, refused, error."}, []string{"result"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "pipeline_artifacts_rate_limited_total",
			Help: "Requests refused with 429 by the per-token rate limit."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.gitlabCalls, m.cacheHits, m.cacheMisses,
		m.listingsSaved, m.tokenChecks, m.rateLimited} {
		f(c)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (s *Service) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

// countingTransport counts every request the service sends GitLab (each
// page and each retry) by the kind of call.
type countingTransport struct {
	next http.RoundTripper
	m    *metrics
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	code := "0"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.m.gitlabCalls.WithLabelValues(callOf(r.URL.Path), code).Inc()
	return resp, err
}

// callOf names a GitLab request by its route, never by its ids.
func callOf(path string) string {
	i := strings.Index(path, "/api/v4/")
	if i < 0 {
		return "object_store"
	}
	p := strings.Split(strings.Trim(path[i+len("/api/v4/"):], "/"), "/")
	switch {
	case len(p) == 1:
		return p[0] // job, version
	case p[0] == "jobs":
		return "runner_artifacts"
	case len(p) == 5 && p[2] == "pipelines":
		return p[4] // jobs, bridges, trigger_jobs
	case len(p) > 5 && p[2] == "jobs" && p[4] == "artifacts":
		return "artifact_file"
	}
	return "other"
}
