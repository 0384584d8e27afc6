package artifacts

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// bufSize is the read/write buffer of one stream: large enough that a write
// to the file is rarely a small one, small enough that eight streams and the
// extractor stay far below the memory budget.
const bufSize = 256 << 10

// streamBufSize is the single stream's buffer, split in two halves that
// copyPipelined reads into and writes from in turn: large enough that a
// fast link costs few syscalls.
const streamBufSize = 2 << 20

// transfer is one download: a single resumable stream that may hand over to
// parallel ranged requests once the first response says the server can.
type transfer struct {
	c    Doer
	o    *Options
	src  *url.URL // the URL we were given: GitLab's, credential allowed
	sink *sink
	m    meter

	// What the responses taught us.
	size      int64  // total length, -1 while unknown
	validator string // strong ETag or Last-Modified, for If-Range
	digest    digest // what the download is verified against, if anything
	ranges    bool   // the server answers Range requests
	storeMu   sync.Mutex
	store     *url.URL // src after GitLab's redirect (src itself without one)

	// The single stream.
	off        int64     // bytes in the file
	best       int64     // the largest off ever reached: what counts as progress
	idle       int       // responses in a row that brought nothing beyond best
	hash       hash.Hash // nil unless there is a digest to verify
	noResume   bool      // the server resumed at a wrong offset once: restart instead
	noParallel bool      // ranged chunks were refused: stay with one stream
	goParallel bool      // the first response qualified for parallel ranges
	unframed   bool      // the last 200's body is ended only by the connection's close
	buf        []byte

	attempts int
	resumed  atomic.Int64
	streams  int
	sum      string
}

func newTransfer(c Doer, o *Options, s *sink) *transfer {
	src, _ := url.Parse(o.URL) // validated in withDefaults
	t := &transfer{c: c, o: o, src: src, sink: s, size: -1, streams: 1}
	t.m.total.Store(-1)
	return t
}

// fetch downloads the whole body into the sink and verifies it, under
// o.Timeout. A 404 comes back as the *gitlab.APIError, for the waiter.
func (t *transfer) fetch(ctx context.Context) error {
	tctx := ctx
	if t.o.Timeout > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, t.o.Timeout)
		defer cancel()
	}
	err := t.transfer(tctx)
	if err == nil {
		err = t.verify()
	}
	// Only our own deadline is "did not finish": a response whose headers
	// never came also matches context.DeadlineExceeded, and is a stall.
	if err != nil && tctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("the download did not finish within %v: %w", t.o.Timeout, err)
	}
	return err
}

func (t *transfer) transfer(ctx context.Context) error {
	if err := t.single(ctx); err != nil || !t.goParallel {
		return err
	}
	err := t.parallel(ctx)
	if !errors.Is(err, errRangesRefused) {
		return err
	}
	t.debugf("the server refused ranged chunks; downloading %s in one stream", t.o.Job)
	if err := t.restart(); err != nil {
		return err
	}
	t.noParallel, t.goParallel, t.streams = true, false, 1
	return t.single(ctx)
}

// single runs the one-stream download, which is also the probe that decides
// on parallel ranges.
func (t *transfer) single(ctx context.Context) error {
	t.buf = make([]byte, streamBufSize)
	defer func() { t.buf = nil }()
	u := gitlab.Unit{Method: http.MethodGet, URL: t.o.URL, Prepare: t.prepareStream, Handle: t.handleCounted, Attempts: &t.attempts}
	return t.doResumable(ctx, u, func() int64 { return t.best })
}

// handleCounted is handleStream that gives up, for good, after
// maxIdleAttempts responses in a row that broke without a byte beyond the
// best offset reached (or stalled with less than gitlab.StallFloor bytes beyond
// it): a server that cuts every body at the same byte, ignores Range and
// cuts again, or trickles, would otherwise be retried until the overall
// deadline, each attempt "receiving" the same bytes again.
func (t *transfer) handleCounted(resp *http.Response) error {
	before := t.best
	err := t.handleStream(resp)
	switch {
	case err == nil || isFatal(err):
		return err
	case progressed(before, t.best, err):
		t.idle = 0
		return err
	}
	if t.idle++; t.idle >= maxIdleAttempts {
		return fatal(fmt.Errorf("%w beyond byte %d in %d responses in a row: %w", errNoProgress, before, t.idle, err))
	}
	return err
}

