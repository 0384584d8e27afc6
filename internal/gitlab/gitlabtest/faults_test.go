package gitlabtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

func TestFailNextAnswersTheNextRequestsOnly(t *testing.T) {
	f := newFixture(t)
	f.s.FailNext(gitlabtest.RouteJobs, 2, http.StatusServiceUnavailable)
	if n := f.s.PendingFaults(gitlabtest.RouteJobs); n != 2 {
		t.Fatalf("PendingFaults = %d, want 2", n)
	}
	c := newClient(t)
	url := f.s.APIURL() + "/projects/7/pipelines/100/jobs"
	for i, want := range []int{503, 503, 200} {
		resp, body := get(t, c, url, "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, want)
		if want == 503 && string(body) != `{"message":"503 Service Unavailable"}` {
			t.Errorf("request %d: body %s", i+1, body)
		}
	}
	if n := f.s.PendingFaults(gitlabtest.RouteJobs); n != 0 {
		t.Errorf("PendingFaults = %d after use, want 0", n)
	}
	if n := f.s.Count(gitlabtest.RouteJobs); n != 3 {
		t.Errorf("Count = %d, want 3: failed requests are logged", n)
	}
	resp, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200) // other routes are unaffected
}

func TestRateLimitedAnswersCarryRetryHeaders(t *testing.T) {
	f := newFixture(t)
	const reset = 1767322000
	f.s.FailNext(gitlabtest.RouteArtifacts, 1, http.StatusTooManyRequests)
	f.s.RetryAfter(gitlabtest.RouteArtifacts, 7)
	f.s.RateLimitReset(gitlabtest.RouteArtifacts, reset)
	c := newClient(t)
	resp, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 429)
	if string(body) != "Retry later\n" || resp.Header.Get("Retry-After") != "7" ||
		resp.Header.Get("RateLimit-Reset") != fmt.Sprint(reset) {
		t.Errorf("429: body %q, headers %v", body, resp.Header)
	}
	if at, err := http.ParseTime(resp.Header.Get("RateLimit-ResetTime")); err != nil || at.Unix() != reset {
		t.Errorf("RateLimit-ResetTime = %q (%v)", resp.Header.Get("RateLimit-ResetTime"), err)
	}
	resp, body = get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
}

// fetch returns the response and whatever body arrived before the error.
func fetch(t *testing.T, c *http.Client, url string, header ...string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestCutBodyAfterDropsTheConnection(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	routes := []struct {
		name  string
		route gitlabtest.Route
		url   string
	}{
		{"an archive download", gitlabtest.RouteArtifacts, archiveURL(f, f.build.ID)},
		{"a JSON listing", gitlabtest.RouteJobs, f.s.APIURL() + "/projects/7/pipelines/100/jobs"},
	}
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			_, whole := get(t, c, r.url, "JOB-TOKEN", tokRunning)
			f.s.CutBodyAfter(r.route, 100)
			resp, body, err := fetch(t, c, r.url, "JOB-TOKEN", tokRunning)
			if !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength != int64(len(whole)) {
				t.Errorf("err = %v, Content-Length %d; want unexpected EOF with the full length %d declared",
					err, resp.ContentLength, len(whole))
			}
			if !bytes.Equal(body, whole[:100]) {
				t.Errorf("got %d bytes before the cut, want the first 100", len(body))
			}
			resp, body = get(t, c, r.url, "JOB-TOKEN", tokRunning)
			wantStatus(t, resp, body, 200)
		})
	}
}

func TestTruncateSilentlyEndsCleanlyButShort(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	url := archiveURL(f, f.build.ID)
	f.s.TruncateSilently(gitlabtest.RouteArtifacts, 100)
	resp, body, err := fetch(t, c, url, "JOB-TOKEN", tokRunning)
	if err != nil || resp.ContentLength != -1 || !slices.Equal(resp.TransferEncoding, []string{"chunked"}) {
		t.Errorf("err %v, Content-Length %d, Transfer-Encoding %v; want a clean chunked body", err, resp.ContentLength, resp.TransferEncoding)
	}
	if !bytes.Equal(body, f.zip[:100]) {
		t.Errorf("got %d bytes, want the first 100", len(body))
	}

	f.s.TruncateSilently(gitlabtest.RouteArtifacts, 5)
	resp, body, err = fetch(t, c, url, "JOB-TOKEN", tokRunning, "Range", "bytes=10-")
	want := fmt.Sprintf("bytes 10-%d/%d", len(f.zip)-1, len(f.zip))
	if err != nil || resp.StatusCode != 206 || len(body) != 5 || resp.Header.Get("Content-Range") != want {
		t.Errorf("ranged truncation: %v, %d, %d bytes, Content-Range %q; want 5 bytes and %q",
			err, resp.StatusCode, len(body), resp.Header.Get("Content-Range"), want)
	}
}

