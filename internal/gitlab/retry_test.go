package gitlab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestBackoff(t *testing.T) {
	p := Policy{MinWait: 100 * time.Millisecond, MaxWait: time.Second, MaxRetryAfter: time.Minute, Now: func() time.Time { return now }}
	header := func(kv ...string) *http.Response {
		r := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}}
		for i := 0; i < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	tests := []struct {
		name     string
		attempt  int
		resp     *http.Response
		min, max time.Duration
	}{
		{"the first retry waits between half and all of the minimum", 0, nil, 50 * time.Millisecond, 100 * time.Millisecond},
		{"later retries grow exponentially", 3, nil, 400 * time.Millisecond, 800 * time.Millisecond},
		{"growth stops at the maximum", 20, nil, 500 * time.Millisecond, time.Second},
		{"a huge attempt number does not overflow", 1000, nil, 500 * time.Millisecond, time.Second},
		{"Retry-After in seconds is honoured exactly", 0, header("Retry-After", "7"), 7 * time.Second, 7 * time.Second},
		{"Retry-After as an HTTP date is honoured", 0, header("Retry-After", now.Add(9*time.Second).Format(http.TimeFormat)), 9 * time.Second, 9 * time.Second},
		{"a Retry-After in the past means now", 0, header("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), 0, 0},
		{"RateLimit-Reset is a Unix time, not a delta", 0, header("RateLimit-Reset", strconv.FormatInt(now.Add(12*time.Second).Unix(), 10)), 12 * time.Second, 12 * time.Second},
		{"server waits are capped", 0, header("Retry-After", "86400"), time.Minute, time.Minute},
		{"garbage Retry-After falls back to backoff", 0, header("Retry-After", "soon"), 50 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				d := p.Backoff(tt.attempt, tt.resp)
				if d < tt.min || d > tt.max {
					t.Fatalf("Backoff = %v, want within [%v, %v]", d, tt.min, tt.max)
				}
			}
		})
	}
}

func TestShouldRetry(t *testing.T) {
	resp := func(code int) *http.Response {
		return &http.Response{StatusCode: code, Status: http.StatusText(code), Request: &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: "x"}}}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancelExpired()
	tests := []struct {
		name  string
		ctx   context.Context
		resp  *http.Response
		err   error
		retry bool
	}{
		{"a connection error is retried", context.Background(), nil, errors.New("connection reset by peer"), true},
		{"408 is retried", context.Background(), resp(408), nil, true},
		{"429 is retried", context.Background(), resp(429), nil, true},
		{"500 is retried", context.Background(), resp(500), nil, true},
		{"503 is retried", context.Background(), resp(503), nil, true},
		{"501 is final", context.Background(), resp(501), nil, false},
		{"400 is final", context.Background(), resp(400), nil, false},
		{"404 is final", context.Background(), resp(404), nil, false},
		{"200 is done", context.Background(), resp(200), nil, false},
		{"a 403 from the handler is final", context.Background(), nil, &APIError{StatusCode: 403}, false},
		{"a 502 from the handler is retried", context.Background(), nil, &APIError{StatusCode: 502}, true},
		{"a permanent error is final", context.Background(), nil, Permanent(errors.New("disk full")), false},
		{"a cancelled context stops everything", cancelled, resp(503), nil, false},
		{"a header timeout while our context lives is a stall, retried", context.Background(), nil,
			&url.Error{Op: "Get", URL: "http://x", Err: headerTimeout{}}, true},
		{"our own expired deadline is final", expired, nil, context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := ShouldRetry(tt.ctx, tt.resp, tt.err)
			if got != tt.retry {
				t.Fatalf("ShouldRetry = %v, want %v", got, tt.retry)
			}
		})
	}
}

func TestLinkNext(t *testing.T) {
	tests := []struct{ name, header, want string }{
		{"GitLab's full header yields the next page",
			`<https://gl/api/v4/x?page=2&per_page=100>; rel="next", <https://gl/api/v4/x?page=1&per_page=100>; rel="first", <https://gl/api/v4/x?page=3&per_page=100>; rel="last"`,
			"https://gl/api/v4/x?page=2&per_page=100"},
		{"the last page has no next", `<https://gl/x?page=1>; rel="first"`, ""},
		{"rel may list several relations", `<https://gl/x?page=4>; rel="last next"`, "https://gl/x?page=4"},
		{"an empty header has no next", "", ""},
		{"garbage has no next", `https://gl/x; rel=next`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LinkNext(tt.header); got != tt.want {
				t.Fatalf("LinkNext = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedirectStripsCredentialsOnlyAcrossHosts(t *testing.T) {
	mk := func(raw string) *http.Request {
		u, _ := url.Parse(raw)
		r := &http.Request{URL: u, Header: http.Header{}}
		for _, h := range credentialHeaders {
			r.Header.Set(h, "secret")
		}
		return r
	}
	origin := mk("https://gitlab.example.com/api/v4/projects/1/jobs/2/artifacts")
	same := mk("https://gitlab.example.com/api/v4/other")
	if err := checkRedirect(same, []*http.Request{origin}); err != nil || same.Header.Get("JOB-TOKEN") == "" {
		t.Fatalf("a same-host redirect lost its credential (err %v)", err)
	}
	for _, target := range []string{"https://storage.example.com/b/o?X-Amz-Signature=s", "https://cdn.gitlab.example.com/o", "http://gitlab.example.com/downgraded"} {
		other := mk(target)
		if err := checkRedirect(other, []*http.Request{origin}); err != nil {
			t.Fatal(err)
		}
		for _, h := range credentialHeaders {
			if other.Header.Get(h) != "" {
				t.Errorf("redirect to %s kept %s", target, h)
			}
		}
	}
}

func TestAPIErrorNeverShowsQueryOrToken(t *testing.T) {
	u, _ := url.Parse("https://storage.example.com/b/o?X-Amz-Signature=topsecret")
	e := &APIError{Method: "GET", URL: redact(u), StatusCode: 403, Credential: JobToken}
	msg := e.Error()
	if want := "GET https://storage.example.com/b/o: 403 Forbidden (sent job token (CI_JOB_TOKEN))"; msg != want {
		t.Fatalf("Error() = %q, want %q", msg, want)
	}
}

// headerTimeout is what net/http's transport returns when response headers
// do not come within ResponseHeaderTimeout: a net.Error whose Timeout is
// true and which matches context.DeadlineExceeded.
type headerTimeout struct{}

func (headerTimeout) Error() string        { return "net/http: timeout awaiting response headers" }
func (headerTimeout) Timeout() bool        { return true }
func (headerTimeout) Temporary() bool      { return true }
func (headerTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

func TestShouldRetryTakesARealHeaderTimeoutForAStall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // headers never come
	}))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 20 * time.Millisecond}}
	_, err := c.Get(srv.URL)
	if err == nil {
		t.Fatal("no error from a server that never answers")
	}
	if retry, _ := ShouldRetry(t.Context(), nil, err); !retry {
		t.Errorf("ShouldRetry(%v) = false: a withheld response is a stall and must be retried", err)
	}
}
