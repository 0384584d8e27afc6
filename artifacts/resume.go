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
	"slices"
	"strconv"
	"strings"
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

// prepareStream asks for the rest of the body when a resume is possible.
// The request is reused across attempts, so stale headers are removed.
func (t *transfer) prepareStream(req *http.Request) error {
	req.Header.Set("Accept-Encoding", "identity") // offsets must count the bytes we store
	req.Header.Del("Range")
	req.Header.Del("If-Range")
	if t.off > 0 && t.resumable() {
		// If-Range makes an honest server send the whole new archive
		// when it changed; learn still checks what a dishonest one sends.
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", t.off))
		req.Header.Set("If-Range", t.validator)
	}
	return nil
}

func (t *transfer) resumable() bool { return t.ranges && t.validator != "" && !t.noResume }

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

// continueAt lines the file up with a response that starts at start: a 206
// continues, a 200 after a break starts over.
func (t *transfer) continueAt(start int64) error {
	switch {
	case start == t.off && start > 0:
		t.resumed.Add(1)
		t.debugf("resuming %s at byte %d", t.o.Job, start)
	case start != t.off:
		t.debugf("restarting %s from byte 0 (the server sent the whole body again)", t.o.Job)
		return t.restart()
	}
	return nil
}

// restart empties the file and the digest.
func (t *transfer) restart() error {
	if err := t.sink.reset(); err != nil {
		return fatal(err)
	}
	t.off = 0
	if t.hash != nil {
		t.hash.Reset()
	}
	t.m.done.Store(0)
	return nil
}

// learn reads what a response says about the body and returns the offset
// its first byte belongs at.
func (t *transfer) learn(resp *http.Response) (int64, error) {
	t.setStore(gitlab.StoreURL(resp.Request))
	if err := checkEncoding(resp); err != nil {
		return 0, err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		cr, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err == nil && cr.start != t.off {
			err = fmt.Errorf("asked for byte %d, the server sent from byte %d", t.off, cr.start)
		}
		if err == nil {
			err = t.sameVersion(resp.Header, cr.total)
		}
		if err != nil {
			// Nothing of this body is used; the next attempt asks for
			// the whole archive again.
			t.noResume = true
			return 0, err
		}
		t.ranges = true
		return cr.start, nil
	case http.StatusOK:
		if err := t.wholeBody(resp); err != nil {
			t.noResume = true // the next attempt asks for the whole archive
			return 0, err
		}
		t.ranges = resp.Header.Get("Accept-Ranges") == "bytes"
		t.validator = validatorOf(resp.Header)
		t.unframed = unframed(resp)
		t.size = -1
		if err := t.setSize(resp.ContentLength); err != nil {
			return 0, err
		}
		return 0, t.expectDigest(resp.Header)
	}
	return 0, fatal(fmt.Errorf("GET %s: unexpected %s", gitlab.Redact(resp.Request.URL), resp.Status))
}

// wholeBody checks that a 200 can be the whole archive and not a resume
// answered with 200 and only the rest: a Content-Range that is not the
// whole, or, under the same validator, exactly the length of the rest.
// Either would be saved from byte 0 as if it were the archive. (Another
// length under the same validator is taken as a new archive whose server
// kept its ETag, and verified as any.)
func (t *transfer) wholeBody(resp *http.Response) error {
	if v := resp.Header.Get("Content-Range"); v != "" {
		cr, err := parseContentRange(v)
		if err != nil || cr.start != 0 || (cr.total >= 0 && cr.end != cr.total-1) {
			return fmt.Errorf("a 200 answer that is not the whole archive (Content-Range %q)", v)
		}
	}
	rest := t.size - t.off
	if v := validatorOf(resp.Header); v != "" && v == t.validator && t.off > 0 && t.size > 0 && resp.ContentLength == rest {
		return fmt.Errorf("a 200 answer of %d bytes for the archive %s of %d, which is only the rest after byte %d", rest, v, t.size, t.off)
	}
	return nil
}

// setSize records the body's total length, -1 for unknown, and checks it
// against the size the caller expects and the size cap, before a byte of
// the body is read.
func (t *transfer) setSize(n int64) error {
	if n < 0 {
		return nil
	}
	if want := t.o.ExpectedSize; want > 0 && n != want {
		return fatal(&IntegrityError{What: "size", Want: strconv.FormatInt(want, 10), Got: strconv.FormatInt(n, 10) + " (announced by the server)"})
	}
	if err := t.o.capSize(n, "the server announced"); err != nil {
		return err
	}
	t.size = n
	t.m.total.Store(n)
	return nil
}

