package remotezip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/httprange"
)

// tailSize is what the first request asks for: the end-of-central-directory
// record with the longest possible comment (65,557 bytes) and its zip64
// locator, plus room for the central directory of a few thousand entries,
// so that a typical archive is listed in one round trip.
const tailSize = 256 << 10

// maxRefresh bounds how often one read goes back to GitLab for a fresh
// object-store URL after the store refused the one it had.
const maxRefresh = 3

// Doer runs one unit of HTTP work under the project's retry policy;
// *gitlab.Client is one.
type Doer interface {
	Do(ctx context.Context, u gitlab.Unit) error
}

// HTTPSource reads an archive by HTTP Range requests. GitLab answers them on
// its archive routes: Workhorse serves an archive on disk with
// http.ServeContent
// (https://gitlab.com/gitlab-org/gitlab/-/blob/master/workhorse/internal/sendfile/sendfile.go)
// and passes Range and If-Range on when it proxies object storage
// (https://gitlab.com/gitlab-org/gitlab/-/blob/master/workhorse/internal/sendurl/sendurl.go);
// object stores answer them after a redirect. The first request
// learns the archive's length and validator; every later answer must carry
// the same ones, so bytes of two versions of the archive are never combined.
// After a redirect (GitLab to object storage) later reads go to the URL
// redirected to, without the credential. It is safe for concurrent use.
type HTTPSource struct {
	do     Doer
	src    *url.URL // the URL we were given: GitLab's, credential allowed
	header http.Header
	stall  time.Duration // see HTTPOptions.StallTimeout

	size           int64
	etag, modified string // pinned by the first answer
	tail           []byte // the archive's last bytes, from the first answer

	store atomic.Pointer[url.URL] // src after a redirect

	requests, received atomic.Int64
}

// DefaultStallTimeout is HTTPOptions.StallTimeout's default.
const DefaultStallTimeout = 30 * time.Second

// HTTPOptions configure NewHTTPWith. Zero values mean the defaults.
type HTTPOptions struct {
	// Header is added to every request.
	Header http.Header
	// StallTimeout fails an attempt whose body brings less than
	// gitlab.StallFloor bytes in this long (it is then retried and
	// resumed); default DefaultStallTimeout.
	StallTimeout time.Duration
}

// NewHTTP is NewHTTPWith with header and the default stall timeout.
func NewHTTP(ctx context.Context, do Doer, rawURL string, header http.Header) (*HTTPSource, error) {
	return NewHTTPWith(ctx, do, rawURL, HTTPOptions{Header: header})
}

