package gitlabtest

import (
	"net/http"
	"net/url"
	"slices"
)

// Request is one request as the fake received it, before any fault.
type Request struct {
	Route  Route
	Method string
	Host   string // host:port the client addressed
	Path   string
	Query  url.Values
	Header http.Header
}

// record logs r and returns the route's OnRequest hooks bound to its count.
func (in *instrument) record(route Route, r *http.Request) []func() {
	req := Request{Route: route, Method: r.Method, Host: r.Host, Path: r.URL.Path,
		Query: r.URL.Query(), Header: r.Header.Clone()}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.log = append(in.log, req)
	n := in.count(route)
	var hooks []func()
	for _, h := range in.route(route).hooks {
		hooks = append(hooks, func() { h(n) })
	}
	return hooks
}

// Requests returns a copy of every request received so far, in arrival order.
func (in *instrument) Requests() []Request {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Request, len(in.log))
	for i, r := range in.log {
		r.Query = cloneValues(r.Query)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Count returns how many requests the route has received.
func (in *instrument) Count(route Route) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.count(route)
}

func (in *instrument) count(route Route) int {
	n := 0
	for _, r := range in.log {
		if r.Route == route {
			n++
		}
	}
	return n
}

// OnRequest calls fn with the route's request count (1 for the first) each
// time a request arrives, before it is answered and outside any lock, so fn
// may change the fixture: e.g. let a job succeed on the third status poll
// without sleeping. fn runs on the server's goroutine: report with t.Errorf.
func (in *instrument) OnRequest(route Route, fn func(n int)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	rs := in.route(route)
	rs.hooks = append(rs.hooks, fn)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
