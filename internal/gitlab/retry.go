package gitlab

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Policy is the one retry policy of the project: connection errors, broken
// bodies, 408, 429 and 5xx except 501 are retried with jittered exponential
// backoff; Retry-After and RateLimit-Reset are honoured; 4xx and cancelled
// contexts are final.
type Policy struct {
	MinWait, MaxWait time.Duration
	MaxRetryAfter    time.Duration
	Now              func() time.Time
}

// PermanentError marks an error that must not be retried (an integrity
// failure, a full disk, a refused redirect); Do returns it as the error, its
// message the wrapped error's.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that the retry policy gives up at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// ShouldRetry is the policy's decision for one attempt.
func ShouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var perm *PermanentError
	var ae *APIError
	switch {
	case errors.As(err, &perm):
		return false, err
	case errors.As(err, &ae):
		return retryableStatus(ae.StatusCode), err
	case errors.Is(err, context.Canceled):
		return false, err
	case errors.Is(err, context.DeadlineExceeded):
		// ctx is alive (checked above), so this is not our deadline: it is
		// net/http's response-header or client timeout, whose error also
		// matches DeadlineExceeded. A server that withholds its headers has
		// stalled; the next attempt may get through.
		return true, err
	case isCertError(err):
		return false, err
	case err != nil:
		return true, err
	}
	if retryableStatus(resp.StatusCode) {
		return true, &APIError{Method: resp.Request.Method, URL: redact(resp.Request.URL), StatusCode: resp.StatusCode}
	}
	return false, nil
}

func retryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return true
	case code == http.StatusNotImplemented:
		return false
	}
	return code >= 500 || code == 0
}

func isCertError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host)
}

// Backoff returns the wait before retry number attempt (0-based): the
// server's Retry-After (seconds or HTTP date) or RateLimit-Reset (a Unix
// time) when present, capped at MaxRetryAfter; otherwise exponential from
// MinWait, capped at MaxWait, with "equal jitter" so that many jobs started
// together do not retry in lockstep.
func (p Policy) Backoff(attempt int, resp *http.Response) time.Duration {
	if d, ok := p.serverWait(resp); ok {
		return min(d, p.MaxRetryAfter)
	}
	d := p.MaxWait
	if attempt < 30 {
		d = min(p.MinWait<<attempt, p.MaxWait)
	}
	half := d / 2
	return half + rand.N(half+1)
}

func (p Policy) serverWait(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), p.Now()); ok {
		return d, true
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return parseRateLimitReset(resp.Header.Get("RateLimit-Reset"), p.Now())
	}
	return 0, false
}

// parseRetryAfter reads RFC 9110 Retry-After: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, 1<<32)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// parseRateLimitReset reads GitLab's RateLimit-Reset, a Unix time
// (https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers),
// not a delta.
func parseRateLimitReset(v string, now time.Time) (time.Duration, bool) {
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil || s <= 0 {
		return 0, false
	}
	return max(time.Unix(min(s, 1<<40), 0).Sub(now), 0), true
}

func (c *Client) newRetryClient() *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:   c.http,
		RetryMax:     c.retryMax,
		RetryWaitMin: c.policy.MinWait,
		RetryWaitMax: c.policy.MaxWait,
		CheckRetry:   ShouldRetry,
		Backoff: func(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
			return c.policy.Backoff(attempt, resp)
		},
		ErrorHandler: func(resp *http.Response, err error, attempts int) (*http.Response, error) {
			if resp != nil && resp.Body != nil {
				resp.Body.Close()
			}
			err = redactURLError(err)
			if attempts > 1 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempts)
			}
			return nil, err
		},
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				c.logger.Debugf("retrying %s %s (attempt %d)", req.Method, redact(req.URL), attempt+1)
			}
		},
	}
}

// Unit is one attempt's work: Prepare adjusts the request before every
// attempt (e.g. a Range header to resume), Handle consumes the response
// (reading the body is part of the attempt). A Handle error is retried
// unless it is an *APIError with a final status or wrapped by Permanent.
type Unit struct {
	Method  string
	URL     string
	Prepare func(*http.Request) error
	Handle  func(*http.Response) error
	// Attempts, when not nil, is incremented on every attempt.
	Attempts *int
}

// Do runs u under the client's retry policy. Non-2xx answers reach Handle
// only when AcceptStatus says so; otherwise they become *APIError.
func (c *Client) Do(ctx context.Context, u Unit) error {
	req, err := c.NewRequest(ctx, u.Method, u.URL)
	if err != nil {
		return err
	}
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return err
	}
	prepare := func(r *http.Request) error {
		if u.Attempts != nil {
			*u.Attempts++
		}
		if u.Prepare != nil {
			return u.Prepare(r)
		}
		return nil
	}
	if err := prepare(rreq.Request); err != nil {
		return err
	}
	rc := c.newRetryClient()
	rc.PrepareRetry = prepare
	var last error // what the last attempt saw, for when the deadline ends the wait
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		retry, cerr := ShouldRetry(ctx, resp, err)
		if cerr != nil && ctx.Err() == nil {
			last = cerr
		}
		return retry, cerr
	}
	rreq.SetResponseHandler(func(resp *http.Response) error {
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return c.newAPIError(resp)
		}
		return u.Handle(resp)
	})
	_, err = rc.Do(rreq)
	if ctx.Err() != nil && last != nil {
		return fmt.Errorf("%w (last attempt: %v)", ctx.Err(), redactURLError(last))
	}
	return unwrapPermanent(err)
}

// redactURLError strips the query from a *url.Error: after a redirect it
// names a signed object-store URL.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = redact(u)
		}
	}
	return err
}

// unwrapPermanent returns the permanent error itself, without the layers
// net/http and the retry client put around it, still marked: a caller that
// asks ShouldRetry about it (a loop around Do) must hear no as well.
func unwrapPermanent(err error) error {
	var perm *PermanentError
	if errors.As(err, &perm) {
		return perm
	}
	return err
}
