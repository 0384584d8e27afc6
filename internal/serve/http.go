package serve

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"
)

// writeMessage answers an error like GitLab does: {"message": …}, never with
// a 200, so that `curl -f` prints nothing and an `eval` gets nothing.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// statusRecorder remembers the status for the log and the metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	fields logrus.Fields
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type recorderKey struct{}

// observe logs and counts every request of a route. Log lines carry the
// route, status, duration and, once known, the job and pipeline; never a
// token or a header.
func (s *Service) observe(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, fields: logrus.Fields{}}
		defer func() {
			// A handler aborts a broken stream with http.ErrAbortHandler:
			// still logged and counted, then passed on to net/http.
			if p := recover(); p != nil {
				s.record(route, rec, start, true)
				panic(p)
			}
		}()
		h.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), recorderKey{}, rec)))
		s.record(route, rec, start, false)
	})
}

// record counts and logs one finished (or aborted) request.
func (s *Service) record(route string, rec *statusRecorder, start time.Time, aborted bool) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
	if route == "healthz" || route == "readyz" {
		return
	}
	rec.fields["route"], rec.fields["status"], rec.fields["duration_ms"] = route, rec.status, d.Milliseconds()
	if aborted {
		rec.fields["aborted"] = true
	}
	s.cfg.Log.WithFields(rec.fields).Info("request")
}

// setLogFields adds the caller to the request's log line.
func setLogFields(r *http.Request, c caller) {
	if rec, ok := r.Context().Value(recorderKey{}).(*statusRecorder); ok {
		rec.fields["job_id"], rec.fields["pipeline_id"], rec.fields["project_id"] = c.JobID, c.PipelineID, c.ProjectID
	}
}

// limiter is a token bucket per job token (by its SHA-256), in an LRU.
type limiter struct {
	mu    sync.Mutex
	lru   *expirable.LRU[tokenKey, *rate.Limiter]
	rate  rate.Limit
	burst int
}

func newLimiter(size int, perSecond float64, burst int) *limiter {
	return &limiter{lru: expirable.NewLRU[tokenKey, *rate.Limiter](size, nil, 10*time.Minute),
		rate: rate.Limit(perSecond), burst: burst}
}

func (l *limiter) allow(k tokenKey) bool {
	l.mu.Lock()
	lim, ok := l.lru.Get(k)
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.lru.Add(k, lim)
	}
	l.mu.Unlock()
	return lim.Allow()
}

// readiness remembers the last probe of GitLab for a few seconds, so that
// a probing orchestrator does not become GitLab load.
type readiness struct {
	mu      sync.Mutex
	checked time.Time
	err     error
}

// readyz answers 200 when GitLab answers HTTP at all: GET /version without
// a token is a 401 from a live GitLab.
func (s *Service) readyz(w http.ResponseWriter, r *http.Request) {
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	if time.Since(s.ready.checked) > 5*time.Second {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		s.ready.err = s.probe(ctx)
		s.ready.checked = time.Now()
	}
	if s.ready.err != nil {
		writeMessage(w, http.StatusServiceUnavailable, "503 GitLab unreachable")
		return
	}
	s.healthz(w, r)
}

func (s *Service) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.anon.URL("version", nil), nil)
	if err != nil {
		return err
	}
	resp, err := s.anon.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return errBadGateway
	}
	return nil
}
