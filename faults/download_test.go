package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// archiveOf returns a zip of one incompressible file of n bytes.
func archiveOf(t *testing.T, n int, seed uint64) []byte {
	t.Helper()
	return gitlabtest.MakeZip(t, map[string]string{"dist/app.bin": string(randomBytes(n, seed))})
}

// TestFaultDownload injects every network fault the downloader promises to
// survive into `pipeline-artifacts download --url … -o out.zip`, and checks
// that the destination ends with the complete, correct archive or nothing.
func TestFaultDownload(t *testing.T) {
	t.Parallel()

	t.Run("a burst of 502 and 503 is retried", func(t *testing.T) {
		t.Parallel()
		inject(t, "GitLab answers 502, then 503, then the archive", "exit 0; out.zip complete; 3 requests; no token printed")
		f := newArtifacts(t, archiveOf(t, 64<<10, 1))
		f.gl.FailNext(gitlabtest.RouteArtifacts, 1, 502)
		f.gl.FailNext(gitlabtest.RouteArtifacts, 1, 503)
		p := f.download(t, "-o", "out.zip")
		if p.code() != 0 {
			t.Fatalf("want exit 0 after the burst: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out.zip": string(f.archive)})
		if n := f.gl.Count(gitlabtest.RouteArtifacts); n != 3 {
			t.Errorf("GitLab saw %d requests, want 3 (two failures, one success)", n)
		}
	})

	t.Run("429 with Retry-After is honoured", func(t *testing.T) {
		t.Parallel()
		inject(t, "GitLab answers 429 Too Many Requests with Retry-After: 1", "exit 0; out.zip complete; retried once, after the server's wait")
		f := newArtifacts(t, archiveOf(t, 64<<10, 2))
		f.gl.RetryAfter(gitlabtest.RouteArtifacts, 1)
		f.gl.FailNext(gitlabtest.RouteArtifacts, 1, 429)
		p := f.download(t, "-o", "out.zip")
		if p.code() != 0 {
			t.Fatalf("want exit 0 after the rate limit: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out.zip": string(f.archive)})
		if n := f.gl.Count(gitlabtest.RouteArtifacts); n != 2 {
			t.Errorf("GitLab saw %d requests, want 2", n)
		}
	})

	t.Run("a connection reset mid-body resumes with Range", func(t *testing.T) {
		t.Parallel()
		const cut = 100_000
		inject(t, fmt.Sprintf("the connection drops after %d body bytes", cut), fmt.Sprintf("exit 0; the retry asked Range: bytes=%d-; out.zip complete", cut))
		f := newArtifacts(t, archiveOf(t, 300<<10, 3))
		f.gl.CutBodyAfter(gitlabtest.RouteArtifacts, cut)
		p := f.download(t, "-o", "out.zip")
		if p.code() != 0 {
			t.Fatalf("want exit 0 after the reset: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out.zip": string(f.archive)})
		ranges := rangeRequests(f.gl, gitlabtest.RouteArtifacts)
		if len(ranges) < 2 || ranges[0] != "" || ranges[1] != fmt.Sprintf("bytes=%d-", cut) {
			t.Errorf("Range headers %q, want the whole body, then bytes=%d-", ranges, cut)
		}
	})

	t.Run("a silently truncated body is caught by --sha256", func(t *testing.T) {
		t.Parallel()
		inject(t, "GitLab ends a chunked body cleanly 1000 bytes short (no Content-Length)", "exit 1 naming the digest; nothing at -o")
		f := newArtifacts(t, archiveOf(t, 64<<10, 4))
		f.gl.TruncateSilently(gitlabtest.RouteArtifacts, len(f.archive)-1000)
		p := f.download(t, "-o", "out.zip", "--sha256", sha256Hex(f.archive))
		if p.code() != 1 {
			t.Fatalf("want exit 1 for a truncated body: %v", p)
		}
		if !strings.Contains(strings.ToLower(p.stderr.String()), "sha256") {
			t.Errorf("the error does not name the digest:\n%s", p.stderr.String())
		}
		nothingLost(t, p.cmd.Dir, nil)
	})

	t.Run("a stalled body is abandoned and resumed", func(t *testing.T) {
		t.Parallel()
		const stallAt = 50_000
		inject(t, fmt.Sprintf("the body stops after %d bytes and the connection stays open", stallAt), "--stall-timeout=200ms gave up on it; resumed with Range; exit 0; out.zip complete")
		f := newArtifacts(t, archiveOf(t, 200<<10, 5))
		f.gl.StallAfter(gitlabtest.RouteArtifacts, stallAt)
		p := f.download(t, "-o", "out.zip", "--stall-timeout=200ms")
		if p.code() != 0 {
			t.Fatalf("want exit 0 after the stall: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out.zip": string(f.archive)})
		if ranges := rangeRequests(f.gl, gitlabtest.RouteArtifacts); len(ranges) < 2 || ranges[1] != fmt.Sprintf("bytes=%d-", stallAt) {
			t.Errorf("Range headers %q, want a resume at %d", ranges, stallAt)
		}
	})

	t.Run("connection refused fails cleanly", func(t *testing.T) {
		t.Parallel()
		inject(t, "nothing listens on GitLab's port (connection refused)", "exit 1 within --timeout=1s of retries; nothing written")
		url := closedURL(t) + "/api/v4/projects/42/jobs/1000/artifacts"
		dir := t.TempDir()
		p := run(t, dir, []string{"CI_JOB_TOKEN=" + jobToken}, "download", "--url", url, "-o", "out.zip", "--timeout=1s")
		if p.code() != 1 || !strings.Contains(p.stderr.String(), "connection refused") {
			t.Fatalf("want exit 1 naming the refused connection: %v", p)
		}
		nothingLost(t, dir, nil)
	})

	t.Run("404 is exit 3, or 0 with --optional", func(t *testing.T) {
		t.Parallel()
		inject(t, "the job has no artifacts (404)", "exit 3; with --optional exit 0; nothing written either way")
		f := newArtifacts(t, nil)
		p := f.download(t, "-o", "out.zip")
		if p.code() != 3 {
			t.Errorf("want exit 3 for missing artifacts: %v", p)
		}
		nothingLost(t, p.cmd.Dir, nil)
		p = f.download(t, "-o", "out.zip", "--optional")
		if p.code() != 0 {
			t.Errorf("want exit 0 for missing artifacts with --optional: %v", p)
		}
		nothingLost(t, p.cmd.Dir, nil)
	})

	t.Run("a redirect to object storage carries no credential", func(t *testing.T) {
		t.Parallel()
		inject(t, "GitLab redirects to an object store that fails the test on any credential; the store cuts the body once",
			"exit 0; out.zip complete; the store saw no token, also on the resumed request")
		f := newArtifacts(t, archiveOf(t, 200<<10, 6))
		store := gitlabtest.NewObjectStore(t)
		f.gl.RedirectTo(store)
		store.CutBodyAfter(gitlabtest.RouteObject, 70_000)
		p := f.download(t, "-o", "out.zip")
		if p.code() != 0 {
			t.Fatalf("want exit 0 through the object store: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out.zip": string(f.archive)})
		if n := store.Count(gitlabtest.RouteObject); n < 2 {
			t.Errorf("the object store saw %d requests, want the cut one and its resume", n)
		}
		if v := store.Violations(); len(v) > 0 {
			t.Errorf("credentials reached the object store: %q", v)
		}
	})

	t.Run("parallel ranges survive a cut chunk", func(t *testing.T) {
		t.Parallel()
		inject(t, "a 1 MiB archive in 64 KiB ranged chunks (--parallel 4); the third request's body drops after 10000 bytes",
			"exit 0; the cut chunk resumed inside its range; out.zip complete")
		f := newArtifacts(t, archiveOf(t, 1<<20, 7))
		f.gl.OnRequest(gitlabtest.RouteArtifacts, func(n int) {
			if n == 3 { // the probe is request 1; chunks follow
				f.gl.CutBodyAfter(gitlabtest.RouteArtifacts, 10_000)
			}
		})
		p := f.download(t, "-o", "out.zip", "--parallel", "4", "--parallel-min", "1KiB", "--chunk-size", "64KiB")
		if p.code() != 0 {
			t.Fatalf("want exit 0 with a cut chunk: %v", p)
		}
		nothingLost(t, p.cmd.Dir, map[string]string{"out.zip": string(f.archive)})
		resumed := false
		ranged := 0
		for _, r := range rangeRequests(f.gl, gitlabtest.RouteArtifacts) {
			var from, to int64
			if _, err := fmt.Sscanf(r, "bytes=%d-%d", &from, &to); err == nil {
				ranged++
				resumed = resumed || from%(64<<10) != 0
			}
		}
		if ranged < (1<<20)/(64<<10) || !resumed {
			t.Errorf("%d ranged requests (want at least 16), a resume inside a chunk: %v", ranged, resumed)
		}
	})

	t.Run("SIGTERM mid-transfer leaves nothing", func(t *testing.T) {
		t.Parallel()
		inject(t, "SIGTERM while the body is stalled mid-transfer (the temporary file exists)",
			"the process ended at once with a non-zero status; no out.zip, no .part file")
		f := newArtifacts(t, archiveOf(t, 512<<10, 8))
		f.gl.StallAfter(gitlabtest.RouteArtifacts, 100_000)
		dir := t.TempDir()
		p := start(t, dir, f.env(), "download", "--url", f.url, "-o", "out.zip")
		waitFor(t, "the download's temporary file", func() bool { return hasPart(dir) })
		p.signal(syscall.SIGTERM)
		p.wait(t)
		if p.code() == 0 {
			t.Errorf("a download cut short by SIGTERM exited 0: %v", p)
		}
		nothingLost(t, dir, nil)
	})
}

