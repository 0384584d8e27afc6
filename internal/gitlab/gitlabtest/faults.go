package gitlabtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// instrument is what a test steers on a Server or an ObjectStore: per-route
// faults, throttling and the request log. Its methods are promoted to both.
type instrument struct {
	mu     sync.Mutex
	routes map[Route]*routeState
	log    []Request
}

// routeState holds a route's pending faults (consumed one per request, in the
// order they were added) and its standing settings.
type routeState struct {
	queue      []*fault
	noRanges   bool
	retryAfter string
	reset      int64
	throttle   int
	hooks      []func(n int)
}

type faultKind int

const (
	faultFail faultKind = iota
	faultCut
	faultTruncate
	faultStall
)

type fault struct {
	kind   faultKind
	status int // faultFail
	count  int // faultFail: requests left
	n      int // body faults: bytes sent before the fault strikes
}

// errInjected stops a handler's copy loop once a body fault has struck.
var errInjected = errors.New("gitlabtest: injected fault")

func (in *instrument) route(r Route) *routeState {
	if in.routes == nil {
		in.routes = map[Route]*routeState{}
	}
	if in.routes[r] == nil {
		in.routes[r] = &routeState{}
	}
	return in.routes[r]
}

func (in *instrument) push(r Route, f *fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	rs := in.route(r)
	rs.queue = append(rs.queue, f)
}

// FailNext answers the route's next n requests with status and no real work:
// JSON {"message": "503 Service Unavailable"}, or GitLab's plain-text
// "Retry later" for 429.
func (in *instrument) FailNext(route Route, n, status int) {
	if n > 0 {
		in.push(route, &fault{kind: faultFail, status: status, count: n})
	}
}

// RetryAfter adds "Retry-After: seconds" to the route's FailNext answers from
// now on (it injects nothing by itself).
func (in *instrument) RetryAfter(route Route, seconds int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.route(route).retryAfter = strconv.Itoa(seconds)
}

// RateLimitReset adds RateLimit-Reset (Unix time) and RateLimit-ResetTime
// (HTTP date) to the route's FailNext answers from now on.
func (in *instrument) RateLimitReset(route Route, unix int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.route(route).reset = unix
}

// CutBodyAfter makes the route's next response declare its full
// Content-Length, send n body bytes and close the connection: the client sees
// an unexpected EOF or a reset.
func (in *instrument) CutBodyAfter(route Route, n int) {
	in.push(route, &fault{kind: faultCut, n: max(n, 0)})
}

// TruncateSilently makes the route's next response drop Content-Length (so it
// is chunked) and end cleanly after n body bytes. Only a size known from
// elsewhere (artifacts_file.size, Content-Range) reveals the loss.
func (in *instrument) TruncateSilently(route Route, n int) {
	in.push(route, &fault{kind: faultTruncate, n: max(n, 0)})
}

// Stall makes the route's next response send its headers and first body byte,
// then hang until the client gives up (its request context ends) or the
// server is closed; the connection is then dropped.
func (in *instrument) Stall(route Route) { in.StallAfter(route, 1) }

// StallAfter is Stall after n body bytes.
func (in *instrument) StallAfter(route Route, n int) {
	in.push(route, &fault{kind: faultStall, n: max(n, 0)})
}

// NoRanges makes the route ignore Range and If-Range from now on, always
// answering 200 with the whole body, like a server without range support.
// Unlike the one-shot faults it stays until ClearFaults.
func (in *instrument) NoRanges(route Route) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.route(route).noRanges = true
}

// ThrottleBytesPerSec paces every response body on the route to at most n
// bytes per second, each request on its own (like a per-connection cap). Zero
// removes the cap.
func (in *instrument) ThrottleBytesPerSec(route Route, n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.route(route).throttle = n
}

// ClearFaults drops the route's pending faults and standing settings
// (NoRanges, RetryAfter, RateLimitReset, ThrottleBytesPerSec).
func (in *instrument) ClearFaults(route Route) {
	in.mu.Lock()
	defer in.mu.Unlock()
	rs := in.route(route)
	*rs = routeState{hooks: rs.hooks}
}

// PendingFaults counts the requests the route's queued faults will still
// affect, so a test can check that every injected fault was hit.
func (in *instrument) PendingFaults(route Route) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, f := range in.route(route).queue {
		n += max(f.count, 1)
	}
	return n
}

// plan is what one request gets: a failure, or a body fault and settings.
type plan struct {
	fail       int
	retryAfter string
	reset      int64
	body       *fault
	noRanges   bool
	throttle   int
}

// take consumes the route's next fault. A HEAD request has no body to cut,
// so body faults wait for the next request that has one.
func (in *instrument) take(route Route, head bool) plan {
	in.mu.Lock()
	defer in.mu.Unlock()
	rs := in.route(route)
	p := plan{retryAfter: rs.retryAfter, reset: rs.reset, noRanges: rs.noRanges, throttle: rs.throttle}
	if len(rs.queue) == 0 {
		return p
	}
	f := rs.queue[0]
	switch {
	case f.kind == faultFail:
		p.fail = f.status
		if f.count--; f.count > 0 {
			return p
		}
	case head:
		return p
	default:
		p.body = f
	}
	rs.queue = rs.queue[1:]
	return p
}

