package remotezip_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// A host GitLab redirects to may send the client back to GitLab, on a path
// it chose. The ranged reads after the first must not take the token there.
func TestRangesAfterARedirectChainBackToGitLabCarryNoToken(t *testing.T) {
	const token = "glcbt-remotezip-chain"
	want := noise(300<<10, 21)
	data := zipOf(t, "", file{name: "out/report.bin", data: want, method: 8}, file{name: "pad.bin", data: noise(1<<20, 22)})
	var mu sync.Mutex
	var leaks []string
	other := httptest.NewUnstartedServer(nil) // started once its handler knows gl
	t.Cleanup(other.Close)
	otherURL := "http://" + other.Listener.Addr().String()
	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v4/jobs/1/artifacts":
			http.Redirect(w, r, otherURL+"/bounce", http.StatusFound)
		case "/chosen":
			if v := r.Header.Get("JOB-TOKEN"); v != "" {
				mu.Lock()
				leaks = append(leaks, r.Header.Get("Range"))
				mu.Unlock()
			}
			http.ServeContent(w, r, "a.zip", time.Time{}, bytes.NewReader(data))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(gl.Close)
	other.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, gl.URL+"/chosen", http.StatusFound)
	})
	other.Start()
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.URL + "/api/v4", Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: token},
		MinWait: time.Millisecond, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	src, err := remotezip.NewHTTP(t.Context(), c, gl.URL+"/api/v4/jobs/1/artifacts", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := remotezip.Open(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := a.Extract(t.Context(), "out/report.bin", &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Error("the file read differs from the archive's")
	}
	if requests, _ := src.Stats(); requests < 2 {
		t.Fatalf("%d requests: the file was not read by a later range", requests)
	}
	if len(leaks) > 0 {
		t.Errorf("the URL the other host chose got the token with the ranges %q", leaks)
	}
}

// A server that sends its headers and then (next to) nothing must not hold
// `list` or `--path` forever: neither has an overall deadline for the tail.
func TestASilentBodyIsAStall(t *testing.T) {
	data := zipOf(t, "", file{name: "a.txt", data: []byte("hello")})
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(data)-1, len(data)))
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(data[:10])
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c, err := gitlab.New(gitlab.Options{BaseURL: srv.URL + "/api/v4", MinWait: time.Millisecond, MaxWait: time.Millisecond, RetryMax: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = remotezip.NewHTTPWith(ctx, c, srv.URL+"/api/v4/jobs/1/artifacts", remotezip.HTTPOptions{StallTimeout: 100 * time.Millisecond})
	if err == nil || ctx.Err() != nil || !errors.Is(err, gitlab.ErrStalled) {
		t.Fatalf("err = %v, want a stall before the 10 s deadline", err)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3 (the stall retried as any broken body)", n)
	}
}
