package artifacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const archiveSize = 300_000

func TestDownloadSavesTheArchiveAsIs(t *testing.T) {
	f := newFixture(t, randomBytes(archiveSize))
	res, err := f.download(t, f.options())
	if err != nil {
		t.Fatal(err)
	}
	f.mustMatch(t, res, filepath.Join(f.dir, "out.zip"))
	mustHoldOnly(t, f.dir, "out.zip")
	if res.Attempts != 1 || res.Resumed != 0 || res.Streams != 1 {
		t.Errorf("attempts %d, resumed %d, streams %d; want 1, 0, 1", res.Attempts, res.Resumed, res.Streams)
	}
	if res.Path != filepath.Join(f.dir, "out.zip") || res.URL != f.url() {
		t.Errorf("result names path %q and URL %q", res.Path, res.URL)
	}
}

func TestDownloadWithFsyncWritesBackAndSavesTheSameFile(t *testing.T) {
	f := newFixture(t, randomBytes(2*writebackEvery+archiveSize)) // crosses the writeback threshold twice
	o := f.options()
	o.Fsync = true
	res, err := f.download(t, o)
	if err != nil {
		t.Fatal(err)
	}
	f.mustMatch(t, res, filepath.Join(f.dir, "out.zip"))
	mustHoldOnly(t, f.dir, "out.zip")
}

func TestDownloadExtractsIntoDest(t *testing.T) {
	zip := gitlabtest.MakeZip(t, map[string]string{"dist/app.txt": "hello", "README": "read me"})
	f := newFixture(t, zip)
	o := f.options()
	o.Output, o.Dest = "", filepath.Join(f.dir, "public")
	res, err := f.download(t, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(o.Dest, "dist", "app.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("dist/app.txt: %q, %v", got, err)
	}
	mustHoldOnly(t, o.Dest, "dist", "README") // the archive itself is gone
	if res.Extract == nil || res.Extract.Files != 2 || res.Dest != o.Dest {
		t.Errorf("result: extract %+v, dest %q", res.Extract, res.Dest)
	}
}

func TestDownloadWritesStdoutOnlyWhenComplete(t *testing.T) {
	f := newFixture(t, randomBytes(archiveSize))
	f.srv.CutBodyAfter(gitlabtest.RouteArtifacts, 1000)
	var out bytes.Buffer
	o := f.options()
	o.Output, o.Stdout, o.TempDir = "-", &out, f.dir
	if _, err := f.download(t, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), f.data) {
		t.Fatalf("stdout got %d bytes that differ from the archive", out.Len())
	}
	mustBeEmpty(t, f.dir)
}

