package gitlab_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// hostile serves one jobs listing whose headers and body a test chooses.
func hostile(t *testing.T, header map[string]string, body func(w http.ResponseWriter)) (*gitlab.Client, *int) {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		for k, v := range header {
			w.Header().Set(k, v)
		}
		body(w)
	}))
	t.Cleanup(srv.Close)
	c, err := gitlab.New(gitlab.Options{BaseURL: srv.URL + "/api/v4", MinWait: time.Millisecond, MaxWait: time.Millisecond,
		MaxRetryAfter: 10 * time.Millisecond, RetryMax: 2})
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func oneJob(w http.ResponseWriter) { fmt.Fprint(w, `[{"id":1,"name":"a"}]`) }

func TestHostileHeadersGiveOneClearError(t *testing.T) {
	t.Cleanup(gitlab.SetMaxPages(50))
	cases := []struct {
		name    string
		header  map[string]string
		body    func(http.ResponseWriter)
		wantErr string // "" means success with one job
		maxReqs int
	}{
		{"an absurd X-Total-Pages is ignored, not allocated", map[string]string{"X-Total-Pages": "9223372036854775807", "X-Total": "1"}, oneJob, "", 1},
		{"a billion pages is refused", map[string]string{"X-Total-Pages": "1000000000", "X-Total": "1"}, oneJob, "more than the 50", 1},
		{"a garbage X-Total is ignored", map[string]string{"X-Total": "-5e99", "X-Total-Pages": "x"}, oneJob, "", 1},
		{"an endless next link stops at the page cap", map[string]string{"X-Next-Page": "2"}, oneJob, "more than 50 pages", 50},
		{"a body over 64 MiB is one error, not retried", nil, func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", fmt.Sprint(gitlab.MaxJSONBody+10))
			w.WriteHeader(200)
		}, "larger than 64 MiB", 1},
		{"a body over 64 MiB without a length is caught while decoding", nil, func(w http.ResponseWriter) {
			fmt.Fprint(w, `[{"id":1,"name":"`)
			chunk := strings.Repeat("a", 1<<20)
			for range 65 {
				if _, err := fmt.Fprint(w, chunk); err != nil {
					return
				}
			}
		}, "larger than 64 MiB", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, n := hostile(t, tc.header, tc.body)
			jobs, err := c.PipelineJobs(t.Context(), "7", 1, gitlab.ListOptions{})
			switch {
			case tc.wantErr == "" && (err != nil || len(jobs) != 1):
				t.Fatalf("PipelineJobs = %d jobs, %v; want 1 job", len(jobs), err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			case strings.Count(fmt.Sprint(err), "\n") > 0:
				t.Errorf("error spans lines: %q", err)
			}
			if *n > tc.maxReqs {
				t.Errorf("%d requests, want at most %d", *n, tc.maxReqs)
			}
		})
	}
}

func TestHostileRetryAfterIsCapped(t *testing.T) {
	for _, v := range []string{"99999999999", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		t.Run(v, func(t *testing.T) {
			first := true
			c, _ := hostile(t, nil, func(w http.ResponseWriter) {
				if first {
					first = false
					w.Header().Set("Retry-After", v)
					w.Header().Set("RateLimit-Reset", "99999999999999")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				oneJob(w)
			})
			// MaxRetryAfter is 10ms: the test would hang for years otherwise.
			if _, err := c.PipelineJobs(t.Context(), "7", 1, gitlab.ListOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
