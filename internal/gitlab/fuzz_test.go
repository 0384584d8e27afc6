package gitlab

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func FuzzLinkNext(f *testing.F) {
	for _, s := range []string{
		`<https://gl/api/v4/x?page=2>; rel="next", <https://gl/api/v4/x?page=9>; rel="last"`,
		`<a>; rel=next`, `<>; rel="next"`, `<<>>; rel="next next"`, `;;;,,,`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		next := LinkNext(header)
		if next != "" && !strings.Contains(header, next) {
			t.Errorf("LinkNext(%q) = %q, which the header does not hold", header, next)
		}
		if strings.ContainsAny(next, "<>") {
			t.Errorf("LinkNext(%q) = %q kept the brackets", header, next)
		}
	})
}

func FuzzServerWait(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "99999999999999999999", "Fri, 31 Dec 1999 23:59:59 GMT", "Wed, 25 Nov 2026 12:00:09 GMT", "soon", ""} {
		f.Add(s, s, 429)
	}
	f.Add("", "1764072009", 429)
	f.Add("3", "", 503)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := Policy{MinWait: time.Millisecond, MaxWait: time.Second, MaxRetryAfter: time.Minute, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, retryAfter, reset string, status int) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		resp.Header.Set("Retry-After", retryAfter)
		resp.Header.Set("RateLimit-Reset", reset)
		for attempt := range 3 {
			d := p.Backoff(attempt, resp)
			if d < 0 || d > time.Minute {
				t.Fatalf("Backoff(%d, Retry-After %q, RateLimit-Reset %q) = %v, outside [0, MaxRetryAfter]", attempt, retryAfter, reset, d)
			}
		}
	})
}

func FuzzAPIErrorMessage(f *testing.F) {
	for _, s := range []string{`{"message":"403 Forbidden"}`, `{"message":{"base":["x"]}}`, `{"error":"invalid_token"}`, "<html>", "Retry later", ""} {
		f.Add(s, "https://storage/x?X-Amz-Signature=secret")
	}
	f.Fuzz(func(t *testing.T, body, rawURL string) {
		msg := apiMessage([]byte(body))
		if len(msg) > 200 || strings.Contains(msg, "\n") {
			t.Errorf("apiMessage(%q) = %q: too long or multi-line for one log line", body, msg)
		}
		if u, err := url.Parse(rawURL); err == nil {
			r := redact(u)
			if back, err := url.Parse(r); err == nil && (back.RawQuery != "" || back.User != nil) {
				t.Errorf("redact(%q) = %q kept the query or user info", rawURL, r)
			}
		}
	})
}
