package artifacts

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/hostile"
)

// hostileRun downloads from s to a file (or with o's changes) and returns
// the result, the output directory and the error.
func hostileRun(t *testing.T, s *hostile.Server, change func(*Options)) (*Result, string, error) {
	t.Helper()
	base := s.Start(t)
	c := newTestClient(t, base, gitlab.Credential{Kind: gitlab.JobToken, Token: consumerTok})
	stall := time.Minute
	if s.Withhold != nil {
		stall = 200 * time.Millisecond
	}
	c.SetStallTimeout(stall) // as the CLI does
	dir := t.TempDir()
	o := Options{URL: base + "/artifacts", Job: "job 1", Output: filepath.Join(dir, "out.zip"),
		StallTimeout: stall, Timeout: 20 * time.Second}
	if change != nil {
		change(&o)
	}
	res, err := Download(t.Context(), c, o)
	return res, dir, err
}

// another is a different archive of the same length as b.
func another(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = c ^ 0x5a
	}
	return out
}

func mustHold(t *testing.T, dir string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, "out.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes that are not the %d-byte archive", len(got), len(want))
	}
}

func TestAResumeIntoAnotherVersionOfTheArchiveStartsOver(t *testing.T) {
	older := randomBytes(200_000)
	newer := another(older)
	longer := append(another(older), 1)
	cases := []struct {
		name string
		s    *hostile.Server
		want []byte
	}{
		{"a 206 with another ETag (If-Range ignored)", &hostile.Server{
			BodyFor: hostile.From(1, older, newer), ETag: hostile.From(1, `"old"`, `"new"`),
			IgnoreIfRange: true, CutAt: hostile.From(1, int64(70_000), 0)}, newer},
		{"a 206 with another complete length", &hostile.Server{
			BodyFor: hostile.From(1, older, longer), ETag: hostile.Same(`"same"`),
			CutAt: hostile.From(1, int64(70_000), 0)}, longer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			res, dir, err := hostileRun(t, tc.s, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustHold(t, dir, want)
			if res.Resumed != 0 {
				t.Errorf("resumed %d times into another archive", res.Resumed)
			}
		})
	}
}

func TestAChunkFromAnotherVersionSendsTheDownloadBackToOneStream(t *testing.T) {
	older := randomBytes(300_000)
	newer := another(older)
	// Request 0 is the probe; chunk requests from 2 on see a new archive
	// whose server ignores If-Range.
	s := &hostile.Server{BodyFor: hostile.From(2, older, newer), ETag: hostile.From(2, `"old"`, `"new"`), IgnoreIfRange: true}
	res, dir, err := hostileRun(t, s, func(o *Options) { o.Parallel, o.ChunkSize, o.ParallelMin, o.ParallelDirect = 4, 64<<10, 1, true })
	if err != nil {
		t.Fatal(err)
	}
	mustHold(t, dir, newer)
	if res.Streams != 1 {
		t.Errorf("streams = %d, want 1 after the fallback", res.Streams)
	}
}

func TestAServerThatCutsAtTheSameByteIsGivenUp(t *testing.T) {
	body := randomBytes(100_000)
	cases := []struct {
		name string
		s    *hostile.Server
	}{
		{"ranges honoured", &hostile.Server{Body: body, CutAt: hostile.Same(int64(40_000))}},
		{"ranges ignored", &hostile.Server{Body: body, IgnoreRange: true, CutAt: hostile.Same(int64(40_000))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, dir, err := hostileRun(t, tc.s, nil)
			if !errors.Is(err, errNoProgress) || !strings.Contains(err.Error(), "beyond byte 40000") {
				t.Fatalf("err = %v, want no progress beyond byte 40000", err)
			}
			mustBeEmpty(t, dir)
		})
	}
}

func TestWithheldHeadersAreAStallNotTheDeadline(t *testing.T) {
	body := randomBytes(50_000)
	t.Run("a stall is retried", func(t *testing.T) {
		s := &hostile.Server{Body: body, Withhold: func(n int) bool { return n == 0 }}
		res, dir, err := hostileRun(t, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustHold(t, dir, body)
		if res.Attempts != 2 {
			t.Errorf("attempts = %d, want 2", res.Attempts)
		}
	})
	t.Run("giving up names the stall", func(t *testing.T) {
		s := &hostile.Server{Body: body, Withhold: hostile.Same(true)}
		_, dir, err := hostileRun(t, s, func(o *Options) { o.Timeout = time.Hour })
		if err == nil || strings.Contains(err.Error(), "did not finish within") || !strings.Contains(err.Error(), "no response headers") {
			t.Fatalf("err = %v, want it to name the missing headers, not the deadline", err)
		}
		mustBeEmpty(t, dir)
	})
}

func TestTheSizeCapRefusesBeforeAndDuringTheTransfer(t *testing.T) {
	body := randomBytes(3 << 20)
	cases := []struct {
		name string
		s    *hostile.Server
		want string
	}{
		{"an announced length past the cap is refused unread", &hostile.Server{Body: body, Total: hostile.Same(int64(5 << 30))}, "announced 5368709120"},
		{"a body without a length is cut at the cap", &hostile.Server{Body: body, NoLength: true}, "grew past"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, dir, err := hostileRun(t, tc.s, func(o *Options) { o.MaxSize = 1 << 20 })
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrTooLarge saying %q", err, tc.want)
			}
			mustBeEmpty(t, dir)
			if n := len(tc.s.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: a refusal is not retried", n)
			}
		})
	}
}

