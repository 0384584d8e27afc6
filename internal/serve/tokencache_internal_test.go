package serve

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestTokenCachesHoldNoTokenInPlainText: the service remembers token checks
// (and rate limits) per job token for a while. A heap dump or a debugger
// attached to the long-lived service must not find a fleet's job tokens
// there: the caches are keyed by the token's SHA-256 and their values carry
// no token — accepted, refused and rate-limited tokens alike.
func TestTokenCachesHoldNoTokenInPlainText(t *testing.T) {
	const valid, forged = "glcbt-CACHE-valid-token-0001", "glcbt-CACHE-forged-token-0002"
	gl := gitlabtest.NewTest(t, gitlabtest.WithProfile(gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version19_2}))
	gl.AddProject(42)
	gl.AddPipeline(42, 7001)
	gl.AddJob(42, 7001, gitlabtest.JobSpec{Name: "build"})
	gl.AddJob(42, 7001, gitlabtest.JobSpec{Name: "deploy", Token: valid})
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	s, err := New(Config{GitLabURL: gl.URL, Log: logrus.NewEntry(quiet)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	for token, want := range map[string]int{valid: http.StatusOK, forged: http.StatusUnauthorized} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/v1/env", nil)
		req.Header.Set("JOB-TOKEN", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET /v1/env: %d, want %d", resp.StatusCode, want)
		}
	}

	if got := s.tokens.lru.Len(); got != 2 {
		t.Fatalf("the token cache holds %d entries, want 2 (one accepted, one refused)", got)
	}
	if got := s.limits.lru.Len(); got != 2 {
		t.Fatalf("the rate limiter holds %d entries, want 2", got)
	}
	keys := append(s.tokens.lru.Keys(), s.limits.lru.Keys()...)
	for _, token := range []string{valid, forged} {
		for _, k := range keys {
			if bytes.Contains(k[:], []byte(token)) {
				t.Errorf("a cache key holds the token %s…", token[:12])
			}
		}
		if !s.tokens.lru.Contains(keyOf(token)) {
			t.Errorf("the token cache is not keyed by the SHA-256 of %s…", token[:12])
		}
		for _, a := range s.tokens.lru.Values() {
			if a.c.token != "" || strings.Contains(fmt.Sprintf("%#v", a), token) {
				t.Errorf("a cached token check holds the token %s…", token[:12])
			}
		}
	}
}
