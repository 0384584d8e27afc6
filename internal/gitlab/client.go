// Package gitlab is pipeline-artifacts' only GitLab API client. It is built on
// go-retryablehttp: one retry policy for every call, redirects that never carry
// a credential to another host, and typed errors callers can branch on.
package gitlab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// Version is the tool's version; the CLI sets it at start-up so that every
// request carries a pipeline-artifacts/<version> user agent.
var Version = "dev"

// AuthKind says which header carries a token.
type AuthKind int

const (
	// NoAuth sends no credential.
	NoAuth AuthKind = iota
	// JobToken sends CI_JOB_TOKEN as JOB-TOKEN.
	JobToken
	// PrivateToken sends a personal, project or group access token as PRIVATE-TOKEN.
	PrivateToken
)

// String names the kind the way GitLab's documentation does, for error
// messages that must say which token was refused without showing it.
func (k AuthKind) String() string {
	switch k {
	case JobToken:
		return "job token (CI_JOB_TOKEN)"
	case PrivateToken:
		return "private token"
	}
	return "no token"
}

// Credential is a token and the header it travels in. Its String method
// never shows the token.
type Credential struct {
	Kind  AuthKind
	Token string
}

func (c Credential) String() string { return c.Kind.String() }

// header returns the header name for the credential, "" for none.
func (c Credential) header() string {
	switch {
	case c.Token == "":
		return ""
	case c.Kind == JobToken:
		return "JOB-TOKEN"
	case c.Kind == PrivateToken:
		return "PRIVATE-TOKEN"
	}
	return ""
}

// Logger receives the client's diagnostics; *logrus.Entry satisfies it.
type Logger interface {
	Debugf(format string, args ...any)
	Warnf(format string, args ...any)
}

// Options configure a Client. Zero values mean the documented defaults.
type Options struct {
	BaseURL    string // CI_API_V4_URL, e.g. https://gitlab.example.com/api/v4
	Credential Credential
	UserAgent  string // default pipeline-artifacts/<Version>
	CAPEM      []byte // extra CA certificates, e.g. CI_SERVER_TLS_CA_FILE's content
	RetryMax   int    // retries after the first attempt; default 5, negative for none
	MinWait    time.Duration
	MaxWait    time.Duration // backoff bounds; default 500ms and 30s
	// MaxRetryAfter caps how long a Retry-After or RateLimit-Reset may make
	// us wait; default 5 minutes.
	MaxRetryAfter time.Duration
	Concurrency   int // parallel page fetches; default 16
	Logger        Logger
	// MaskedByCaller leaves the credential out of the process-wide masking
	// register: for a long-running service that builds one client per
	// request's job token and masks that token in the request's own output.
	// Registering every job token of a fleet would grow the register, and
	// the cost of every masked line, for the life of the process.
	MaskedByCaller bool
}

// Client talks to one GitLab instance with one credential. It is safe for
// concurrent use.
type Client struct {
	base     *url.URL
	cred     Credential
	agent    string
	http     *http.Client // no retries; token-stripping redirects
	retryMax int
	policy   Policy
	conc     int
	logger   Logger
	stall    time.Duration // see SetStallTimeout; 0: API bodies are not watched
	// noTriggerJobs remembers that GET …/trigger_jobs answered 404: this
	// GitLab predates 19.2, ask /bridges directly.
	noTriggerJobs atomic.Bool
}