// handle serves one request on route through everything the test injected.
func (in *instrument) handle(route Route, w http.ResponseWriter, r *http.Request,
	done <-chan struct{}, latency time.Duration, next http.HandlerFunc) {
	for _, hook := range in.record(route, r) {
		hook()
	}
	if latency > 0 && !pause(r.Context(), done, latency) {
		if r.Context().Err() == nil {
			writeMessage(w, http.StatusServiceUnavailable, "503 Service Unavailable")
		}
		return
	}
	p := in.take(route, r.Method == http.MethodHead)
	if p.fail != 0 {
		writeFailure(w, p)
		return
	}
	if p.noRanges {
		r = r.Clone(r.Context())
		r.Header.Del("Range")
		r.Header.Del("If-Range")
	}
	var fw *faultWriter
	if p.body != nil {
		fw = &faultWriter{w: w, f: *p.body, ctx: r.Context(), done: done}
		w = fw
	}
	if p.throttle > 0 {
		w = &pacedWriter{w: w, rate: p.throttle, ctx: r.Context(), done: done}
	}
	next(w, r)
	if fw != nil {
		fw.finish()
	}
}

func writeFailure(w http.ResponseWriter, p plan) {
	h := w.Header()
	if p.retryAfter != "" {
		h.Set("Retry-After", p.retryAfter)
	}
	if p.reset != 0 {
		h.Set("RateLimit-Reset", strconv.FormatInt(p.reset, 10))
		h.Set("RateLimit-ResetTime", time.Unix(p.reset, 0).UTC().Format(http.TimeFormat))
	}
	if p.fail == http.StatusTooManyRequests {
		h.Set("Content-Type", "text/plain")
		w.WriteHeader(p.fail)
		_, _ = io.WriteString(w, "Retry later\n")
		return
	}
	writeMessage(w, p.fail, fmt.Sprintf("%d %s", p.fail, http.StatusText(p.fail)))
}

// faultWriter carries out one body fault on whatever the handler writes.
type faultWriter struct {
	w           http.ResponseWriter
	f           fault
	ctx         context.Context
	done        <-chan struct{}
	wroteHeader bool
	written     int
	struck      bool
}

func (fw *faultWriter) Header() http.Header         { return fw.w.Header() }
func (fw *faultWriter) Unwrap() http.ResponseWriter { return fw.w }

func (fw *faultWriter) WriteHeader(code int) {
	if fw.wroteHeader {
		return
	}
	fw.wroteHeader = true
	if fw.f.kind != faultTruncate {
		fw.w.WriteHeader(code)
		return
	}
	// Sending the headers now, without a length, forces chunked encoding:
	// otherwise net/http would compute a matching short Content-Length.
	fw.w.Header().Del("Content-Length")
	fw.w.WriteHeader(code)
	_ = http.NewResponseController(fw.w).Flush()
}

func (fw *faultWriter) Write(p []byte) (int, error) {
	if !fw.wroteHeader {
		fw.WriteHeader(http.StatusOK)
	}
	if fw.struck {
		return 0, errInjected
	}
	room := fw.f.n - fw.written
	strikes := len(p) >= room
	if strikes {
		p = p[:room]
	}
	n, err := fw.w.Write(p)
	fw.written += n
	if err != nil || !strikes {
		return n, err
	}
	fw.strike()
	return n, errInjected
}

// finish makes the fault happen even if the body was shorter than n.
func (fw *faultWriter) finish() {
	if !fw.struck {
		if !fw.wroteHeader {
			fw.WriteHeader(http.StatusOK)
		}
		fw.strike()
	}
}

func (fw *faultWriter) strike() {
	fw.struck = true
	switch fw.f.kind {
	case faultCut:
		abort(fw.w)
	case faultStall:
		_ = http.NewResponseController(fw.w).Flush()
		select {
		case <-fw.ctx.Done():
		case <-fw.done:
		}
		abort(fw.w)
	}
}

// abort sends what was written and drops the connection mid-response.
func abort(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if conn, _, err := rc.Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // HTTP/2: net/http resets the stream
}

// pacedWriter sends at most rate bytes per second since its first write.
type pacedWriter struct {
	w     http.ResponseWriter
	rate  int
	ctx   context.Context
	done  <-chan struct{}
	start time.Time
	sent  int
}

func (pw *pacedWriter) Header() http.Header         { return pw.w.Header() }
func (pw *pacedWriter) WriteHeader(code int)        { pw.w.WriteHeader(code) }
func (pw *pacedWriter) Unwrap() http.ResponseWriter { return pw.w }

func (pw *pacedWriter) Write(p []byte) (int, error) {
	if pw.start.IsZero() {
		pw.start = time.Now()
	}
	chunk := max(1, min(pw.rate/20, 32<<10)) // about 20 writes a second
	written := 0
	for len(p) > 0 {
		due := pw.start.Add(time.Duration(float64(pw.sent) / float64(pw.rate) * float64(time.Second)))
		if !pause(pw.ctx, pw.done, time.Until(due)) {
			return written, errInjected
		}
		c := min(chunk, len(p))
		n, err := pw.w.Write(p[:c])
		written, pw.sent = written+n, pw.sent+n
		if err != nil {
			return written, err
		}
		_ = http.NewResponseController(pw.w).Flush()
		p = p[c:]
	}
	return written, nil
}

// pause waits d, or less if ctx ends or done closes; it reports whether the
// whole wait elapsed.
func pause(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-done:
	}
	return false
}
