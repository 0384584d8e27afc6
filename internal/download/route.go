package download

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// attempt is one way to fetch the target: a URL, and whether to read it
// by ranges (one file of the archive, or its listing) rather than whole.
type attempt struct {
	url    string
	ranged bool
}

// plan lists the ways to try, in order. GitLab has two download routes
// (https://docs.gitlab.com/api/job_artifacts/, lib/api/ci/runner.rb):
//
//   - the runner route <api>/jobs/<id>/artifacts takes only a job token,
//     on every tier; it serves whole archives, with Range;
//   - the project's artifacts API takes access tokens, and a job token
//     only on CE and EE Premium; it also serves one file (…/artifacts/<path>).
//
// A job token goes to the runner route, unless --url named the project's
// API: then that is tried first, and the runner route only after GitLab
// answered the tier's refusal (404 Project Not Found) — never after a 403,
// which is artifacts:access or a policy speaking. An access token goes to
// the project's API. oneFile asks for Path; listing for the central
// directory.
func plan(o *Options, t target, oneFile, listing bool) ([]attempt, error) {
	if !t.parsed {
		return []attempt{{url: withPathRaw(t.raw, o.Path, oneFile && !listing), ranged: listing}}, nil
	}
	ranged := oneFile || listing
	switch o.credential().Kind {
	case gitlab.JobToken:
		runner := attempt{url: runnerURL(t.ref, ranged), ranged: ranged}
		if t.fromUser && !t.ref.Runner() {
			return []attempt{projectAttempt(t.ref, o.Path, oneFile, listing), runner}, nil
		}
		return []attempt{runner}, nil
	case gitlab.PrivateToken:
		ref, err := publicRef(o, t)
		if err != nil {
			return nil, err
		}
		return []attempt{projectAttempt(ref, o.Path, oneFile, listing)}, nil
	}
	if t.ref.Runner() {
		return []attempt{{url: runnerURL(t.ref, ranged), ranged: ranged}}, nil
	}
	return []attempt{projectAttempt(t.ref, o.Path, oneFile, listing)}, nil
}

// projectAttempt is the project's API: GitLab's single-file route for one
// file, the archive by ranges for a listing.
func projectAttempt(ref gitlab.ArtifactRef, p string, oneFile, listing bool) attempt {
	if oneFile && !listing {
		return attempt{url: ref.WithPath(p).String()}
	}
	return attempt{url: ref.WithPath("").String(), ranged: listing}
}

// runnerURL is the runner route of ref's job. Read by ranges it asks for
// direct_download=true, so that object storage (not GitLab) serves the
// ranges where it holds the archive.
func runnerURL(ref gitlab.ArtifactRef, ranged bool) string {
	r := ref.WithPath("")
	r.ProjectID = ""
	if ranged {
		if r.Query == nil {
			r.Query = url.Values{}
		}
		r.Query.Set("direct_download", "true")
	}
	return r.String()
}

// publicRef is the target on the project's API, which an access token
// needs: the runner route refuses anything but a job token.
func publicRef(o *Options, t target) (gitlab.ArtifactRef, error) {
	if !t.ref.Runner() {
		return t.ref, nil
	}
	if t.publicURL != "" {
		if ref, err := gitlab.ParseArtifactURL(t.publicURL); err == nil {
			return ref, nil
		}
	}
	if p := t.projectID; p != "" {
		return t.ref.Public(p), nil
	}
	return gitlab.ArtifactRef{}, usagef("%s is GitLab's runner route, which takes only a job token: with a private token give the project (--project or CI_PROJECT_ID)", redactURL(t.url()))
}

// withPathRaw adds p to the path of a URL that is not GitLab's (a
// service's endpoint): into the path, before any query.
func withPathRaw(raw, p string, add bool) string {
	if !add {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u = u.JoinPath(strings.Split(p, "/")...)
	return u.String()
}

// fallsBack reports whether the next attempt may follow err: only GitLab's
// tier refusal of a job token on the project's API.
func fallsBack(err error) bool {
	return gitlab.Cause(err) == gitlab.RefusalTierJobToken
}

// newClient is a GitLab client for requests to target, with the
// credential only where it belongs (gitlab.CredentialFor): the GitLab of
// CI_API_V4_URL, or the service --server names.
func newClient(o *Options, base, target string) (*gitlab.Client, error) {
	cred := o.credential()
	secret.Register(cred.Token)
	cred, ok := gitlab.CredentialFor(cred, o.env("CI_API_V4_URL"), target, o.Server)
	if !ok {
		warnf(o, "not sending the %s to %s: it is not the GitLab of CI_API_V4_URL", o.credential().Kind, redactURL(target))
	}
	c, err := gitlab.New(gitlab.Options{BaseURL: base, Credential: cred, CAPEM: o.CAPEM, Logger: o.Logger})
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	c.SetStallTimeout(o.StallTimeout)
	return c, nil
}

// baseOf is the API base of a target: its ref's, else the URL's origin.
func baseOf(t target, u string) string {
	if t.parsed {
		return t.ref.API
	}
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Scheme + "://" + p.Host
}

// errNoRanges is why --path gives up where GitLab will not send a range.
var errNoRanges = errors.New("the server sent the whole archive where a range was asked for; --path reads one file by ranges and never downloads the whole archive: drop --path to download it")

func noRanges(label string) error { return fmt.Errorf("%s: %w", label, errNoRanges) }