// New validates opts and returns a client. It registers the credential with
// the process's masking register (internal/secret), so that no log line,
// error or file this process writes can show it, unless opts.MaskedByCaller.
func New(opts Options) (*Client, error) {
	if !opts.MaskedByCaller {
		secret.Register(opts.Credential.Token)
	}
	base, err := parseBase(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	hc, err := newHTTPClient(opts.CAPEM)
	if err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	c := &Client{
		base: base, cred: opts.Credential, agent: opts.UserAgent, http: hc,
		policy: Policy{MinWait: opts.MinWait, MaxWait: opts.MaxWait, MaxRetryAfter: opts.MaxRetryAfter, Now: time.Now},
		conc:   opts.Concurrency, logger: opts.Logger,
	}
	c.retryMax = opts.RetryMax
	return c, nil
}

func withDefaults(o Options) Options {
	if o.UserAgent == "" {
		o.UserAgent = "pipeline-artifacts/" + Version
	}
	if o.RetryMax == 0 {
		o.RetryMax = 5
	}
	if o.RetryMax < 0 {
		o.RetryMax = 0
	}
	if o.MinWait <= 0 {
		o.MinWait = 500 * time.Millisecond
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 30 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 5 * time.Minute
	}
	if o.Concurrency <= 0 {
		// After the first page, up to 16 more go out at once: a
		// 1,700-job pipeline resolves in two round trips.
		o.Concurrency = 16
	}
	if o.Logger == nil {
		o.Logger = nopLogger{}
	}
	return o
}

func parseBase(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("gitlab API URL is empty (CI_API_V4_URL)")
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gitlab API URL %q is not an http(s) URL", raw)
	}
	if u.User != nil {
		return nil, errors.New("gitlab API URL must not carry credentials")
	}
	return u, nil
}

// newHTTPClient builds the transport every request uses: proxies from the
// environment (cleanhttp), the system roots plus caPEM, and a redirect policy
// that drops credentials on a change of host (net/http keeps custom headers
// such as JOB-TOKEN across hosts; see docs/gitlab.md, "Redirects").
func newHTTPClient(caPEM []byte) (*http.Client, error) {
	hc := cleanhttp.DefaultPooledClient()
	if len(caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("custom CA (CI_SERVER_TLS_CA_FILE) holds no PEM certificate")
		}
		hc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	hc.CheckRedirect = checkRedirect
	hc.Transport = lazyRoots{hc.Transport.(*http.Transport)}
	return hc, nil
}

// credentialHeaders are removed from any request redirected to another host.
var credentialHeaders = []string{"JOB-TOKEN", "PRIVATE-TOKEN", "Authorization", "Cookie", "Proxy-Authorization"}

// checkRedirect strips the credential from every hop once the chain has
// left the first request's origin, also from a hop that comes back to it:
// net/http copies the first request's headers onto each hop, and the URL
// another host sends us back to GitLab with is that host's choice. A
// Location of another scheme than http(s) or with user info ends the chain
// at once, without a retry: no later attempt will be answered differently.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return Permanent(fmt.Errorf("stopped after 10 redirects, at %s", redact(req.URL)))
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return Permanent(fmt.Errorf("refused a redirect to a %q URL", req.URL.Scheme))
	}
	if req.URL.User != nil {
		return Permanent(fmt.Errorf("refused a redirect to %s with user info in its URL", redact(req.URL)))
	}
	if leftOrigin(req, via) {
		DropCredentials(req.Header)
	}
	// net/http sets the previous URL as Referer, query included: a signed
	// object-store URL would go to wherever the store redirects.
	req.Header.Del("Referer")
	return nil
}

// leftOrigin reports whether req or any earlier hop lies outside the origin
// of the chain's first request.
func leftOrigin(req *http.Request, via []*http.Request) bool {
	if !SameOrigin(req.URL, via[0].URL) {
		return true
	}
	for _, r := range via[1:] {
		if !SameOrigin(r.URL, via[0].URL) {
			return true
		}
	}
	return false
}

// HTTPClient returns the client's transport without retries, for callers
// that run their own unit of work through Do.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Credential reports which kind of credential the client sends.
func (c *Client) Credential() Credential { return Credential{Kind: c.cred.Kind} }

// URL resolves an API path (e.g. "projects/1/jobs/2/artifacts") against the
// base URL.
func (c *Client) URL(path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + "/" + strings.TrimLeft(path, "/")
	u.RawQuery = query.Encode()
	return u.String()
}

// NewRequest builds a request with the client's credential and user agent.
func (c *Client) NewRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.agent)
	if h := c.cred.header(); h != "" {
		req.Header.Set(h, c.cred.Token)
	}
	return req, nil
}

type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Warnf(string, ...any)  {}
