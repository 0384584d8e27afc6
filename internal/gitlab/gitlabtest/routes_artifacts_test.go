package gitlabtest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

func archiveURL(f fixture, jobID int64) string {
	return fmt.Sprintf("%s/projects/%d/jobs/%d/artifacts", f.s.APIURL(), projectID, jobID)
}

func TestArchiveHonoursRangeAndIfRange(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	url := archiveURL(f, f.build.ID)
	resp, body := get(t, c, url, "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !bytes.Equal(body, f.zip) || etag == "" || lastMod == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("full download: %d bytes, ETag %q, Last-Modified %q, Accept-Ranges %q",
			len(body), etag, lastMod, resp.Header.Get("Accept-Ranges"))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="artifacts.zip"`) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	tail := f.zip[10:]
	cases := []struct {
		name   string
		header []string
		status int
		want   []byte
	}{
		{"a Range resumes from an offset", []string{"Range", "bytes=10-"}, 206, tail},
		{"If-Range with the current ETag keeps the range", []string{"Range", "bytes=10-", "If-Range", etag}, 206, tail},
		{"If-Range with the Last-Modified date keeps the range", []string{"Range", "bytes=10-", "If-Range", lastMod}, 206, tail},
		{"If-Range with another ETag sends the whole archive", []string{"Range", "bytes=10-", "If-Range", `"other"`}, 200, f.zip},
		{"a range past the end is unsatisfiable", []string{"Range", "bytes=999999-"}, 416, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, url, append([]string{"JOB-TOKEN", tokRunning}, tc.header...)...)
			wantStatus(t, resp, body, tc.status)
			if tc.want != nil && !bytes.Equal(body, tc.want) {
				t.Errorf("body is %d bytes, want %d", len(body), len(tc.want))
			}
			if want := fmt.Sprintf("bytes 10-%d/%d", len(f.zip)-1, len(f.zip)); tc.status == 206 && resp.Header.Get("Content-Range") != want {
				t.Errorf("Content-Range = %q, want %q", resp.Header.Get("Content-Range"), want)
			}
		})
	}
	t.Run("a replaced archive no longer matches the old ETag", func(t *testing.T) {
		newer := gitlabtest.MakeZip(t, map[string]string{"dist/app.txt": "rebuilt"})
		f.s.SetArtifact(f.build.ID, newer)
		resp, body := get(t, c, url, "JOB-TOKEN", tokRunning, "Range", "bytes=10-", "If-Range", etag)
		wantStatus(t, resp, body, 200)
		if !bytes.Equal(body, newer) || resp.Header.Get("ETag") == etag {
			t.Errorf("got %d bytes with ETag %s, want the new archive", len(body), resp.Header.Get("ETag"))
		}
	})
	t.Run("HEAD announces the size without a body", func(t *testing.T) {
		resp, body := do(t, c, http.MethodHead, url, "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 200)
		if resp.ContentLength <= 0 || len(body) != 0 {
			t.Errorf("HEAD: Content-Length %d, %d body bytes", resp.ContentLength, len(body))
		}
	})
	t.Run("a job without an archive is not found", func(t *testing.T) {
		resp, body := get(t, c, archiveURL(f, f.consumer.ID), "JOB-TOKEN", tokRunning)
		wantStatus(t, resp, body, 404)
	})
	t.Run("SetArtifact makes an archive appear", func(t *testing.T) {
		f.s.SetArtifact(f.consumer.ID, f.zip)
		resp, body := get(t, c, archiveURL(f, f.consumer.ID), "JOB-TOKEN", tokRunning)
		wantStatus(t, resp, body, 200)
	})
}

func TestArtifactFileReadsOneZipMember(t *testing.T) {
	f := newFixture(t)
	tgz := f.s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "tarball",
		Artifact: gitlabtest.MakeTarGz(t, map[string]string{"dist/app.txt": "x"})})
	c := newClient(t)
	cases := []struct {
		name   string
		job    int64
		path   string
		status int
		body   string
	}{
		{"a file in the archive is served", f.build.ID, "dist/app.txt", 200, "hello from build"},
		{"a missing file is not found", f.build.ID, "dist/missing.txt", 404, ""},
		{"a directory is not a file", f.build.ID, "dist/", 404, ""},
		{"dot-dot is a bad request", f.build.ID, "dist/../../../etc/passwd", 400, ""},
		{"encoded dot-dot is a bad request too", f.build.ID, "%2e%2e/secret", 400, ""},
		{"a tar.gz archive has no single files", tgz.ID, "dist/app.txt", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, archiveURL(f, tc.job)+"/"+tc.path, "JOB-TOKEN", tokRunning)
			wantStatus(t, resp, body, tc.status)
			if tc.body != "" && string(body) != tc.body {
				t.Errorf("body = %q, want %q", body, tc.body)
			}
		})
	}
	if n := f.s.Count(gitlabtest.RouteArtifactFile); n != len(cases) {
		t.Errorf("Count(RouteArtifactFile) = %d, want %d: rejected paths are logged too", n, len(cases))
	}
}

func TestTarGzArchivesGetTheirName(t *testing.T) {
	f := newFixture(t)
	j := f.s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "tarball",
		Artifact: gitlabtest.MakeTarGz(t, map[string]string{"a": "b"})})
	resp, body := get(t, newClient(t), archiveURL(f, j.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="artifacts.tar.gz"`) {
		t.Errorf("Content-Disposition = %q", cd)
	}
}