// Every transient fault ends in the same file; the request log shows how.
func TestDownloadSurvivesTransientFaults(t *testing.T) {
	const cut = 70_000
	cases := []struct {
		name   string
		inject func(f *fixture)
		expect int64 // Options.ExpectedSize
		check  func(t *testing.T, f *fixture, res *Result)
	}{
		{
			name:   "a burst of 503s is retried",
			inject: func(f *fixture) { f.srv.FailNext(gitlabtest.RouteArtifacts, 3, http.StatusServiceUnavailable) },
			check:  wantAttempts(4),
		},
		{
			name: "a 429 with Retry-After is retried",
			inject: func(f *fixture) {
				f.srv.RetryAfter(gitlabtest.RouteArtifacts, 1) // capped to 1ms by the test client
				f.srv.FailNext(gitlabtest.RouteArtifacts, 1, http.StatusTooManyRequests)
			},
			check: wantAttempts(2),
		},
		{
			name:   "a connection reset mid-body resumes from the offset",
			inject: func(f *fixture) { f.srv.CutBodyAfter(gitlabtest.RouteArtifacts, cut) },
			check:  wantResumedAt(gitlabtest.RouteArtifacts, cut),
		},
		{
			name:   "a silently truncated body is detected by the known size and resumed",
			inject: func(f *fixture) { f.srv.TruncateSilently(gitlabtest.RouteArtifacts, cut) },
			expect: archiveSize,
			check:  wantResumedAt(gitlabtest.RouteArtifacts, cut),
		},
		{
			name:   "a stalled body is abandoned after the stall timeout and resumed",
			inject: func(f *fixture) { f.srv.StallAfter(gitlabtest.RouteArtifacts, cut) },
			check:  wantResumedAt(gitlabtest.RouteArtifacts, cut),
		},
		{
			name: "a server without ranges makes a broken download start over",
			inject: func(f *fixture) {
				f.srv.NoRanges(gitlabtest.RouteArtifacts)
				f.srv.CutBodyAfter(gitlabtest.RouteArtifacts, cut)
			},
			check: func(t *testing.T, f *fixture, res *Result) {
				// ServeContent still advertises ranges, so the retry asks;
				// the 200 it gets back restarts the file from byte 0.
				if res.Resumed != 0 || res.Attempts != 2 {
					t.Errorf("resumed %d, attempts %d; want 0, 2", res.Resumed, res.Attempts)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, randomBytes(archiveSize))
			tc.inject(f)
			o := f.options()
			o.ExpectedSize, o.StallTimeout = tc.expect, 50*time.Millisecond
			res, err := f.download(t, o)
			if err != nil {
				t.Fatal(err)
			}
			f.mustMatch(t, res, o.Output)
			mustHoldOnly(t, f.dir, "out.zip")
			tc.check(t, f, res)
			if n := f.srv.PendingFaults(gitlabtest.RouteArtifacts); n != 0 {
				t.Errorf("%d injected faults were never hit", n)
			}
		})
	}
}

func wantAttempts(n int) func(*testing.T, *fixture, *Result) {
	return func(t *testing.T, _ *fixture, res *Result) {
		if res.Attempts != n {
			t.Errorf("attempts = %d, want %d", res.Attempts, n)
		}
	}
}

// wantResumedAt checks that the second request asked for the rest of the
// body, guarded by If-Range.
func wantResumedAt(route gitlabtest.Route, off int) func(*testing.T, *fixture, *Result) {
	return func(t *testing.T, f *fixture, res *Result) {
		t.Helper()
		ranges := rangeHeaders(f.srv, route)
		if want := []string{"", fmt.Sprintf("bytes=%d-", off)}; strings.Join(ranges, ",") != strings.Join(want, ",") {
			t.Errorf("Range headers = %q, want %q", ranges, want)
		}
		reqs := f.srv.Requests()
		if ir := reqs[len(reqs)-1].Header.Get("If-Range"); ir == "" {
			t.Error("the resumed request has no If-Range")
		}
		if res.Resumed != 1 {
			t.Errorf("resumed = %d, want 1", res.Resumed)
		}
	}
}

func TestDownloadWithoutAKnownSizeCannotSeeASilentTruncation(t *testing.T) {
	// Documented limit: a chunked body that ends cleanly, with no size from
	// the server or the manifest, looks complete. --sha256 still catches it.
	f := newFixture(t, randomBytes(archiveSize))
	f.srv.TruncateSilently(gitlabtest.RouteArtifacts, 1000)
	o := f.options()
	o.SHA256 = sha256Hex(f.data)
	_, err := f.download(t, o)
	var ie *IntegrityError
	if !errors.As(err, &ie) || ie.What != "sha256" {
		t.Fatalf("error = %v, want a sha256 mismatch", err)
	}
	mustBeEmpty(t, f.dir)
}

func TestDownloadFailsOnASizeOtherThanExpected(t *testing.T) {
	f := newFixture(t, randomBytes(archiveSize))
	o := f.options()
	o.ExpectedSize = archiveSize + 1
	_, err := f.download(t, o)
	var ie *IntegrityError
	if !errors.As(err, &ie) || ie.What != "size" {
		t.Fatalf("error = %v, want a size mismatch", err)
	}
	if n := f.srv.Count(gitlabtest.RouteArtifacts); n != 1 {
		t.Errorf("%d requests; an integrity failure must not be retried", n)
	}
	mustBeEmpty(t, f.dir)
}

