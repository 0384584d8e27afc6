package artifacts

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sync"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/httprange"
)

// errRangesRefused: a chunk request got the whole body (the server ignored
// Range, or If-Range found the archive changed). The engine then starts
// over with one stream.
var errRangesRefused = errors.New("the server answered a ranged request with the whole body")

// maxRefresh bounds how often one chunk asks GitLab for a fresh presigned
// URL after the object store refused an expired one.
const maxRefresh = 3

// chunk is one ranged request's share of the file: bytes [start, end).
type chunk struct {
	index      int
	start, end int64
	off        int64 // next byte to write; only the chunk's worker touches it
	attempts   int
	handled    int // 2xx responses so far, to count resumes
}

// parallel fetches the body as concurrent ranged requests written into the
// file with WriteAt. Requests go to the URL GitLab redirected to, without a
// credential when that is another host. The digest is computed alongside,
// over the file's completed prefix.
func (t *transfer) parallel(ctx context.Context) error {
	chunks := splitChunks(t.size, t.o.ChunkSize)
	t.streams = min(t.o.Parallel, len(chunks))
	var ph *prefixHasher
	if t.hash != nil {
		t.hash.Reset()
		ph = startPrefixHasher(t.sink.f, chunks, t.hash)
	}
	err := t.runChunks(ctx, chunks, ph)
	if herr := ph.wait(); err == nil {
		err = herr
	}
	for _, ck := range chunks {
		t.attempts += ck.attempts
	}
	if err == nil {
		t.off = t.size
	}
	return err
}

// maxChunks bounds the chunk list whatever length a server announces: the
// chunk size grows instead.
const maxChunks = 4096

func splitChunks(size, chunkSize int64) []*chunk {
	chunkSize = max(chunkSize, size/maxChunks+1)
	var chunks []*chunk
	for start := int64(0); start < size; start += chunkSize {
		chunks = append(chunks, &chunk{index: len(chunks), start: start, end: min(start+chunkSize, size), off: start})
	}
	return chunks
}

// runChunks hands chunks to t.streams workers and returns the first error;
// that error cancels the others.
func (t *transfer) runChunks(ctx context.Context, chunks []*chunk, ph *prefixHasher) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *chunk)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range t.streams {
		wg.Go(func() {
			buf := make([]byte, bufSize)
			for ck := range work {
				if err := t.fetchChunk(ctx, ck, buf); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				ph.done(ck.index)
			}
		})
	}
	feedChunks(ctx, work, chunks)
	wg.Wait()
	return first
}

func feedChunks(ctx context.Context, work chan<- *chunk, chunks []*chunk) {
	defer close(work)
	for _, ck := range chunks {
		select {
		case work <- ck:
		case <-ctx.Done():
			return
		}
	}
}

// fetchChunk downloads one chunk, resuming within it after a broken body and
// asking GitLab for a fresh URL when the object store refuses the old one.
func (t *transfer) fetchChunk(ctx context.Context, ck *chunk, buf []byte) error {
	for refresh := 0; ; refresh++ {
		store := t.currentStore()
		u := t.chunkUnit(ck, store, buf)
		err := t.doResumable(ctx, u, func() int64 { return ck.off })
		if err == nil || refresh == maxRefresh || !t.refusedByStore(store, err) {
			return err
		}
		t.debugf("the object store refused the URL for %s (%v); asking GitLab for a new one", t.o.Job, err)
		if err := t.refreshStore(ctx, store); err != nil {
			return err
		}
	}
}

func (t *transfer) chunkUnit(ck *chunk, store *url.URL, buf []byte) gitlab.Unit {
	anonymous := !gitlab.SameOrigin(store, t.src)
	return gitlab.Unit{
		Method: http.MethodGet, URL: store.String(), Attempts: &ck.attempts,
		Prepare: func(req *http.Request) error {
			if anonymous {
				gitlab.DropCredentials(req.Header) // a presigned URL is its own credential
			}
			req.Header.Set("Accept-Encoding", "identity")
			req.Header.Set("Range", httprange.Span(ck.off, ck.end-1))
			req.Header.Set("If-Range", t.validator)
			return nil
		},
		Handle: func(resp *http.Response) error { return t.handleChunk(ck, resp, buf) },
	}
}

