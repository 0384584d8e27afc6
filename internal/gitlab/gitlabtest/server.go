// Package gitlabtest is a stateful fake GitLab for every test that talks HTTP:
// real route patterns, pagination headers, token checks, per-route fault
// injection, a request log, and an object store that reports any token that
// reaches it.
//
// A Server is a plain http.Handler. Tests start one with NewTest; another
// process (an end-to-end test driver, a demo) builds one with New and mounts it
// on its own listener. The fake never imports the client it tests.
//
// Fixture methods (AddProject, AddJob, …) panic on inconsistent input such as
// an unknown pipeline or a duplicate id: a broken fixture is a bug in the test,
// and the fake has no *testing.T to report it to.
package gitlabtest

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a fake GitLab instance. It is safe for concurrent use: fixture
// methods may run while requests are being served.
type Server struct {
	// URL is the base URL without /api/v4, e.g. http://127.0.0.1:41234.
	// NewTest sets it; when mounting the handler yourself, set it before
	// serving (it is used only by APIURL).
	URL string

	instrument
	cfg       config
	mux       *http.ServeMux
	done      chan struct{}
	closeOnce sync.Once
	ts        *httptest.Server
	caPEM     []byte

	mu sync.Mutex
	st state
}

// Option configures a Server.
type Option func(*config)

type config struct {
	tls        bool
	profile    Profile
	omitTotals bool
	perPageMax int
	latency    time.Duration
	version    string
}

// WithTLS makes NewTest start an HTTPS server; CAPEM returns its certificate.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// PerPageMax sets the largest per_page the listings honour (default 100).
func PerPageMax(n int) Option { return func(c *config) { c.perPageMax = n } }

// OmitTotals makes listings behave like queries over 10,000 rows: no
// X-Total, no X-Total-Pages and no rel="last" link.
func OmitTotals() Option { return func(c *config) { c.omitTotals = true } }

// Latency delays every API request by d before it is answered. The wait ends
// early when the request's context ends or the server is closed.
func Latency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithVersion sets what GET /version reports (default: the profile's
// ServerVersion, e.g. 18.9.0).
func WithVersion(v string) Option { return func(c *config) { c.version = v } }

// New returns a Server that is not listening anywhere: mount Handler on a
// listener and set URL. Call Close when done to release stalled handlers.
func New(opts ...Option) *Server {
	cfg := config{perPageMax: 100, profile: DefaultProfile}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.version == "" {
		cfg.version = cfg.profile.ServerVersion()
	}
	s := &Server{cfg: cfg, done: make(chan struct{}), st: newState()}
	s.mux = s.routes()
	return s
}

// NewTest starts s on an httptest server (HTTPS with WithTLS), sets s.URL, and
// closes both when the test ends.
func NewTest(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	ts := httptest.NewUnstartedServer(s)
	if s.cfg.tls {
		ts.StartTLS()
		s.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	} else {
		ts.Start()
	}
	s.ts = ts
	s.URL = ts.URL
	t.Cleanup(s.Close)
	return s
}

// Profile returns the GitLab the server plays.
func (s *Server) Profile() Profile { return s.cfg.profile }

// Handler returns s itself, for symmetry with other fakes.
func (s *Server) Handler() http.Handler { return s }

// APIURL returns URL + "/api/v4", the value of CI_API_V4_URL.
func (s *Server) APIURL() string { return s.URL + "/api/v4" }

// CAPEM returns the PEM certificate a client must trust to reach a WithTLS
// server started by NewTest, or nil.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.caPEM...) }

// Close releases every handler blocked by Stall or Latency and, for a server
// started by NewTest, shuts it down (waiting for in-flight requests). It is
// safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.ts != nil {
			s.ts.Close()
		}
	})
}

