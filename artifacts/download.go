// Package artifacts is the transfer engine of pipeline-artifacts: it fetches a
// job's artifacts archive (or one file of it) under the project's retry
// policy, resumes broken bodies with Range (only into the same version of
// the archive), splits large downloads from object storage into parallel
// ranged requests, waits for artifacts that are about to appear, verifies
// the size and, when there is one to check against (the caller's, or
// GitLab's SHA-256 ETag), the SHA-256, and extracts through
// artifacts/extract. Nothing a server says sizes memory or keeps a retry
// loop going: lengths are capped (Options.MaxSize), and attempts that bring
// no byte beyond the furthest offset reached end the download.
//
// Nothing partial ever reaches the destination: bytes land in a temporary
// file next to it, which is renamed into place (or extracted) only when
// complete and verified, and removed on any failure or cancellation.
package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/extract"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Defaults of the zero Options fields.
const (
	DefaultParallel     = 8
	DefaultChunkSize    = 16 << 20
	DefaultParallelMin  = 64 << 20
	DefaultStallTimeout = 30 * time.Second
	DefaultPollMax      = 10 * time.Second
	DefaultProgressTick = 5 * time.Second
)

// Options say what to download and where to put it. Exactly one of Dest and
// Output must be set.
type Options struct {
	// URL is the archive (an ARTIFACT_URL_* value) or one file of it
	// (<archive URL>/<path>). Requests to it carry the client's credential.
	URL string
	// Job names the job in messages, e.g. `job "build" (12)`; default: URL.
	Job string
	// ExpectedSize is the size the archive must have (the manifest's
	// artifact size), 0 when unknown. With neither it nor a Content-Length
	// / Content-Range from the server, a body that ends early cannot be told
	// from a complete one.
	ExpectedSize int64
	// SHA256 is the expected digest in hex, "" for none. Without it, a
	// strong ETag that is a SHA-256 (GitLab's) is verified instead; with
	// neither, nothing is hashed and Result.SHA256 is "".
	SHA256 string
	// SHA256From names where SHA256 came from, for Result.VerifiedBy
	// (e.g. "manifest"); default FromOption ("--sha256").
	SHA256From string
	// MaxSize caps the bytes downloaded: a larger Content-Length is refused
	// before the body is read, a body that grows past it is cut, both with
	// an error matching ErrTooLarge. 0 means Limits.MaxBytes (its default
	// when 0) plus 1 MiB when extracting, no cap otherwise; negative: none.
	MaxSize int64

	// Dest is the directory to extract the archive into (created if needed).
	Dest string
	// Output is the file to save the download as, without extracting; "-"
	// means Stdout, which gets the bytes only after they are complete and
	// verified (they are staged in a temporary file under TempDir).
	Output  string
	Stdout  io.Writer
	TempDir string // for Output "-"; default os.TempDir()
	Limits  extract.Limits

	// Wait is how long to poll while the archive answers 404; 0 means do
	// not wait. Status, when not nil, reports the job's GitLab status so
	// that waiting stops early when the job ended without artifacts; it
	// is dropped after its first error.
	Wait   time.Duration
	Status func(context.Context) (string, error)
	// PollMin and PollMax bound the backoff between polls (default the
	// client's policy from 500ms, capped at DefaultPollMax).
	PollMin, PollMax time.Duration

	// Timeout bounds the transfer and extraction once the artifacts were
	// found; 0 means no limit beyond ctx.
	Timeout time.Duration
	// StallTimeout fails an attempt that receives no byte for this long
	// (it is then retried and resumed); default DefaultStallTimeout.
	StallTimeout time.Duration
	// Parallel is the number of concurrent ranged requests for archives of
	// at least ParallelMin bytes that GitLab redirects to object storage
	// (whose connections are often capped); 1 disables them.
	// ParallelDirect uses them for archives GitLab sends itself as well.
	Parallel       int
	ChunkSize      int64
	ParallelMin    int64
	ParallelDirect bool

	// Progress receives progress reports; nil for none. With Terminal it
	// gets one line redrawn with \r, otherwise a line every ProgressEvery.
	Progress      io.Writer
	Terminal      bool
	ProgressEvery time.Duration

	// Logger gets debug diagnostics (never a token); nil for none.
	Logger gitlab.Logger
	// Fsync makes a file saved with Output durable before it is renamed
	// into place, so that it survives a power cut, not only a killed
	// process. Off by default, as in curl and rsync: it ties the transfer
	// to the disk's write speed.
	Fsync bool

	// OpenFile creates the temporary file; default os.OpenFile. Tests use
	// it to simulate a full disk.
	OpenFile func(name string, flag int, perm os.FileMode) (File, error)

	clock clock // tests replace real time
}

