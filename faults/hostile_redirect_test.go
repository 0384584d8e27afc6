package faults

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFaultRedirectChainBack: GitLab redirects to another host, which sends
// the client back to GitLab on a path it chose. Whatever the command, that
// path never gets the job token.
func TestFaultRedirectChainBack(t *testing.T) {
	t.Parallel()
	archive := archiveOf(t, 400<<10, 31) // past remotezip's 256 KiB tail: --path needs a second range
	for _, args := range [][]string{
		{"-o", "out.zip"},
		{"--path", "dist/app.bin", "-o", "app.bin"},
		{"--list"},
	} {
		name := strings.Join(args, " ")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inject(t, "GitLab redirects to another host, which redirects back to GitLab on a path of its choosing ("+name+")",
				"exit 0; the path the other host chose never sees the job token")
			var mu sync.Mutex
			var leaked []string
			other := httptest.NewUnstartedServer(nil) // started once its handler knows gl
			t.Cleanup(other.Close)
			otherURL := "http://" + other.Listener.Addr().String()
			gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasSuffix(r.URL.Path, "/artifacts"):
					http.Redirect(w, r, otherURL+"/bounce", http.StatusFound)
				case r.URL.Path == "/chosen":
					if r.Header.Get("JOB-TOKEN") != "" {
						mu.Lock()
						leaked = append(leaked, r.Method+" "+r.Header.Get("Range"))
						mu.Unlock()
					}
					http.ServeContent(w, r, "a.zip", time.Time{}, bytes.NewReader(archive))
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(gl.Close)
			other.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, gl.URL+"/chosen", http.StatusTemporaryRedirect)
			})
			other.Start()
			env := []string{"CI_JOB_TOKEN=" + jobToken, "CI_API_V4_URL=" + gl.URL + "/api/v4", "PIPELINE_ARTIFACTS_DEBUG=1"}
			cmd := []string{"download", "--url", gl.URL + "/api/v4/jobs/2/artifacts"}
			if args[0] == "--list" {
				cmd = []string{"list", "--url", gl.URL + "/api/v4/jobs/2/artifacts"}
			} else {
				cmd = append(cmd, args...)
			}
			p := run(t, t.TempDir(), env, cmd...)
			if p.code() != 0 {
				t.Fatalf("want exit 0: %v", p)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(leaked) > 0 {
				t.Errorf("the path the other host chose got the job token with %q", leaked)
			}
		})
	}
}

// TestFaultSilentListing: a GitLab that sends a listing's headers and then
// nothing must not hold `download --pipeline` past --stall-timeout's
// retries: the listing's body is watched as an archive's is.
func TestFaultSilentListing(t *testing.T) {
	t.Parallel()
	inject(t, "the pipeline jobs listing sends its headers and the first byte, then nothing",
		"download --pipeline fails with a stall well before the test's deadline")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("["))
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(deadline + time.Minute):
		}
	}))
	t.Cleanup(srv.Close)
	env := []string{"CI_JOB_TOKEN=" + jobToken, "CI_API_V4_URL=" + srv.URL + "/api/v4", "CI_PROJECT_ID=42"}
	p := run(t, t.TempDir(), env, "download", "build", "--pipeline", "5", "-o", "out.zip", "--stall-timeout", "300ms")
	if p.code() != 1 || !strings.Contains(p.stderr.String(), "too little data") {
		t.Fatalf("want exit 1 naming the stall: %v", p)
	}
}