// ServeHTTP answers one request like GitLab would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// GitLab refuses path traversal before routing; net/http's mux would
	// instead redirect to the cleaned path.
	if hasDotDot(r.URL.Path) {
		route := RouteUnknown
		if strings.Contains(r.URL.Path, "/artifacts/") {
			route = RouteArtifactFile
		}
		s.handle(route, w, r, s.done, 0, func(w http.ResponseWriter, _ *http.Request) {
			writeMessage(w, http.StatusBadRequest, "400 Bad request - Invalid path")
		})
		return
	}
	if s.serveRef(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Route names one endpoint of the fake, for fault injection and the request log.
type Route string

// The routes of Server, plus RouteObject for ObjectStore.
const (
	RouteVersion         Route = "version"          // GET /version
	RouteMetadata        Route = "metadata"         // GET /metadata
	RouteJob             Route = "job"              // GET /job
	RoutePipelines       Route = "pipelines"        // GET /projects/:id/pipelines
	RoutePipeline        Route = "pipeline"         // GET /projects/:id/pipelines/:pid
	RouteJobs            Route = "jobs"             // GET /projects/:id/pipelines/:pid/jobs
	RouteBridges         Route = "bridges"          // GET /projects/:id/pipelines/:pid/bridges
	RouteTriggerJobs     Route = "trigger_jobs"     // GET /projects/:id/pipelines/:pid/trigger_jobs
	RouteProjectJob      Route = "project_job"      // GET /projects/:id/jobs/:job_id
	RouteArtifacts       Route = "artifacts"        // GET /projects/:id/jobs/:job_id/artifacts
	RouteArtifactFile    Route = "artifact_file"    // GET /projects/:id/jobs/:job_id/artifacts/*path
	RouteRunnerArtifacts Route = "runner_artifacts" // GET /jobs/:job_id/artifacts
	RouteRefDownload     Route = "ref_download"     // GET /projects/:id/jobs/artifacts/:ref/download?job=
	RouteRefRaw          Route = "ref_raw"          // GET /projects/:id/jobs/artifacts/:ref/raw/*path?job=
	RouteObject          Route = "object"           // any request to an ObjectStore
	RouteUnknown         Route = "unknown"          // no route matched (404)
)

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	on := func(pattern string, route Route, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.handle(route, w, r, s.done, s.cfg.latency, h)
		})
	}
	const p = "GET /api/v4/projects/{id}"
	on("GET /api/v4/version", RouteVersion, s.getVersion)
	on("GET /api/v4/metadata", RouteMetadata, s.getVersion)
	on("GET /api/v4/job", RouteJob, s.getCurrentJob)
	on(p+"/pipelines", RoutePipelines, s.getPipelines)
	on(p+"/pipelines/{pid}", RoutePipeline, s.getPipeline)
	on(p+"/pipelines/{pid}/jobs", RouteJobs, s.getPipelineJobs)
	on(p+"/pipelines/{pid}/bridges", RouteBridges, s.getBridges)
	on(p+"/pipelines/{pid}/trigger_jobs", RouteTriggerJobs, s.getTriggerJobs)
	on(p+"/jobs/{job_id}", RouteProjectJob, s.getProjectJob)
	on(p+"/jobs/{job_id}/artifacts", RouteArtifacts, s.getArtifacts)
	on(p+"/jobs/{job_id}/artifacts/{path...}", RouteArtifactFile, s.getArtifactFile)
	on("GET /api/v4/jobs/{job_id}/artifacts", RouteRunnerArtifacts, s.getRunnerArtifacts)
	s.packageRoutes(on)
	on("/", RouteUnknown, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	})
	return mux
}

// view runs fn with the state locked. fn must not write the response: a
// stalled write would hold the lock.
func (s *Server) view(fn func(st *state) *apiError) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(&s.st)
}

// apiError is a GitLab error answer: {"message": msg} with status.
type apiError struct {
	status int
	msg    string
}

func errorf(status int, msg string) *apiError { return &apiError{status: status, msg: msg} }

var (
	errUnauthorized = errorf(http.StatusUnauthorized, "401 Unauthorized")
	errForbidden    = errorf(http.StatusForbidden, "403 Forbidden")
	errNotFound     = errorf(http.StatusNotFound, "404 Not Found")
	// errProjectNotFound is what GitLab answers when the project is not
	// visible to the caller, anonymous callers of a private project included.
	errProjectNotFound = errorf(http.StatusNotFound, "404 Project Not Found")
)

func writeError(w http.ResponseWriter, e *apiError) { writeMessage(w, e.status, e.msg) }

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// writeJSON declares Content-Length so that CutBodyAfter can promise more than
// it sends.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic("gitlabtest: encoding response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func hasDotDot(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// baseURL is scheme://host as the client addressed us, for Link headers and
// web_url fields.
func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