func TestAHugeAnnouncedLengthDoesNotSizeTheChunkList(t *testing.T) {
	chunks := splitChunks(1<<62, 1<<20)
	if len(chunks) > maxChunks {
		t.Fatalf("%d chunks for a 4 EiB announcement, want at most %d", len(chunks), maxChunks)
	}
	if last := chunks[len(chunks)-1]; last.end != 1<<62 {
		t.Fatalf("the chunks end at %d, want %d", last.end, int64(1)<<62)
	}
}

func TestGitLabsSHA256ETagIsVerified(t *testing.T) {
	body := randomBytes(100_000)
	other := another(body)
	cases := []struct {
		name     string
		etag     string
		sha      string
		wantBy   string
		wantFail bool
	}{
		{"a SHA-256 ETag is verified by default", hostile.DigestETag(body), "", "sha256 (GitLab ETag)", false},
		{"a SHA-256 ETag that does not match fails", hostile.DigestETag(other), "", "", true},
		{"--sha256 takes precedence", `"x"`, sha256Hex(body), "sha256 (--sha256)", false},
		{"a digest from the manifest is named so", `"x"`, sha256Hex(body), "sha256 (manifest)", false},
		{"a 32-hex ETag is not a digest", `"` + sha256Hex(body)[:32] + `"`, "", "", false},
		{"a weak ETag is not a digest", "W/" + hostile.DigestETag(other), "", "", false},
		{"no ETag, nothing to verify", "", "", "", false},
		{"one file of the archive is not what the ETag digests", hostile.DigestETag(other), "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &hostile.Server{Body: body, ETag: hostile.Same(tc.etag)}
			res, dir, err := hostileRun(t, s, func(o *Options) {
				o.SHA256 = tc.sha
				if strings.Contains(tc.name, "manifest") {
					o.SHA256From = "manifest"
				}
				if strings.HasPrefix(tc.name, "one file") {
					o.URL += "/dist/app.bin"
				}
			})
			if tc.wantFail {
				var ie *IntegrityError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), "GitLab ETag") {
					t.Fatalf("err = %v, want a sha256 mismatch naming the ETag", err)
				}
				mustBeEmpty(t, dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mustHold(t, dir, body)
			wantSum := ""
			if tc.wantBy != "" {
				wantSum = sha256Hex(body)
			}
			if res.VerifiedBy != tc.wantBy || res.SHA256 != wantSum {
				t.Errorf("verified by %q, sha256 %q; want %q, %q", res.VerifiedBy, res.SHA256, tc.wantBy, wantSum)
			}
		})
	}
}

func TestAFailedDownloadIntoAMissingDestCreatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *hostile.Server
	}{
		{"a refused transfer", &hostile.Server{Body: randomBytes(1000), Total: hostile.Same(int64(5 << 30))}},
		{"a refused archive", &hostile.Server{Body: []byte("this is not an archive at all")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "a", "b")
			_, _, err := hostileRun(t, tc.s, func(o *Options) { o.Output, o.Dest = "", dest })
			if err == nil {
				t.Fatal("the download succeeded")
			}
			mustBeEmpty(t, parent)
		})
	}
}

func TestATricklingServerIsAStallNotTheDeadline(t *testing.T) {
	body := randomBytes(50_000)
	s := &hostile.Server{Body: body, Trickle: hostile.Same(10 * time.Millisecond)}
	_, dir, err := hostileRun(t, s, func(o *Options) { o.StallTimeout = 100 * time.Millisecond; o.Timeout = 15 * time.Second })
	if err == nil || strings.Contains(err.Error(), "did not finish within") || !errors.Is(err, errNoProgress) {
		t.Fatalf("err = %v, want the download given up for a lack of progress, not at the deadline", err)
	}
	if !strings.Contains(err.Error(), "less than") {
		t.Errorf("err = %v, want it to say the server sent too little", err)
	}
	mustBeEmpty(t, dir)
}
