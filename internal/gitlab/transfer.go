package gitlab

import (
	"net/http"
	"net/url"
	"time"
)

// Helpers for the transfer engine (artifacts/), which sends some requests
// straight to an object store after GitLab redirected it there.

// DropCredentials removes every header that carries a credential. Use it in
// a Unit's Prepare when the URL is not GitLab's (a presigned object-store URL
// carries its own signature, and a second credential leaks the token and may
// make the store refuse the request).
func DropCredentials(h http.Header) {
	for _, name := range credentialHeaders {
		h.Del(name)
	}
}

// SameOrigin reports whether two URLs share scheme and host, the test the
// redirect policy uses before it strips credentials.
func SameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

// SetStallTimeout bounds how long a request may go without moving: the
// wait for a response's headers, and each window in which the body of an
// API answer must bring StallFloor bytes. A server that accepts a request
// and then says nothing (or next to nothing) fails the attempt, and the
// retry policy tries again, instead of hanging until the overall deadline.
// Call it before the client is used; zero means no limit. (The transfer
// engine watches archive bodies itself, with the same duration.)
func (c *Client) SetStallTimeout(d time.Duration) {
	c.stall = d
	switch t := c.http.Transport.(type) {
	case *http.Transport:
		t.ResponseHeaderTimeout = d
	case lazyRoots:
		t.ResponseHeaderTimeout = d
	}
}

// Redact returns u without query, fragment or user info, for messages: a
// presigned URL carries its credential in the query string.
func Redact(u *url.URL) string { return redact(u) }

// StoreURL returns where later requests for the body req fetched (ranges,
// resumes) go: the URL its redirect chain ended at — unless the chain left
// the first request's origin and came back to it. Then the URL at the end
// was chosen by another host, and it is the last URL outside the origin:
// requests there carry no credential (SameOrigin with the first URL is
// false), and the redirect it answers with keeps none either
// (checkRedirect).
func StoreURL(req *http.Request) *url.URL {
	var chain []*url.URL // last hop first
	for r := req; r != nil; {
		chain = append(chain, r.URL)
		if r.Response == nil {
			break
		}
		r = r.Response.Request
	}
	first := chain[len(chain)-1]
	if !SameOrigin(chain[0], first) {
		return chain[0]
	}
	for _, u := range chain[1:] {
		if !SameOrigin(u, first) {
			return u
		}
	}
	return chain[0]
}
