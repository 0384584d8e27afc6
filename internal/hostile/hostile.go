// Package hostile is a loopback HTTP server that serves one body the way a
// broken or malicious server would: it lies in Content-Length and
// Content-Range totals, changes its validator between requests, ignores
// Range or If-Range, cuts every body at a fixed byte, withholds response
// headers, and echoes the credentials it received. Tests of the transfer
// engine and of the binary use it to show that none of that gets a corrupt,
// spliced or unbounded download accepted.
//
// Every behaviour is a plain field read on each request, so one Server can
// change between attempts; Requests records what each request asked for.
package hostile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server serves Body at every path. The zero value of each field is an
// honest server: strong ETag, Accept-Ranges, Range and If-Range honoured.
type Server struct {
	// Body is what is served; BodyFor, when set, replaces it for request n
	// (0-based): a server whose archive changes between requests.
	Body    []byte
	BodyFor func(n int) []byte
	// ETag returns the ETag of request n (0-based); nil: a strong ETag of
	// the body's length, the same on every request. Return "" for none.
	ETag func(n int) string
	// Total returns the length to announce for request n: the
	// Content-Length of a 200 and the complete length of a 206's
	// Content-Range; nil or a negative value: the real length. The body
	// sent is the real one (cut at the announced length when shorter).
	Total func(n int) int64
	// IgnoreRange answers every request with the whole body and 200.
	IgnoreRange bool
	// IgnoreIfRange honours Range even when If-Range names another version.
	IgnoreIfRange bool
	// CutAt returns the absolute offset at which request n's body is cut
	// (the connection closed after headers announcing more); 0: never.
	CutAt func(n int) int64
	// NoLength sends a 200 without Content-Length (chunked), so that only
	// the body's end says how long it was.
	NoLength bool
	// Withhold returns true for requests whose headers never come: the
	// handler waits until the client gives up.
	Withhold func(n int) bool
	// Trickle returns, for request n, the pause before each byte of its
	// body (0: none): a slowloris server that never falls silent for long
	// and never gets anywhere either.
	Trickle func(n int) time.Duration
	// Echo sends the credential headers received back in response headers
	// (X-Echo-*), as a misconfigured proxy might.
	Echo bool

	mu       sync.Mutex
	requests []Request
	srv      *httptest.Server
}

// Request is what one request asked for.
type Request struct {
	Range, IfRange string
	Credential     string // PRIVATE-TOKEN, JOB-TOKEN or Authorization, whichever came
}

// Start serves s on a loopback port until the test ends and returns its URL.
func (s *Server) Start(t testing.TB) string {
	t.Helper()
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s.srv.URL
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cred := r.Header.Get("PRIVATE-TOKEN") + r.Header.Get("JOB-TOKEN") + r.Header.Get("Authorization")
	s.requests = append(s.requests, Request{Range: r.Header.Get("Range"), IfRange: r.Header.Get("If-Range"), Credential: cred})
	return len(s.requests) - 1
}

// ServeHTTP answers one request as the fields say.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.record(r)
	if s.Withhold != nil && s.Withhold(n) {
		<-r.Context().Done()
		return
	}
	h := w.Header()
	if s.Echo {
		for _, name := range []string{"PRIVATE-TOKEN", "JOB-TOKEN", "Authorization"} {
			if v := r.Header.Get(name); v != "" {
				h.Set("X-Echo-"+name, v)
			}
		}
	}
	body := s.Body
	if s.BodyFor != nil {
		body = s.BodyFor(n)
	}
	etag := s.etag(n, body)
	if etag != "" {
		h.Set("ETag", etag)
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	size := int64(len(body))
	total := size
	if s.Total != nil {
		if v := s.Total(n); v >= 0 {
			total = v
		}
	}
	start, end, ranged := s.rangeOf(r, etag, size)
	if ranged {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, total))
		h.Set("Content-Length", strconv.FormatInt(end-start+1, 10))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		start, end = 0, min(size, total)-1
		if !s.NoLength {
			h.Set("Content-Length", strconv.FormatInt(total, 10))
		}
		w.WriteHeader(http.StatusOK)
	}
	if r.Method == http.MethodHead {
		return
	}
	stop := end + 1
	if s.CutAt != nil {
		if c := s.CutAt(n); c > 0 && c < stop {
			stop = max(c, start)
		}
	}
	s.write(w, r, n, body[start:stop])
	if stop <= end && s.NoLength {
		// Without a length only a broken connection says "cut".
		panic(http.ErrAbortHandler)
	}
	// Writing less than Content-Length makes net/http close the
	// connection: the client sees a body cut short.
}

// write sends p, byte by byte when Trickle says so.
func (s *Server) write(w http.ResponseWriter, r *http.Request, n int, p []byte) {
	var pause time.Duration
	if s.Trickle != nil {
		pause = s.Trickle(n)
	}
	if pause <= 0 {
		_, _ = w.Write(p)
		return
	}
	rc := http.NewResponseController(w)
	for i := range p {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(pause):
		}
		if _, err := w.Write(p[i : i+1]); err != nil || rc.Flush() != nil {
			return
		}
	}
}

func (s *Server) etag(n int, body []byte) string {
	if s.ETag == nil {
		return fmt.Sprintf(`"len-%d"`, len(body))
	}
	return s.ETag(n)
}

// rangeOf returns the inclusive byte range to send and whether to send it as
// a 206: only for one satisfiable "bytes=first-[last]" range whose If-Range
// (if any) matches, unless the server is told to ignore one or the other.
func (s *Server) rangeOf(r *http.Request, etag string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !found || s.IgnoreRange {
		return 0, 0, false
	}
	if ir := r.Header.Get("If-Range"); ir != "" && ir != etag && !s.IgnoreIfRange {
		return 0, 0, false
	}
	first, last, _ := strings.Cut(spec, "-")
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size - 1
	if last != "" {
		if e, err := strconv.ParseInt(last, 10, 64); err == nil && e < end {
			end = e
		}
	}
	if end < start {
		return 0, 0, false
	}
	return start, end, true
}

// Changing returns an ETag function whose value changes on every request:
// a server behind a load balancer whose nodes hold different builds.
func Changing() func(n int) string {
	return func(n int) string { return fmt.Sprintf(`"version-%d"`, n) }
}

// From returns a function that answers before for requests before n and
// after from request n on.
func From[T any](n int, before, after T) func(int) T {
	return func(i int) T {
		if i < n {
			return before
		}
		return after
	}
}

// DigestETag is the ETag current GitLab sends for an archive it serves
// itself: the quoted hex SHA-256 of body.
func DigestETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// Same returns a function that answers v for every request.
func Same[T any](v T) func(int) T { return func(int) T { return v } }