func (t *transfer) handleChunk(ck *chunk, resp *http.Response, buf []byte) error {
	if resp.StatusCode != http.StatusPartialContent {
		return fatal(errRangesRefused)
	}
	if err := checkEncoding(resp); err != nil {
		return err
	}
	cr, err := httprange.Parse(resp.Header.Get("Content-Range"))
	if err == nil {
		err = cr.StartsAt(ck.off)
	}
	if err != nil {
		return err
	}
	if err := t.sameVersion(resp.Header, cr.Total); err != nil {
		// Chunks of two archives must never meet in one file: start over
		// with one stream, which learns the archive afresh.
		t.debugf("%v", err)
		return fatal(errRangesRefused)
	}
	if ck.handled++; ck.handled > 1 && ck.off > ck.start {
		t.resumed.Add(1)
	}
	w := gitlab.Watch(resp.Body, t.o.StallTimeout)
	defer w.Stop()
	if err := t.copyAt(t.sink.f, &ck.off, w, ck.end-ck.off, nil, buf); err != nil {
		return err
	}
	if ck.off < ck.end {
		return fmt.Errorf("the body of bytes %d-%d ended at byte %d: %w", ck.start, ck.end-1, ck.off, io.ErrUnexpectedEOF)
	}
	return nil
}

// refusedByStore: presigned URLs expire; S3 and Azure then answer 403, GCS
// 400. GitLab hands out a fresh one on the next request.
func (t *transfer) refusedByStore(store *url.URL, err error) bool {
	return !gitlab.SameOrigin(store, t.src) && gitlab.IsStatus(err, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden)
}

// refreshStore asks GitLab again for the redirect; workers that saw the same
// stale URL wait for one refresh instead of each making their own.
func (t *transfer) refreshStore(ctx context.Context, stale *url.URL) error {
	t.storeMu.Lock()
	defer t.storeMu.Unlock()
	if t.store.String() != stale.String() {
		return nil
	}
	return t.c.Do(ctx, gitlab.Unit{
		Method: http.MethodGet, URL: t.o.URL, Attempts: &t.attempts,
		Prepare: func(req *http.Request) error {
			req.Header.Set("Accept-Encoding", "identity")
			req.Header.Set("Range", httprange.Span(0, 0))
			return nil
		},
		Handle: func(resp *http.Response) error {
			if validatorOf(resp.Header) != t.validator {
				return fatal(errRangesRefused) // a different archive now: start over
			}
			t.store = gitlab.StoreURL(resp.Request)
			return nil
		},
	})
}

// prefixHasher hashes the file's completed prefix while later chunks are
// still arriving, so that only the tail is left to hash at the end.
type prefixHasher struct {
	f      io.ReaderAt
	chunks []*chunk
	h      hash.Hash
	doneCh chan int
	result chan error
}

func startPrefixHasher(f io.ReaderAt, chunks []*chunk, h hash.Hash) *prefixHasher {
	ph := &prefixHasher{f: f, chunks: chunks, h: h, doneCh: make(chan int, len(chunks)), result: make(chan error, 1)}
	go ph.run()
	return ph
}

// done reports a complete chunk; it never blocks. A nil prefixHasher (no
// digest to verify) does nothing.
func (ph *prefixHasher) done(index int) {
	if ph != nil {
		ph.doneCh <- index
	}
}

func (ph *prefixHasher) run() {
	complete := make([]bool, len(ph.chunks))
	next := 0
	buf := make([]byte, bufSize)
	var err error
	for i := range ph.doneCh {
		complete[i] = true
		for ; err == nil && next < len(ph.chunks) && complete[next]; next++ {
			ck := ph.chunks[next]
			_, err = io.CopyBuffer(ph.h, io.NewSectionReader(ph.f, ck.start, ck.end-ck.start), buf)
		}
	}
	if err == nil && next < len(ph.chunks) {
		err = errors.New("not every chunk arrived")
	}
	if err != nil {
		err = fmt.Errorf("hashing the download: %w", err)
	}
	ph.result <- err
}

// wait returns once every reported chunk is hashed.
func (ph *prefixHasher) wait() error {
	if ph == nil {
		return nil
	}
	close(ph.doneCh)
	return <-ph.result
}