// handleStream consumes one 2xx response of the single stream.
func (t *transfer) handleStream(resp *http.Response) error {
	f, err := t.sink.file()
	if err != nil {
		return fatal(err)
	}
	start, err := t.learn(resp)
	if err != nil {
		return err
	}
	if err := t.continueAt(start); err != nil {
		return err
	}
	if t.wantParallel(resp) {
		// Closing the body unread costs one connection; the chunks start
		// at once instead of after this body's first chunk.
		t.goParallel = true
		return nil
	}
	w := gitlab.Watch(resp.Body, t.o.StallTimeout)
	defer w.Stop()
	if err := t.copyPipelined(f, &t.off, w, t.hash, t.buf); err != nil {
		return err
	}
	return t.checkEnd()
}

// wantParallel: ranged streams pay off where one connection is capped,
// which is how object stores (GitLab's redirect target) behave. GitLab
// serving a file itself sends it with sendfile at the disk's speed, and
// there one stream is faster than eight that make the disk seek between
// eight places (measured in bench/download-vs-curl.sh), so ranges are used
// for it only when Options.ParallelDirect asks.
func (t *transfer) wantParallel(resp *http.Response) bool {
	return t.o.Parallel > 1 && !t.noParallel && resp.StatusCode == http.StatusOK &&
		t.ranges && t.validator != "" && t.size >= t.o.ParallelMin &&
		(t.o.ParallelDirect || !gitlab.SameOrigin(gitlab.StoreURL(resp.Request), t.src))
}

// copyAt copies body into f from *off on, until EOF or until limit bytes
// (limit < 0: no limit), advancing *off and feeding h when it is not nil.
// A failed write is fatal (a full disk does not get better by retrying); a
// failed read is not.
func (t *transfer) copyAt(f File, off *int64, body io.Reader, limit int64, h hash.Hash, buf []byte) error {
	for limit != 0 {
		p := buf
		if limit > 0 && int64(len(p)) > limit {
			p = p[:limit]
		}
		n, rerr := fill(body, p)
		if n > 0 {
			if _, err := f.WriteAt(p[:n], *off); err != nil {
				return fatal(fmt.Errorf("writing %s: %w", f.Name(), err))
			}
			if h != nil {
				h.Write(p[:n])
			}
			*off += int64(n)
			limit -= int64(n)
			t.m.add(n)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("reading the body at byte %d: %w", *off, rerr)
		}
	}
	return nil
}

// fill reads until p is full or the reader fails; unlike io.ReadFull it
// passes the reader's own io.ErrUnexpectedEOF (a cut connection) through
// unchanged and reports a clean end as io.EOF.
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// verify checks the finished file's size and, when there is one to check
// against, its digest.
func (t *transfer) verify() error {
	want := t.knownSize()
	if want >= 0 && t.off != want {
		return fatal(&IntegrityError{What: "size", Want: strconv.FormatInt(want, 10), Got: strconv.FormatInt(t.off, 10)})
	}
	if want < 0 && t.hash == nil && t.unframed {
		return fatal(&IntegrityError{What: "size", Want: "a Content-Length, a Content-Range or --sha256 to vouch for the body",
			Got: strconv.FormatInt(t.off, 10) + " bytes ended only by the server closing the connection, as a cut body ends"})
	}
	if t.hash == nil {
		return nil
	}
	t.sum = hex.EncodeToString(t.hash.Sum(nil))
	if t.sum != t.digest.want {
		return fatal(&IntegrityError{What: "sha256", Want: t.digest.want + " (" + t.digest.source + ")", Got: t.sum})
	}
	return nil
}

func (t *transfer) setStore(u *url.URL) {
	t.storeMu.Lock()
	defer t.storeMu.Unlock()
	t.store = u
}

func (t *transfer) currentStore() *url.URL {
	t.storeMu.Lock()
	defer t.storeMu.Unlock()
	return t.store
}

func (t *transfer) result() *Result {
	r := &Result{Job: t.o.Job, URL: gitlab.Redact(t.src), Bytes: t.off,
		Attempts: t.attempts, Resumed: int(t.resumed.Load()), Streams: t.streams}
	if t.sum != "" {
		r.SHA256, r.VerifiedBy = t.sum, "sha256 ("+t.digest.source+")"
	}
	return r
}

func (t *transfer) debugf(format string, args ...any) {
	if t.o.Logger != nil {
		t.o.Logger.Debugf(format, args...)
	}
}