func TestStallHoldsUntilTheClientGivesUp(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	f.s.Stall(gitlabtest.RouteArtifacts)
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, archiveURL(f, f.build.ID), nil)
	req.Header.Set("JOB-TOKEN", tokRunning)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, first); err != nil || first[0] != f.zip[0] {
		t.Fatalf("first byte: %v", err)
	}
	cancel()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("reading a stalled body after cancel succeeded")
	}
	resp2, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning)
	wantStatus(t, resp2, body, 200)
}

func TestCloseReleasesAStalledResponse(t *testing.T) {
	f := newFixture(t)
	f.s.StallAfter(gitlabtest.RouteArtifacts, 10)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, archiveURL(f, f.build.ID), nil)
	req.Header.Set("JOB-TOKEN", tokRunning)
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	f.s.Close() // returns only once the stalled handler has let go
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after Close: %v, want unexpected EOF", err)
	}
}

func TestNoRangesIgnoresRangeUntilCleared(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	f.s.NoRanges(gitlabtest.RouteArtifacts)
	for range 2 {
		resp, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning, "Range", "bytes=10-")
		wantStatus(t, resp, body, 200)
		if !bytes.Equal(body, f.zip) {
			t.Errorf("got %d bytes, want the whole archive", len(body))
		}
	}
	if got := f.s.Requests()[0].Header.Get("Range"); got != "bytes=10-" {
		t.Errorf("logged Range = %q: the log shows what the client sent", got)
	}
	f.s.ClearFaults(gitlabtest.RouteArtifacts)
	resp, body := get(t, c, archiveURL(f, f.build.ID), "JOB-TOKEN", tokRunning, "Range", "bytes=10-")
	wantStatus(t, resp, body, 206)
}

func TestFaultsApplyInOrderAndSkipHEAD(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	url := archiveURL(f, f.build.ID)
	f.s.FailNext(gitlabtest.RouteArtifacts, 1, http.StatusBadGateway)
	f.s.CutBodyAfter(gitlabtest.RouteArtifacts, 3)

	resp, body := get(t, c, url, "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 502)
	resp, body = do(t, c, http.MethodHead, url, "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	if n := f.s.PendingFaults(gitlabtest.RouteArtifacts); n != 1 {
		t.Fatalf("PendingFaults = %d after HEAD, want the cut still pending", n)
	}
	if _, _, err := fetch(t, c, url, "JOB-TOKEN", tokRunning); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("third request: %v, want the cut", err)
	}
	resp, body = get(t, c, url, "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
}

func TestLatencyEndsWithTheRequestContext(t *testing.T) {
	s := gitlabtest.New(gitlabtest.Latency(time.Hour))
	defer s.Close()
	ts := httptest.NewServer(s)
	s.AddToken(patAdmin)
	arrived := make(chan struct{}, 1)
	s.OnRequest(gitlabtest.RouteVersion, func(int) { arrived <- struct{}{} })

	ctx, cancel := context.WithCancel(t.Context())
	c := newClient(t)
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/v4/version", nil)
		req.Header.Set("PRIVATE-TOKEN", patAdmin)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v, want context.Canceled", err)
	}
	// Closing the listener (not s) waits for the handler: this returns only
	// because the latency wait noticed the cancelled request.
	ts.Close()
}

func TestCloseReleasesALatencyWait(t *testing.T) {
	f := newFixture(t, gitlabtest.Latency(time.Hour))
	arrived := make(chan struct{}, 1)
	f.s.OnRequest(gitlabtest.RouteVersion, func(int) { arrived <- struct{}{} })
	c := newClient(t)
	done := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.s.APIURL()+"/version", nil)
		req.Header.Set("PRIVATE-TOKEN", patAdmin)
		resp, err := c.Do(req)
		if err != nil {
			done <- nil
			return
		}
		resp.Body.Close()
		done <- resp
	}()
	<-arrived
	f.s.Close()
	if resp := <-done; resp != nil && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d after Close, want 503 or a dropped connection", resp.StatusCode)
	}
}
