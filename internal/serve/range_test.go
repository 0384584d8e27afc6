package serve_test

import (
	"io"
	"net/http"
	"testing"
)

// TestARangedArchiveRequestGetsTheRangeAsked: a caller's Range goes to
// GitLab and its 206 comes back as it was, once its Content-Range is the
// answer to what was asked.
func TestARangedArchiveRequestGetsTheRangeAsked(t *testing.T) {
	s, svc := setup{profile: eeFree180}.start(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts?job=build", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("JOB-TOKEN", deployToken)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(s.zip[10:20]) {
		t.Fatalf("%s, %q (Content-Range %q); want 206 and bytes 10-19 of the archive", resp.Status, body, resp.Header.Get("Content-Range"))
	}
}