func hasPart(dir string) bool {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".part") {
			return true
		}
	}
	return false
}

// TestFaultFullDisk fills the file system the download writes to.
func TestFaultFullDisk(t *testing.T) {
	t.Parallel()

	t.Run("saving an archive larger than the disk", func(t *testing.T) {
		t.Parallel()
		sc := inject(t, "a 1 MiB archive saved with -o onto a 256 KiB tmpfs (ENOSPC)", "exit 1; the tmpfs left empty: no partial out.zip, no .part")
		disk := mountTmpfs(t, sc, 256<<10)
		f := newArtifacts(t, archiveOf(t, 1<<20, 9))
		p := run(t, t.TempDir(), f.env(), "download", "--url", f.url, "-o", filepath.Join(disk, "out.zip"))
		if p.code() != 1 || !strings.Contains(p.stderr.String(), "no space left on device") {
			t.Fatalf("want exit 1 naming the full disk: %v", p)
		}
		nothingLost(t, disk, nil)
	})

	t.Run("extracting more than the disk holds", func(t *testing.T) {
		t.Parallel()
		sc := inject(t, "--dest on a 256 KiB tmpfs: a 1 MiB-when-extracted archive whose download fits; it also replaces a file already there",
			"exit 1; --dest as it was (the old file intact, no staging directory, no .part)")
		disk := mountTmpfs(t, sc, 256<<10)
		dest := filepath.Join(disk, "public")
		if err := os.Mkdir(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dest, "index.html"), []byte("the old site\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		block := fmt.Sprintf("%x", randomBytes(8<<10, 10)) // 16 KiB of hex, repeated: compresses well
		files := map[string]string{"index.html": "the new site\n"}
		for i := range 4 {
			files[fmt.Sprintf("assets/blob%d.txt", i)] = strings.Repeat(block, 16) // 256 KiB each
		}
		f := newArtifacts(t, gitlabtest.MakeZip(t, files))
		if len(f.archive) > 64<<10 {
			t.Fatalf("the archive is %d bytes: its download would not fit on the disk", len(f.archive))
		}
		p := run(t, t.TempDir(), f.env(), "download", "--url", f.url, "--dest", dest)
		if p.code() != 1 || !strings.Contains(p.stderr.String(), "no space left on device") {
			t.Fatalf("want exit 1 naming the full disk when extraction fills it: %v", p)
		}
		nothingLost(t, dest, map[string]string{"index.html": "the old site\n"})
	})
}

// TestFaultDownloadOneFile injects faults into `download --path`, which
// reads one file of the archive by HTTP Range on GitLab's runner route.
func TestFaultDownloadOneFile(t *testing.T) {
	t.Parallel()
	runnerURL := func(f artifactsFixture) string {
		return strings.Replace(f.url, fmt.Sprintf("/projects/%d", projectID), "", 1)
	}

	t.Run("a server that ignores Range fails --path with one line", func(t *testing.T) {
		t.Parallel()
		inject(t, "the runner route answers every ranged request with the whole archive (200)",
			"exit 1 with one line saying why; no file at the destination; no second request for the archive")
		f := newArtifacts(t, archiveOf(t, 1<<20, 11))
		f.gl.NoRanges(gitlabtest.RouteRunnerArtifacts)
		dir := t.TempDir()
		p := run(t, dir, f.env(), "download", "--url", runnerURL(f), "--path", "dist/app.bin", "--dest", "out")
		if p.code() != 1 || !strings.Contains(p.stderr.String(), "drop --path") || strings.Count(strings.TrimSpace(p.stderr.String()), "\n") > 0 {
			t.Fatalf("want exit 1 and one line naming the missing range support: %v", p)
		}
		nothingLost(t, dir, nil)
		if n := f.gl.Count(gitlabtest.RouteRunnerArtifacts); n != 1 {
			t.Errorf("%d requests; a server without ranges must not be asked again", n)
		}
	})

	t.Run("a body cut inside the file's range is resumed", func(t *testing.T) {
		t.Parallel()
		inject(t, "the ranged read of the file's data drops after 10000 bytes", "exit 0; the file complete (CRC-32 checked)")
		body := string(randomBytes(600<<10, 12))
		archive := gitlabtest.MakeZip(t, map[string]string{"a/first.bin": body, "z/tail.txt": "tail"})
		f := newArtifacts(t, archive)
		f.gl.OnRequest(gitlabtest.RouteRunnerArtifacts, func(n int) {
			if n == 2 { // the tail is request 1
				f.gl.CutBodyAfter(gitlabtest.RouteRunnerArtifacts, 10_000)
			}
		})
		dir := t.TempDir()
		p := run(t, dir, f.env(), "download", "--url", runnerURL(f), "--path", "a/first.bin", "-o", "first.bin")
		if p.code() != 0 {
			t.Fatalf("want exit 0 after the cut: %v", p)
		}
		nothingLost(t, dir, map[string]string{"first.bin": body})
	})
}