// File is what the engine writes a download into. *os.File satisfies it.
type File interface {
	io.WriterAt
	io.ReaderAt
	io.Writer
	Truncate(size int64) error
	Sync() error
	Close() error
	Name() string
}

// Result describes a finished download.
type Result struct {
	Job   string
	URL   string // Options.URL without query
	Bytes int64
	// SHA256 is the verified digest in hex, "" when there was nothing to
	// verify against (then it is not computed at all).
	SHA256 string
	// VerifiedBy says what the download was verified against:
	// "sha256 (--sha256)", "sha256 (GitLab ETag)", or "" for nothing.
	VerifiedBy string
	Elapsed    time.Duration
	Attempts   int // HTTP requests made for the transfer, probes included
	Resumed    int // broken bodies continued with Range instead of restarted
	Streams    int // 1, or the number of parallel ranged streams
	Path       string
	Dest       string
	// Extract is the extraction's account; nil when nothing was extracted.
	Extract *extract.Result
}

// Doer runs one unit of HTTP work under the retry policy: Prepare before
// each attempt, Handle on each 2xx response. *gitlab.Client is one.
type Doer interface {
	Do(ctx context.Context, u gitlab.Unit) error
}

// Download fetches o.URL with c and delivers it as o says. A missing archive
// gives an error matching ErrNotFound; a size or digest mismatch an
// *IntegrityError; a 401/403 an error that names the kind of token refused
// and wraps the *gitlab.APIError. On any error the destination is untouched.
func Download(ctx context.Context, c Doer, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	start := o.clock.now()
	out, err := newOutput(&o)
	if err != nil {
		return nil, err
	}
	defer out.discard()
	t := newTransfer(c, &o, out.sink)
	stop := startProgress(&o, &t.m)
	err = t.fetchWaiting(ctx)
	stop()
	if err != nil {
		return nil, err
	}
	res := t.result()
	if err := out.deliver(ctx, res); err != nil {
		return nil, err
	}
	res.Elapsed = o.clock.now().Sub(start)
	return res, nil
}

func (o Options) withDefaults() (Options, error) {
	var errs []error
	if _, err := url.Parse(o.URL); err != nil || !strings.HasPrefix(o.URL, "http") {
		errs = append(errs, fmt.Errorf("artifact URL %q is not an http(s) URL", gitlabRedact(o.URL)))
	}
	if (o.Dest == "") == (o.Output == "") {
		errs = append(errs, errors.New("exactly one of a destination directory and an output file is needed"))
	}
	if o.Output == "-" && o.Stdout == nil {
		errs = append(errs, errors.New("output - needs a writer for stdout"))
	}
	if o.SHA256 != "" && !IsSHA256Hex(o.SHA256) {
		errs = append(errs, errors.New("the expected SHA-256 must be 64 hexadecimal digits"))
	}
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	o.SHA256 = strings.ToLower(o.SHA256)
	o.setDefaults()
	return o, nil
}

func (o *Options) setDefaults() {
	if o.Job == "" {
		o.Job = gitlabRedact(o.URL)
	}
	o.Parallel = max(o.Parallel, 1)
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.ParallelMin <= 0 {
		o.ParallelMin = DefaultParallelMin
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.PollMin <= 0 {
		o.PollMin = 500 * time.Millisecond
	}
	if o.PollMax <= 0 {
		o.PollMax = DefaultPollMax
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = DefaultProgressTick
	}
	if o.OpenFile == nil {
		o.OpenFile = func(name string, flag int, perm os.FileMode) (File, error) {
			f, err := os.OpenFile(name, flag, perm)
			if err != nil || !o.Fsync {
				return f, err
			}
			return withWriteback(f), nil
		}
	}
	o.clock = o.clock.orReal()
}

// gitlabRedact drops a URL's query and user info for messages.
func gitlabRedact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return gitlab.Redact(u)
}