func TestDownloadRejectsADigestMismatchAndLeavesNothing(t *testing.T) {
	f := newFixture(t, randomBytes(archiveSize))
	if err := os.WriteFile(filepath.Join(f.dir, "out.zip"), []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := f.options()
	o.SHA256 = strings.Repeat("ab", 32)
	_, err := f.download(t, o)
	var ie *IntegrityError
	if !errors.As(err, &ie) || ie.Got != sha256Hex(f.data) {
		t.Fatalf("error = %v, want a sha256 mismatch naming the real digest", err)
	}
	if got, _ := os.ReadFile(filepath.Join(f.dir, "out.zip")); string(got) != "previous" {
		t.Errorf("the existing output was touched: %q", got)
	}
	mustHoldOnly(t, f.dir, "out.zip")
}

func TestDownloadReportsConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newTestClient(t, "http://"+addr+"/api/v4", gitlab.Credential{Kind: gitlab.JobToken, Token: consumerTok})
	dir := t.TempDir()
	o := Options{URL: "http://" + addr + "/api/v4/projects/7/jobs/12/artifacts", Output: filepath.Join(dir, "a.zip")}
	res, err := Download(t.Context(), c, o)
	if err == nil || !strings.Contains(err.Error(), "refused") || errors.Is(err, ErrNotFound) {
		t.Fatalf("Download = %v, %v; want a connection-refused failure", res, err)
	}
	if !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Errorf("error %q does not say it retried", err)
	}
	mustBeEmpty(t, dir)
}

func TestDownloadOfAMissingArchiveIsNotFound(t *testing.T) {
	f := newFixture(t, nil, withoutArtifact())
	_, err := f.download(t, f.options())
	var nf *NotFoundError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
	if want := fmt.Sprintf("job %d has no artifacts (yet)", f.job.ID); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	mustBeEmpty(t, f.dir)
}

func TestDownloadExplainsARefusedToken(t *testing.T) {
	cases := []struct {
		name       string
		kind       gitlab.AuthKind
		token      string
		status     int
		wantPhrase string
	}{
		{"a job token of another project is forbidden", gitlab.JobToken, otherTok, 403, "refused the job token (CI_JOB_TOKEN)"},
		{"the job token of a finished job is unauthorized", gitlab.JobToken, finishedTok, 401, "valid only while its job runs"},
		{"an unknown private token is unauthorized", gitlab.PrivateToken, "glpat-nobody-knows-this", 401, "refused the private token"},
		// GitLab answers an anonymous caller as if a private project did not
		// exist (lib/api/helpers.rb find_project!): a refusal, not "missing".
		{"no token at all on a private project is a refusal, not a missing archive", gitlab.NoAuth, "", 404, "may not see it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, randomBytes(100), sending(tc.kind, tc.token))
			_, err := f.download(t, f.options())
			if !gitlab.IsStatus(err, tc.status) || errors.Is(err, ErrNotFound) {
				t.Fatalf("error = %v, want status %d", err, tc.status)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantPhrase) || !strings.Contains(msg, f.url()) {
				t.Errorf("message %q lacks %q or the URL", msg, tc.wantPhrase)
			}
			if tc.token != "" && strings.Contains(msg, tc.token) {
				t.Errorf("message shows the token: %q", msg)
			}
			if n := f.srv.Count(gitlabtest.RouteArtifacts); n != 1 {
				t.Errorf("%d requests; a refused token must not be retried", n)
			}
			mustBeEmpty(t, f.dir)
		})
	}
}