// NewHTTPWith reads the end of the archive at rawURL with one ranged GET
// (more only when retried) and returns a source pinned to that version of
// it. A server that answers with the whole body instead of a range gets
// ErrNoRanges, its body unread, unless that body is no longer than what was
// asked for.
func NewHTTPWith(ctx context.Context, do Doer, rawURL string, o HTTPOptions) (*HTTPSource, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("the archive URL is not an http(s) URL")
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	s := &HTTPSource{do: do, src: u, header: o.Header.Clone(), stall: o.StallTimeout}
	s.setStore(u)
	rng := httprange.Suffix(tailSize)
	err = do.Do(ctx, gitlab.Unit{
		Method: http.MethodGet, URL: rawURL,
		Prepare: func(req *http.Request) error { s.prepare(req, rng, false); return nil },
		Handle:  s.handleTail,
	})
	if gitlab.IsStatus(err, http.StatusRequestedRangeNotSatisfiable) {
		return nil, formatError("the archive is empty")
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Size is the archive's length, as the first answer said.
func (s *HTTPSource) Size() int64 { return s.size }

// Stats reports the requests sent (retries included) and the body bytes
// received so far.
func (s *HTTPSource) Stats() (requests, bytes int64) {
	return s.requests.Load(), s.received.Load()
}

// prepare sets a request's headers; it runs before every attempt, on a
// request that is reused across attempts.
func (s *HTTPSource) prepare(req *http.Request, rng string, anonymous bool) {
	s.requests.Add(1)
	for k, v := range s.header {
		req.Header[k] = v
	}
	if anonymous {
		gitlab.DropCredentials(req.Header) // a presigned URL is its own credential
	}
	req.Header.Set("Accept-Encoding", "identity") // offsets count stored bytes
	req.Header.Set("Range", rng)
	req.Header.Del("If-Range")
	if v := s.ifRange(); v != "" {
		req.Header.Set("If-Range", v)
	}
}

// ifRange is what If-Range may carry: a strong ETag, else Last-Modified
// (RFC 9110 §13.1.5 forbids weak ETags there).
func (s *HTTPSource) ifRange() string {
	if s.etag != "" && !strings.HasPrefix(s.etag, "W/") {
		return s.etag
	}
	return s.modified
}

// handleTail learns length and validator from the first answer and keeps
// its body, the archive's tail.
func (s *HTTPSource) handleTail(resp *http.Response) error {
	s.setStore(gitlab.StoreURL(resp.Request))
	if err := checkEncoding(resp); err != nil {
		return err
	}
	start, err := s.tailStart(resp)
	if err != nil {
		return err
	}
	buf := make([]byte, s.size-start)
	w := gitlab.Watch(resp.Body, s.stall)
	defer w.Stop()
	n, err := io.ReadFull(w, buf)
	s.received.Add(int64(n))
	if err != nil {
		return fmt.Errorf("reading the end of the archive: %w", err)
	}
	// Pinned only now: a retry of this request starts afresh, without If-Range.
	s.etag, s.modified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	s.tail = buf
	return nil
}

// tailStart checks the first answer's status and range and sets s.size.
func (s *HTTPSource) tailStart(resp *http.Response) (int64, error) {
	switch resp.StatusCode {
	case http.StatusPartialContent:
		v := resp.Header.Get("Content-Range")
		cr, err := httprange.Parse(v)
		switch {
		case err != nil && strings.HasSuffix(v, "/0"): // net/http's answer for an empty file
			return 0, stop(formatError("the archive is empty"))
		case err != nil:
			return 0, stop(err)
		case cr.Total < 0:
			return 0, stop(fmt.Errorf("the server did not say the archive's length (Content-Range %q)", v))
		case cr.End != cr.Total-1 || cr.Len() > tailSize:
			return 0, stop(fmt.Errorf("GET %s: asked for the last %d bytes, the server sent %q: %w", gitlab.Redact(resp.Request.URL), tailSize, v, ErrNoRanges))
		}
		s.size = cr.Total
		return cr.Start, nil
	case http.StatusOK:
		if resp.ContentLength < 0 || resp.ContentLength > tailSize {
			return 0, stop(fmt.Errorf("GET %s: %w", gitlab.Redact(resp.Request.URL), ErrNoRanges))
		}
		s.size = resp.ContentLength // small enough: all we asked for anyway
		return 0, nil
	}
	return 0, stop(fmt.Errorf("GET %s: unexpected %s", gitlab.Redact(resp.Request.URL), resp.Status))
}

func checkEncoding(resp *http.Response) error {
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return stop(fmt.Errorf("GET %s: the server sent the archive with Content-Encoding %q", gitlab.Redact(resp.Request.URL), ce))
	}
	return nil
}

// WriteRange writes the archive's bytes [off, off+n) to w: from the tail
// the first answer brought when they lie there, else with one ranged GET
// (more when a broken body is resumed or a signed URL has expired).
func (s *HTTPSource) WriteRange(ctx context.Context, w io.Writer, off, n int64) error {
	if err := checkRange(off, n, s.size); err != nil {
		return err
	}
	tailOff := s.size - int64(len(s.tail))
	switch {
	case n == 0:
		return nil
	case off+n <= tailOff:
		return s.fetch(ctx, w, off, n)
	}
	if head := tailOff - off; head > 0 {
		if err := s.fetch(ctx, w, off, head); err != nil {
			return err
		}
		off, n = tailOff, n-head
	}
	_, err := w.Write(s.tail[off-tailOff : off+n-tailOff])
	return err
}

// fetch reads [off, off+n) over HTTP, going back to GitLab for a fresh
// object-store URL when the store refuses the one we have (presigned URLs
// expire; S3 and Azure answer 403, GCS 400).
func (s *HTTPSource) fetch(ctx context.Context, w io.Writer, off, n int64) error {
	r := &rangeRead{s: s, w: w, off: off, n: n}
	for refresh := 0; ; refresh++ {
		store := s.currentStore()
		err := r.run(ctx, store)
		foreign := !gitlab.SameOrigin(store, s.src)
		if err == nil || refresh == maxRefresh || !foreign || !gitlab.IsStatus(err, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden) {
			return err
		}
		s.setStore(s.src) // GitLab answers with a redirect to a fresh URL
	}
}

func (s *HTTPSource) setStore(u *url.URL) { s.store.Store(u) }

func (s *HTTPSource) currentStore() *url.URL { return s.store.Load() }

// changed reports whether an answer's validator differs from the pinned one.
func (s *HTTPSource) changed(h http.Header) bool {
	switch {
	case s.etag != "":
		return h.Get("ETag") != s.etag
	case s.modified != "":
		return h.Get("Last-Modified") != s.modified
	}
	return false
}

// rangeRead is one range being copied to w; done counts the bytes written,
// so that a retry after a broken body asks only for the rest.
type rangeRead struct {
	s      *HTTPSource
	w      io.Writer
	off, n int64
	done   int64
	buf    []byte
}

// run reads the range under the retry policy, and again for as long as
// each round made progress: the policy's budget is for failures in a row.
func (r *rangeRead) run(ctx context.Context, store *url.URL) error {
	anonymous := !gitlab.SameOrigin(store, r.s.src)
	u := gitlab.Unit{
		Method: http.MethodGet, URL: store.String(),
		Prepare: func(req *http.Request) error {
			r.s.prepare(req, httprange.Span(r.off+r.done, r.off+r.n-1), anonymous)
			return nil
		},
		Handle: r.handle,
	}
	for {
		before := r.done
		err := r.s.do.Do(ctx, u)
		// A stalled round counts only with StallFloor bytes: a server
		// that trickles would otherwise be asked again and again.
		progressed := r.done > before && (r.done-before >= gitlab.StallFloor || !errors.Is(err, gitlab.ErrStalled))
		if err == nil || isStop(err) || !progressed {
			return err
		}
		if retry, _ := gitlab.ShouldRetry(ctx, nil, err); !retry {
			return err
		}
	}
}

func (r *rangeRead) handle(resp *http.Response) error {
	r.s.setStore(gitlab.StoreURL(resp.Request))
	start := r.off + r.done
	end, err := r.s.checkPartial(resp, start)
	if err != nil {
		return err
	}
	want := min(end+1, r.off+r.n) - start
	if r.buf == nil {
		r.buf = make([]byte, min(r.n, 256<<10))
	}
	w := gitlab.Watch(resp.Body, r.s.stall)
	defer w.Stop()
	got, err := r.copy(w, want)
	if err != nil {
		return err
	}
	if got < want {
		return fmt.Errorf("the body of bytes %d-%d ended at byte %d: %w", start, end, start+got, io.ErrUnexpectedEOF)
	}
	if r.done < r.n {
		return fmt.Errorf("asked for bytes %d-%d, the server sent bytes %d-%d", start, r.off+r.n-1, start, end)
	}
	return nil
}

// copy moves up to want bytes from body to w. A failed write stops the
// read; a failed read may be retried.
func (r *rangeRead) copy(body io.Reader, want int64) (int64, error) {
	var got int64
	for got < want {
		p := r.buf[:min(int64(len(r.buf)), want-got)]
		n, rerr := body.Read(p)
		if n > 0 {
			r.s.received.Add(int64(n))
			if _, err := r.w.Write(p[:n]); err != nil {
				return got, stop(err)
			}
			got += int64(n)
			r.done += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return got, fmt.Errorf("reading bytes of the archive at %d: %w", r.off+r.done, rerr)
		}
	}
	return got, nil
}

// checkPartial accepts only a 206 of the pinned archive starting at start,
// and returns the last byte it holds.
func (s *HTTPSource) checkPartial(resp *http.Response, start int64) (int64, error) {
	where := gitlab.Redact(resp.Request.URL)
	switch {
	case resp.StatusCode == http.StatusOK && s.changed(resp.Header):
		return 0, stop(fmt.Errorf("GET %s: %w (the validator changed)", where, ErrChanged))
	case resp.StatusCode == http.StatusOK:
		return 0, stop(fmt.Errorf("GET %s: %w", where, ErrNoRanges))
	case resp.StatusCode != http.StatusPartialContent:
		return 0, stop(fmt.Errorf("GET %s: unexpected %s", where, resp.Status))
	}
	if err := checkEncoding(resp); err != nil {
		return 0, err
	}
	v := resp.Header.Get("Content-Range")
	cr, err := httprange.Parse(v)
	switch {
	case err != nil:
		return 0, stop(fmt.Errorf("GET %s: %w", where, err))
	case cr.Total != s.size:
		return 0, stop(fmt.Errorf("GET %s: %w (length %d, was %d)", where, ErrChanged, cr.Total, s.size))
	case s.changed(resp.Header):
		return 0, stop(fmt.Errorf("GET %s: %w (the validator changed)", where, ErrChanged))
	}
	if err := cr.StartsAt(start); err != nil {
		return 0, stop(fmt.Errorf("GET %s: %w", where, err))
	}
	return cr.End, nil
}
