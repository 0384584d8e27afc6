package gitlab_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// credLog records which credential headers each path received.
type credLog struct {
	mu   sync.Mutex
	seen map[string]string
}

func (l *credLog) note(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]string{}
	}
	var got []string
	for _, h := range []string{"JOB-TOKEN", "PRIVATE-TOKEN", "Authorization", "Cookie"} {
		if v := r.Header.Get(h); v != "" {
			got = append(got, h+"="+v)
		}
	}
	l.seen[r.Host+r.URL.Path] = strings.Join(got, ",")
}

func (l *credLog) get(key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.seen[key]
	return v, ok
}

func TestARedirectChainThatComesBackToGitLabCarriesNoCredential(t *testing.T) {
	var log credLog
	other := httptest.NewUnstartedServer(nil) // started once its handler knows gl
	t.Cleanup(other.Close)
	otherURL := "http://" + other.Listener.Addr().String()
	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.note(r)
		switch r.URL.Path {
		case "/api/v4/start":
			// GitLab's own redirect, to a host it trusts, as object storage.
			http.Redirect(w, r, otherURL+"/bounce", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(gl.Close)
	other.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.note(r)
		// The other origin chooses where the token goes next: back to
		// GitLab, on a path of its choosing.
		http.Redirect(w, r, gl.URL+"/api/v4/chosen-by-the-other-host", http.StatusTemporaryRedirect)
	})
	other.Start()
	for _, cred := range []gitlab.Credential{{Kind: gitlab.JobToken, Token: "glcbt-chain"}, {Kind: gitlab.PrivateToken, Token: "glpat-chain"}} {
		c, err := gitlab.New(gitlab.Options{BaseURL: gl.URL + "/api/v4", Credential: cred, MinWait: time.Millisecond, MaxWait: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Do(t.Context(), gitlab.Unit{Method: "GET", URL: c.URL("start", nil),
			Handle: func(r *http.Response) error { _, err := io.Copy(io.Discard, r.Body); return err }})
		if err != nil {
			t.Fatalf("%s: %v", cred, err)
		}
		if got, _ := log.get(strings.TrimPrefix(gl.URL, "http://") + "/api/v4/start"); got == "" {
			t.Errorf("%s: GitLab's own route got no credential", cred)
		}
		if got, _ := log.get(strings.TrimPrefix(other.URL, "http://") + "/bounce"); got != "" {
			t.Errorf("%s: the other origin got %s", cred, got)
		}
		got, ok := log.get(strings.TrimPrefix(gl.URL, "http://") + "/api/v4/chosen-by-the-other-host")
		if !ok {
			t.Fatalf("%s: the chain was not followed back", cred)
		}
		if got != "" {
			t.Errorf("%s: a URL another origin chose got %s", cred, got)
		}
	}
}

func TestHostileRedirectsEndAtOnceWithOneLine(t *testing.T) {
	const token = "glcbt-hostile-redirect"
	tests := []struct {
		name, location, want string
		requests             int // at most: none retried
	}{
		{"a file URL", "file:///etc/passwd", `refused a redirect to a "file" URL`, 1},
		{"an ftp URL", "ftp://ftp.example.com/x", `refused a redirect to a "ftp" URL`, 1},
		{"a data URL", "data:text/plain," + token, `refused a redirect to a "data" URL`, 1},
		{"user info", "http://user:" + token + "@127.0.0.1:1/x", "with user info", 1},
		{"a loop", "/api/v4/loop", "stopped after 10 redirects", 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits int
			var mu sync.Mutex
			gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				mu.Unlock()
				w.Header().Set("Location", tt.location)
				w.WriteHeader(http.StatusFound)
			}))
			t.Cleanup(gl.Close)
			c, err := gitlab.New(gitlab.Options{BaseURL: gl.URL + "/api/v4", Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: token},
				MinWait: time.Millisecond, MaxWait: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Do(t.Context(), gitlab.Unit{Method: "GET", URL: c.URL("loop", nil), Handle: func(*http.Response) error { return nil }})
			switch {
			case err == nil:
				t.Fatal("a hostile redirect was followed to success")
			case !strings.Contains(err.Error(), tt.want):
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			case strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "\n"):
				t.Errorf("err = %q: not one line without the token", err)
			}
			if hits > tt.requests {
				t.Errorf("%d requests: a hostile redirect was retried", hits)
			}
		})
	}
}

// A signed object-store URL is a credential of its own: a store that
// redirects elsewhere must not have it sent along as the Referer.
func TestARedirectSendsNoReferer(t *testing.T) {
	var mu sync.Mutex
	var referers []string
	third := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		referers = append(referers, r.Header.Get("Referer"))
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(third.Close)
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, third.URL+"/elsewhere", http.StatusFound)
	}))
	t.Cleanup(store.Close)
	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, store.URL+"/bucket/a.zip?X-Amz-Signature=signed-secret", http.StatusFound)
	}))
	t.Cleanup(gl.Close)
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.URL + "/api/v4", MinWait: time.Millisecond, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(t.Context(), gitlab.Unit{Method: "GET", URL: c.URL("jobs/1/artifacts", nil),
		Handle: func(r *http.Response) error { _, err := io.Copy(io.Discard, r.Body); return err }})
	if err != nil {
		t.Fatal(err)
	}
	if len(referers) != 1 || referers[0] != "" {
		t.Errorf("the third host got Referer %q", referers)
	}
}

// The client keeps no cookies: one a server sets is never sent back, to it
// or to any host it redirects to.
func TestCookiesAServerSetsAreNeverSent(t *testing.T) {
	var mu sync.Mutex
	var cookies []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
	}))
	t.Cleanup(other.Close)
	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "_gitlab_session", Value: "session-secret", Path: "/"})
		if r.URL.Path == "/api/v4/first" {
			http.Redirect(w, r, "/api/v4/second", http.StatusFound)
			return
		}
		http.Redirect(w, r, other.URL+"/store", http.StatusFound)
	}))
	t.Cleanup(gl.Close)
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.URL + "/api/v4", MinWait: time.Millisecond, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		err = c.Do(t.Context(), gitlab.Unit{Method: "GET", URL: c.URL("first", nil), Handle: func(*http.Response) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(cookies, "") != "" || len(cookies) != 6 {
		t.Errorf("cookies sent: %q", cookies)
	}
}

// TestARefusalAfterTheTokenWasDroppedNamesNoToken: an object store that
// refuses the signed URL GitLab redirected to (it expired, say) did not
// refuse the job token, which never reached it; GitLab's own refusal did.
func TestARefusalAfterTheTokenWasDroppedNamesNoToken(t *testing.T) {
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Request has expired", http.StatusForbidden)
	}))
	t.Cleanup(store.Close)
	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/jobs/1/artifacts") {
			http.Redirect(w, r, store.URL+"/bucket/a.zip?X-Amz-Signature=x", http.StatusFound)
			return
		}
		http.Error(w, `{"message":"403 Forbidden"}`, http.StatusForbidden)
	}))
	t.Cleanup(gl.Close)
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.URL + "/api/v4", Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: "glcbt-dropped"},
		MinWait: time.Millisecond, MaxWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]gitlab.AuthKind{"jobs/1/artifacts": gitlab.NoAuth, "jobs/2/artifacts": gitlab.JobToken} {
		err := c.Do(t.Context(), gitlab.Unit{Method: "GET", URL: c.URL(path, nil), Handle: func(*http.Response) error { return nil }})
		var ae *gitlab.APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden || ae.Credential != want {
			t.Errorf("%s: %v, want a 403 that sent %s", path, err, want)
		}
	}
}
