package serve_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// oneFileSetups are GitLabs on which one file of a sibling's archive must
// be served, EE Free included, whose single-file route refuses job tokens.
var oneFileSetups = []setup{
	{"EE Free 18.0 with the job token alone", eeFree180, false},
	{"EE Free 19.2 with the job token alone", eeFree192, false},
	{"CE 19.2 with the job token alone", ce19_2, false},
	{"EE Premium 19.2 with the job token alone", eePrem192, false},
	{"CE 17.9 with the admin token for the listing", ce17_9, true},
}

// storedZip is a zip whose entries are stored, not deflated, in order:
// their bytes can be found in it, and a big one keeps the first out of the
// archive's tail.
func storedZip(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// runnerReads counts the runner route's requests for the whole archive
// and those for a range of it, object storage included.
func runnerReads(gl *gitlabtest.Server) (whole, ranged int) {
	for _, r := range gl.Requests() {
		if r.Route != gitlabtest.RouteRunnerArtifacts && r.Route != gitlabtest.RouteObject {
			continue
		}
		if r.Header.Get("Range") == "" {
			whole++
		} else {
			ranged++
		}
	}
	return whole, ranged
}

// rangedBytes adds up the bytes the runner route was asked for, a
// suffix range counted in full.
func rangedBytes(t *testing.T, gl *gitlabtest.Server) int64 {
	t.Helper()
	var n int64
	for _, r := range gl.Requests() {
		v, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
		if !ok {
			continue
		}
		first, last, _ := strings.Cut(v, "-")
		a, errA := strconv.ParseInt(first, 10, 64)
		b, errB := strconv.ParseInt(last, 10, 64)
		switch {
		case first == "" && errB == nil:
			n += b
		case errA == nil && errB == nil:
			n += b - a + 1
		default:
			t.Fatalf("unexpected Range %q", r.Header.Get("Range"))
		}
	}
	return n
}

func TestOneFileIsReadByRangesOnEveryTier(t *testing.T) {
	for _, c := range oneFileSetups {
		t.Run(c.name, func(t *testing.T) {
			s, svc := c.start(t)
			big := rand.Text() + strings.Repeat(rand.Text(), 1<<15) // ~ 800 KiB
			archive := storedZip(t, [2]string{"site/report.html", "<p>report</p>"}, [2]string{"big.bin", big})
			s.gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "bundle", Artifact: archive})

			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet,
				svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts/site/report.html?job=bundle", nil)
			req.Header.Set("JOB-TOKEN", deployToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(body) != "<p>report</p>" {
				t.Fatalf("%d %q %v", resp.StatusCode, body, err)
			}
			for h, want := range map[string]string{"Content-Type": "application/octet-stream",
				"Content-Length": "13", "Content-Disposition": `attachment; filename=report.html`} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			if whole, ranged := runnerReads(s.gl); whole != 0 || ranged < 2 {
				t.Errorf("GitLab saw %d whole downloads and %d ranged reads, want 0 and at least 2 (tail, entry)", whole, ranged)
			}
			if n := rangedBytes(t, s.gl); n > int64(len(archive))/2 {
				t.Errorf("GitLab was asked for %d bytes of a %d-byte archive", n, len(archive))
			}
			if n := s.gl.Count(gitlabtest.RouteArtifactFile); n != 0 {
				t.Errorf("the single-file route saw %d requests", n)
			}
		})
	}
}

func TestOneFileThatIsNotThereIsGitLabsNotFound(t *testing.T) {
	s, svc := setup{profile: eeFree180}.start(t)
	s.gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "bare"})
	tree := gitlabtest.MakeZipEntries(t, gitlabtest.ArchiveEntry{Name: "public/"},
		gitlabtest.ArchiveEntry{Name: "public/a.txt", Body: "a"}, gitlabtest.ArchiveEntry{Name: "link", Symlink: "public/a.txt"})
	s.gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "tree", Artifact: tree})
	cases := []struct{ name, path string }{
		{"a missing entry", "public/nope.html?job=build"},
		{"a directory", "public?job=tree"},
		{"a symbolic link", "link?job=tree"},
		{"a path escaping the archive", "public/..%2F..%2Fetc/passwd?job=build"},
		{"a job without an archive", "x.txt?job=bare"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts/"+c.path, deployToken)
			if code != http.StatusNotFound || body != `{"message":"404 Not found"}`+"\n" {
				t.Errorf("%d %s", code, body)
			}
		})
	}
}

func TestOneFileWithABadChecksumBreaksTheConnection(t *testing.T) {
	s, svc := setup{profile: eeFree180}.start(t)
	// Larger than the server's write buffer: the status and most of the body
	// are on their way before the check fails.
	content := strings.Repeat("the right bytes ", 8<<10)
	archive := storedZip(t, [2]string{"data.txt", content})
	i := bytes.Index(archive, []byte(content))
	archive[i+len(content)-1] ^= 0xff // the last byte: only the CRC-32 can tell
	s.gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "corrupt", Artifact: archive})

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet,
		svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts/data.txt?job=corrupt", nil)
	req.Header.Set("JOB-TOKEN", deployToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("the body ended cleanly after %d of %d bytes", len(body), len(content))
	}
	if len(body) >= len(content) {
		t.Errorf("the caller got all %d bytes", len(body))
	}
	resp.Body.Close()
	svc.stop(t)
	if !strings.Contains(svc.Log(), `"aborted":true`) {
		t.Errorf("the abort is not in the log:\n%s", svc.Log())
	}
}

// TestOneFileThatIsABombIsRefused: an entry past the caps download applies
// (here 1000:1) is refused before a byte of it is inflated.
func TestOneFileThatIsABombIsRefused(t *testing.T) {
	s, svc := setup{profile: eeFree180}.start(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("zeros.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 64<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	s.gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "bomb", Artifact: buf.Bytes()})
	code, body := get(t, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts/zeros.bin?job=bomb", deployToken)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "ratio") {
		t.Errorf("%d %s", code, body)
	}
}

// TestArchiveIsAskedForAsStored: the service asks GitLab (and object
// storage) for the archive's bytes as stored, never for gzip that net/http
// would inflate on the way: Content-Length, ranges and the SHA-256 ETag
// must describe what the caller gets.
func TestArchiveIsAskedForAsStored(t *testing.T) {
	s, svc := setup{profile: eeFree180}.start(t)
	if code, body := get(t, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts?job=build", deployToken); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	n := 0
	for _, r := range s.gl.Requests() {
		if r.Route != gitlabtest.RouteRunnerArtifacts && r.Route != gitlabtest.RouteObject {
			continue
		}
		n++
		if got := r.Header.Get("Accept-Encoding"); got != "identity" {
			t.Errorf("%s %s asked with Accept-Encoding %q", r.Route, r.Header.Get("Range"), got)
		}
	}
	if n == 0 {
		t.Fatal("no archive request reached GitLab")
	}
}