func TestDownloadFollowsTheRedirectWithoutCredentials(t *testing.T) {
	// The store fails the test on any JOB-TOKEN, PRIVATE-TOKEN or
	// Authorization header, and on any known token value anywhere.
	f := newFixture(t, randomBytes(archiveSize), redirected())
	f.store.CutBodyAfter(gitlabtest.RouteObject, 5000)
	res, err := f.download(t, f.options())
	if err != nil {
		t.Fatal(err)
	}
	f.mustMatch(t, res, filepath.Join(f.dir, "out.zip"))
	if got := rangeHeaders(f.store, gitlabtest.RouteObject); strings.Join(got, ",") != ",bytes=5000-" {
		t.Errorf("object store saw Range headers %q", got)
	}
	if res.URL != f.url() {
		t.Errorf("result URL %q, want GitLab's, not the presigned one", res.URL)
	}
}

func TestDownloadCancelledMidBodyLeavesNothing(t *testing.T) {
	f := newFixture(t, randomBytes(4*bufSize))
	f.srv.StallAfter(gitlabtest.RouteArtifacts, 2*bufSize) // the body hangs until we give up
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o := f.options()
	o.OpenFile = func(name string, flag int, perm os.FileMode) (File, error) {
		fl, err := os.OpenFile(name, flag, perm)
		return &hookedFile{File: fl, onWrite: func(int64) { cancel() }}, err // SIGTERM after the first bytes
	}
	_, err := Download(ctx, f.client, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	mustBeEmpty(t, f.dir)
}

func TestDownloadOnAFullDiskFailsAtOnceAndLeavesNothing(t *testing.T) {
	f := newFixture(t, randomBytes(archiveSize))
	o := f.options()
	o.OpenFile = func(name string, flag int, perm os.FileMode) (File, error) {
		fl, err := os.OpenFile(name, flag, perm)
		return &hookedFile{File: fl, failAfter: 100_000}, err
	}
	_, err := f.download(t, o)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error = %v, want ENOSPC", err)
	}
	if n := f.srv.Count(gitlabtest.RouteArtifacts); n != 1 {
		t.Errorf("%d requests; a full disk must not be retried", n)
	}
	mustBeEmpty(t, f.dir)
}

// hookedFile is an *os.File that can fail like a full disk after failAfter
// bytes and calls onWrite after each write.
type hookedFile struct {
	*os.File
	failAfter int64
	written   int64
	onWrite   func(written int64)
}

func (h *hookedFile) WriteAt(p []byte, off int64) (int, error) {
	if h.failAfter > 0 && h.written+int64(len(p)) > h.failAfter {
		return 0, &os.PathError{Op: "write", Path: h.Name(), Err: syscall.ENOSPC}
	}
	n, err := h.File.WriteAt(p, off)
	h.written += int64(n)
	if h.onWrite != nil {
		h.onWrite(h.written)
	}
	return n, err
}

func TestDownloadTimesOutOverall(t *testing.T) {
	f := newFixture(t, randomBytes(archiveSize))
	f.srv.StallAfter(gitlabtest.RouteArtifacts, 1000)
	o := f.options()
	o.Timeout = 20 * time.Millisecond // the stall timeout (1 minute) never fires
	_, err := f.download(t, o)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish within 20ms") {
		t.Fatalf("error = %v, want the overall deadline", err)
	}
	mustBeEmpty(t, f.dir)
}

func TestOptionsAreValidated(t *testing.T) {
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"a URL is needed", Options{Output: "x"}, "not an http(s) URL"},
		{"a destination is needed", Options{URL: "https://h/x"}, "exactly one of"},
		{"both destinations are too many", Options{URL: "https://h/x", Dest: "d", Output: "o"}, "exactly one of"},
		{"stdout needs a writer", Options{URL: "https://h/x", Output: "-"}, "needs a writer"},
		{"a digest is 64 hex digits", Options{URL: "https://h/x", Output: "o", SHA256: "abc"}, "64 hexadecimal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Download(t.Context(), nil, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
