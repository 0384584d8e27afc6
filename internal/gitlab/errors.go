package gitlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// APIError is a non-2xx answer from GitLab (or the object store it
// redirected to). Callers branch on StatusCode.
type APIError struct {
	Method     string
	URL        string // without query string
	StatusCode int
	Message    string // GitLab's "message"/"error", shortened
	Credential AuthKind
	// Foreign is set when another origin than GitLab answered: the object
	// store GitLab redirected to, or whose URL it gave.
	Foreign bool
}

// Error reads like "GET <url>: 404 Not Found: 404 Project Not Found (sent job
// token (CI_JOB_TOKEN))". The server's message passes through secret.Mask: a
// body is data from the server and may echo a token back.
func (e *APIError) Error() string {
	return secret.Mask(e.message())
}

func (e *APIError) message() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" && !strings.Contains(msg, e.Message) {
		msg += ": " + e.Message
	}
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden || e.Message == msgProjectNotFound {
		msg += fmt.Sprintf(" (sent %s)", e.Credential)
	}
	return msg
}

// IsStatus reports whether err is an *APIError with one of the codes.
func IsStatus(err error, codes ...int) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.StatusCode == c {
			return true
		}
	}
	return false
}

// sent is the kind of credential req carried: the client's, unless the
// redirect policy dropped it on the way (an object store's refusal of a
// signed URL is not a refusal of the job token).
func (c *Client) sent(req *http.Request) AuthKind {
	if h := c.cred.header(); h == "" || req.Header.Get(h) == "" {
		return NoAuth
	}
	return c.cred.Kind
}

// newAPIError reads a short diagnostic from resp's body; it never includes
// the request's headers or query (which could hold a signed URL).
func (c *Client) newAPIError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &APIError{
		Method:     resp.Request.Method,
		URL:        redact(resp.Request.URL),
		StatusCode: resp.StatusCode,
		Message:    apiMessage(body),
		Credential: c.sent(resp.Request),
		Foreign:    !SameOrigin(resp.Request.URL, c.base),
	}
}

func apiMessage(body []byte) string {
	var m struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &m) == nil {
		switch {
		case m.Message != nil:
			msg = fmt.Sprint(m.Message)
		case m.Error != "":
			msg = m.Error
		}
	}
	// A message that is long, HTML, or holds a control character (a CR or
	// an ANSI escape could rewrite the line it is printed on) says nothing
	// we should repeat.
	if len(msg) > 200 || strings.ContainsAny(msg, "<") || strings.ContainsFunc(msg, unicode.IsControl) {
		return ""
	}
	return msg
}

// redact drops the query and any user info: signed object-store URLs carry
// their credential in the query string.
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}
