package artifacts

// The resume decision: what each response of the single stream says about
// the body (its range, version, size, encoding, framing), and whether the
// next attempt asks for the rest or starts over. transfer.go is the loop
// that acts on it.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/httprange"
)

// prepareStream asks for the rest of the body when a resume is possible.
// The request is reused across attempts, so stale headers are removed.
func (t *transfer) prepareStream(req *http.Request) error {
	req.Header.Set("Accept-Encoding", "identity") // offsets must count the bytes we store
	req.Header.Del("Range")
	req.Header.Del("If-Range")
	if t.off > 0 && t.resumable() {
		// If-Range makes an honest server send the whole new archive
		// when it changed; learn still checks what a dishonest one sends.
		req.Header.Set("Range", httprange.From(t.off))
		req.Header.Set("If-Range", t.validator)
	}
	return nil
}

func (t *transfer) resumable() bool { return t.ranges && t.validator != "" && !t.noResume }

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
		cr, err := httprange.Parse(resp.Header.Get("Content-Range"))
		if err == nil {
			err = cr.StartsAt(t.off)
		}
		if err == nil {
			err = t.sameVersion(resp.Header, cr.Total)
		}
		if err != nil {
			// Nothing of this body is used; the next attempt asks for
			// the whole archive again.
			t.noResume = true
			return 0, err
		}
		t.ranges = true
		return cr.Start, nil
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
		cr, err := httprange.Parse(v)
		if err != nil || cr.Start != 0 || (cr.Total >= 0 && !cr.Whole()) {
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
