package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

func TestListingsGitLabCouldNeverSendGiveOneErrorAtOnce(t *testing.T) {
	const tail = `{"id":1003,"name":"deploy","stage":"deploy","status":"running"}]`
	tests := []struct{ name, body, want string }{
		{"deeply nested JSON", strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000), "exceeded max depth"},
		{"an id past int64", `[{"id":99999999999999999999999,"name":"big"},` + tail, "cannot unmarshal"},
		{"a negative id", `[{"id":-5,"name":"neg"},` + tail, "a job with id -5"},
		{"a zero id", `[{"id":0,"name":"zero"},` + tail, "a job with id 0"},
		{"a negative archive size", `[{"id":7,"name":"neg","artifacts_file":{"filename":"a.zip","size":-10}},` + tail, "-10 bytes"},
		{"a pipeline id below 1", `[{"id":7,"name":"x","pipeline":{"id":-1,"project_id":1}},` + tail, "pipeline id -1"},
		{"a name past GitLab's 255 characters", `[{"id":7,"name":"` + strings.Repeat("é", 256) + `"},` + tail, "name of 256 characters"},
		{"a name of 255 characters is GitLab's", `[{"id":7,"name":"` + strings.Repeat("é", 255) + `"},` + tail, ""},
		{"not JSON", `<html>maintenance</html>`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c, err := gitlab.New(gitlab.Options{BaseURL: srv.URL + "/api/v4", MinWait: time.Millisecond, MaxWait: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.PipelineJobs(t.Context(), "7", 900, gitlab.ListOptions{})
			switch {
			case tt.want == "":
				if err != nil {
					t.Fatal(err)
				}
				return
			case err == nil:
				t.Fatal("the listing was accepted")
			case !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n"):
				t.Errorf("err = %q, want one line saying %q", err, tt.want)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("%d requests: an answer whose bytes are wrong is wrong on every attempt", n)
			}
		})
	}
}

// GitLab never names a job, a stage or an archive after the token it was
// asked with; a server that does would have it put into the job's variable
// names, manifest and log.
func TestAListingThatQuotesTheTokenIsRefused(t *testing.T) {
	const token = "glpat-echoed-admin-token"
	for _, row := range []string{
		`{"id":7,"name":"build ` + token + `"}`,
		`{"id":7,"name":"build","stage":"` + token + `"}`,
		`{"id":7,"name":"build","artifacts_file":{"filename":"` + token + `.zip","size":1}}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("[" + row + "]"))
		}))
		c, err := gitlab.New(gitlab.Options{BaseURL: srv.URL + "/api/v4", Credential: gitlab.Credential{Kind: gitlab.PrivateToken, Token: token},
			MinWait: time.Millisecond, MaxWait: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := c.PipelineJobs(t.Context(), "7", 900, gitlab.ListOptions{})
		srv.Close()
		if err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("%s: jobs %v, err %v: want the listing refused without quoting the token", row, jobs, err)
		}
	}
}

func TestASilentListingIsAStall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"id":7,`))
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c, err := gitlab.New(gitlab.Options{BaseURL: srv.URL + "/api/v4", MinWait: time.Millisecond, MaxWait: time.Millisecond, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.SetStallTimeout(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = c.PipelineJobs(ctx, "7", 900, gitlab.ListOptions{})
	if !errors.Is(err, gitlab.ErrStalled) || ctx.Err() != nil {
		t.Fatalf("err = %v, want a stall before the deadline", err)
	}
}
