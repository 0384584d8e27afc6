// Package secret is the process-wide register of credentials this process
// holds, and the one masking rule every output path applies.
//
// Whoever reads a token registers it here (the GitLab client registers the
// credential it is given, the CLI registers tokens it finds in files,
// variables and URLs); every writer that can reach a user — log lines, the
// final error, --json, manifests — passes its text through Mask. Masking
// that depends on each caller remembering it is masking that gets forgotten.
package secret

import (
	"io"
	"net/url"
	"strings"
	"sync"
)

// Placeholder replaces a registered value, as the runner's own job-log masking does.
const Placeholder = "[MASKED]"

// minLen: shorter values are not registered; they would mask ordinary words.
const minLen = 8

var reg struct {
	sync.RWMutex
	values []string
}

// Register adds values to the register. Empty and short values are ignored,
// as are values already present.
func Register(values ...string) {
	reg.Lock()
	defer reg.Unlock()
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < minLen || contains(reg.values, v) {
			continue
		}
		reg.values = append(reg.values, v)
		// A token may reach a message URL-encoded (a query string, a
		// redirect Location): mask that spelling too.
		if e := url.QueryEscape(v); e != v && !contains(reg.values, e) {
			reg.values = append(reg.values, e)
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Mask returns s with every registered value replaced by Placeholder.
func Mask(s string) string {
	reg.RLock()
	defer reg.RUnlock()
	for _, v := range reg.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Placeholder)
		}
	}
	return s
}

// Writer masks everything written through it. A registered value split
// across two Write calls is not caught, so callers write whole lines or
// whole documents.
type Writer struct{ W io.Writer }

// Write masks p and writes it; it reports len(p) on success so that callers
// counting bytes see their own count.
func (w Writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.W, Mask(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RegisterURL registers every credential a URL carries: userinfo, and the
// token query parameters GitLab accepts (private_token, job_token, token,
// access_token). It returns the URL with those removed, safe to print.
func RegisterURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.User != nil {
		Register(u.User.Username())
		if p, ok := u.User.Password(); ok {
			Register(p)
		}
		u.User = nil
	}
	q := u.Query()
	changed := false
	for _, k := range credentialParams {
		for key := range q {
			if strings.EqualFold(key, k) {
				Register(q[key]...)
				q.Del(key)
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// credentialParams are the query parameters through which GitLab accepts a
// token (lib/gitlab/auth/auth_finders.rb: private_token, job_token, token;
// OAuth's access_token).
var credentialParams = []string{"private_token", "job_token", "token", "access_token"}

// Reset empties the register; for tests only.
func Reset() {
	reg.Lock()
	defer reg.Unlock()
	reg.values = nil
}
