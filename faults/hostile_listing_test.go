package faults

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
)

// TestFaultHostileListing: a GitLab whose job listing lies in its totals
// must not size an allocation or a loop in the env hook, which runs in
// every job's pre_build_script and must never fail it (fail-open).
func TestFaultHostileListing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, pages, total string }{
		{"a billion pages", "1000000000", "100000000000"},
		{"the largest int64 of pages", "9223372036854775807", "9223372036854775807"},
		{"negative totals", "-1", "-100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inject(t, "the pipeline jobs listing claims X-Total-Pages "+tc.pages+" (X-Total "+tc.total+")",
				"env exits 0, its output evals cleanly in bash, at most one warning line, no token")
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/pipelines/7001/jobs") {
					http.Error(w, `{"message":"404 Not found"}`, http.StatusNotFound)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Total-Pages", tc.pages)
				w.Header().Set("X-Total", tc.total)
				w.Header().Set("X-Per-Page", "100")
				w.Header().Set("X-Page", r.URL.Query().Get("page"))
				w.Write([]byte(`[{"id":1000,"name":"build","stage":"build","status":"success"}]`))
			}))
			t.Cleanup(srv.Close)
			env := []string{"CI_JOB_TOKEN=" + jobToken, "CI_API_V4_URL=" + srv.URL + "/api/v4", "CI_PROJECT_ID=42",
				"CI_PIPELINE_ID=7001", "CI_JOB_ID=1003", "CI_JOB_NAME=deploy", "GITLAB_CI=true"}
			p := run(t, t.TempDir(), env, "env")
			if p.code() != 0 {
				t.Fatalf("env failed the job: %v", p)
			}
			// A value GitLab could never send is either ignored (the
			// listing goes on page by page) or refused in one warning.
			if w := warnings(p.stderr.String()); len(w) > 1 {
				t.Errorf("%d warning lines, want at most one:\n%s", len(w), p.stderr.String())
			}
			bash := exec.Command("bash", "-c", `set -eu; eval "$0"; echo ok`, p.stdout.String())
			if out, err := bash.CombinedOutput(); err != nil || !strings.HasSuffix(string(out), "ok\n") {
				t.Errorf("eval of env's output: %v\n%s", err, out)
			}
		})
	}
}