// sameVersion accepts a ranged response only when it belongs to the archive
// the first response started: same validator, same complete length. A server
// that ignores If-Range (or a load balancer in front of two versions) would
// otherwise have the file spliced from two archives.
func (t *transfer) sameVersion(h http.Header, total int64) error {
	if v := validatorOf(h); v != t.validator {
		return fmt.Errorf("%w: validator %q, then %q", errChanged, t.validator, v)
	}
	if t.size < 0 && total >= 0 {
		// The first response did not say; the expected size, if any,
		// still has to match.
		return t.setSize(total)
	}
	if total != t.size {
		return fmt.Errorf("%w: %d bytes long, then %d", errChanged, t.size, total)
	}
	return nil
}

// errChanged: a ranged response is from another version of the archive
// than the bytes already in the file. The download starts over.
var errChanged = errors.New("the archive changed during the download")

// knownSize is the length the body must have, -1 when nobody said.
func (t *transfer) knownSize() int64 {
	if t.size >= 0 {
		return t.size
	}
	if t.o.ExpectedSize > 0 {
		return t.o.ExpectedSize
	}
	return -1
}

// checkEnd runs at the body's EOF: a body that ends short of the known size
// was cut, even when the connection closed cleanly.
func (t *transfer) checkEnd() error {
	want := t.knownSize()
	switch {
	case want < 0 || t.off == want:
		return nil
	case t.off < want:
		return fmt.Errorf("the body ended at byte %d of %d: %w", t.off, want, io.ErrUnexpectedEOF)
	}
	return fatal(&IntegrityError{What: "size", Want: strconv.FormatInt(want, 10), Got: strconv.FormatInt(t.off, 10) + " or more"})
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

// checkEncoding refuses a body in a Content-Encoding: every request asks
// for identity, since offsets, lengths and digests count the archive's own
// bytes, and an encoded body saved as it came would not be the archive.
func checkEncoding(resp *http.Response) error {
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return fatal(fmt.Errorf("GET %s: the server sent the archive with Content-Encoding %q, not as it is", gitlab.Redact(resp.Request.URL), ce))
	}
	return nil
}

// unframed reports whether only the connection's close ends resp's body:
// HTTP/1.x without Content-Length or chunked encoding (HTTP/1.0, or
// Connection: close). Chunked bodies end with a last chunk and HTTP/2
// streams with END_STREAM, which a cut connection does not send; a
// close-delimited body cut short looks exactly like a complete one.
func unframed(resp *http.Response) bool {
	return resp.ProtoMajor < 2 && resp.ContentLength < 0 && !slices.Contains(resp.TransferEncoding, "chunked")
}

// validatorOf returns what If-Range may carry: a strong ETag, else
// Last-Modified (RFC 9110 §13.1.5 forbids weak ETags there).
func validatorOf(h http.Header) string {
	if e := h.Get("ETag"); e != "" && !strings.HasPrefix(e, "W/") {
		return e
	}
	return h.Get("Last-Modified")
}

type contentRange struct{ start, end, total int64 } // total -1 for "*"

// parseContentRange reads "bytes first-last/total" (RFC 9110 §14.4).
func parseContentRange(v string) (contentRange, error) {
	bad := fmt.Errorf("malformed Content-Range %q", v)
	spec, ok := strings.CutPrefix(v, "bytes ")
	rng, tot, ok2 := strings.Cut(spec, "/")
	first, last, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return contentRange{}, bad
	}
	cr := contentRange{total: -1}
	var err1, err2, err3 error
	cr.start, err1 = parseDigits(first)
	cr.end, err2 = parseDigits(last)
	if tot != "*" {
		cr.total, err3 = parseDigits(tot)
	}
	if errors.Join(err1, err2, err3) != nil || cr.start < 0 || cr.end < cr.start || (cr.total >= 0 && cr.end >= cr.total) {
		return contentRange{}, bad
	}
	return cr, nil
}

// parseDigits reads a non-empty run of decimal digits: ParseInt alone would
// also take a sign, which no HTTP length or position has.
func parseDigits(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number of bytes", s)
	}
	return strconv.ParseInt(s, 10, 64)
}
