package faults

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/hostile"
)

// hostileDownload runs `pipeline-artifacts download --url` against s with
// the deploy job's token, --debug on (so that every diagnostic is checked
// for tokens too), in a fresh directory.
func hostileDownload(t *testing.T, s *hostile.Server, args ...string) *proc {
	t.Helper()
	base := s.Start(t)
	env := []string{"CI_JOB_TOKEN=" + jobToken, "CI_API_V4_URL=" + base + "/api/v4", "PIPELINE_ARTIFACTS_DEBUG=1"}
	url := base + "/api/v4/projects/1/jobs/2/artifacts"
	return run(t, t.TempDir(), env, append([]string{"download", "--url", url}, args...)...)
}

// xor is a different archive of the same length as b.
func xor(b []byte) []byte {
	out := bytes.Clone(b)
	for i := range out {
		out[i] ^= 0x5a
	}
	return out
}

// TestFaultHostileServer drives the binary against servers that lie or
// misbehave in the ways that used to corrupt, splice, loop or fill the disk.
func TestFaultHostileServer(t *testing.T) {
	t.Parallel()

	t.Run("a resume into another version of the archive starts over", func(t *testing.T) {
		t.Parallel()
		inject(t, "the archive changes after 70 kB; the server ignores If-Range and sends a 206 of the new one",
			"exit 0; out.zip is the new archive whole, never a splice of two")
		older := archiveOf(t, 200_000, 11)
		newer := xor(older)
		s := &hostile.Server{BodyFor: hostile.From(1, older, newer), ETag: hostile.From(1, `"old"`, `"new"`),
			IgnoreIfRange: true, CutAt: hostile.From(1, int64(70_000), 0)}
		p := hostileDownload(t, s, "-o", "out.zip")
		if p.code() != 0 {
			t.Fatalf("want exit 0: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out.zip": string(newer)})
	})

	t.Run("a server that cuts every body at the same byte is given up", func(t *testing.T) {
		t.Parallel()
		inject(t, "every response ignores Range and is cut at byte 40000",
			"exit ≠ 0 long before --timeout, naming the lack of progress; nothing left")
		s := &hostile.Server{Body: archiveOf(t, 100_000, 12), IgnoreRange: true, CutAt: hostile.Same(int64(40_000))}
		p := hostileDownload(t, s, "-o", "out.zip", "--timeout", "1h")
		if p.code() == 0 || !strings.Contains(p.stderr.String(), "no progress beyond byte 40000") {
			t.Fatalf("want a failure naming no progress: %v", p)
		}
		nothingLost(t, p.cmd.Dir, nil)
	})

	t.Run("withheld headers are a stall, not the deadline", func(t *testing.T) {
		t.Parallel()
		inject(t, "the server accepts every request and never sends headers",
			"exit ≠ 0 after a few stall timeouts, naming the missing headers, not \"did not finish within 1h\"")
		s := &hostile.Server{Body: archiveOf(t, 1000, 13), Withhold: hostile.Same(true)}
		p := hostileDownload(t, s, "-o", "out.zip", "--stall-timeout", "300ms", "--timeout", "1h")
		out := p.stderr.String()
		if p.code() == 0 || strings.Contains(out, "did not finish within") || !strings.Contains(out, "no response headers") {
			t.Fatalf("want a failure naming the missing headers: %v", p)
		}
		nothingLost(t, p.cmd.Dir, nil)
	})

	t.Run("an announced length past --max-size is refused unread", func(t *testing.T) {
		t.Parallel()
		inject(t, "the server announces 5 GiB; --max-size 1MiB", "exit ≠ 0 after one request; nothing left, --dest not created")
		s := &hostile.Server{Body: archiveOf(t, 100_000, 14), Total: hostile.Same(int64(5 << 30))}
		p := hostileDownload(t, s, "--dest", "out/sub", "--max-size", "1MiB")
		if p.code() == 0 || !strings.Contains(p.stderr.String(), "size limit") {
			t.Fatalf("want a refusal naming the size limit: %v", p)
		}
		if n := len(s.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
		nothingLost(t, p.cmd.Dir, nil)
	})

	t.Run("a tar.gz with a bad CRC is refused and --dest is not created", func(t *testing.T) {
		t.Parallel()
		inject(t, "a .tar.gz whose gzip CRC-32 does not match its content", "exit ≠ 0; --dest (and its parent) not created")
		tgz := tarGz(t, "dist/app.txt", strings.Repeat("build output\n", 500))
		tgz[len(tgz)-8] ^= 1
		p := hostileDownload(t, &hostile.Server{Body: tgz}, "--dest", "out/sub")
		if p.code() == 0 {
			t.Fatalf("want a failure: %v", p)
		}
		nothingLost(t, p.cmd.Dir, nil)
	})

	t.Run("a gzip artifact that starts with zeros is extracted, not taken for an empty tar", func(t *testing.T) {
		t.Parallel()
		inject(t, "GitLab's one-file gzip format; the file starts with 4 KiB of zero bytes", "exit 0; the file extracted whole")
		content := append(make([]byte, 4096), "payload"...)
		p := hostileDownload(t, &hostile.Server{Body: gzipMember(t, "disk.img", content)}, "--dest", "out")
		if p.code() != 0 {
			t.Fatalf("want exit 0: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out/disk.img": string(content)})
	})

	t.Run("an ETag that is a SHA-256 is verified", func(t *testing.T) {
		t.Parallel()
		inject(t, "the ETag is the SHA-256 of another archive (GitLab's ETag format)", "exit ≠ 0 naming the sha256 mismatch; nothing left")
		body := archiveOf(t, 50_000, 15)
		s := &hostile.Server{Body: body, ETag: hostile.Same(hostile.DigestETag(xor(body)))}
		p := hostileDownload(t, s, "-o", "out.zip")
		if p.code() == 0 || !strings.Contains(p.stderr.String(), "sha256 mismatch") {
			t.Fatalf("want a sha256 mismatch: %v", p)
		}
		nothingLost(t, p.cmd.Dir, nil)
	})

	t.Run("a server that echoes the token gets it printed nowhere", func(t *testing.T) {
		t.Parallel()
		inject(t, "the server echoes the job token in response headers and cuts the body", "no output holds the token (checked on every run)")
		s := &hostile.Server{Body: archiveOf(t, 50_000, 16), Echo: true, CutAt: hostile.From(1, int64(20_000), 0)}
		p := hostileDownload(t, s, "-o", "out.zip")
		if p.code() != 0 {
			t.Fatalf("want exit 0: %v", p)
		}
		if reqs := s.Requests(); len(reqs) == 0 || !strings.Contains(reqs[0].Credential, jobToken) {
			t.Fatalf("the server did not see the token it is meant to echo")
		}
	})
}

func tarGz(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{tw, zw} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func gzipMember(t *testing.T, name string, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name = name
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
