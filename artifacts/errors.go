package artifacts

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// ErrNotFound is matched (errors.Is) by every error that means the artifacts
// do not exist, or did not appear before the wait deadline.
var ErrNotFound = errors.New("artifacts not found")

// NotFoundError says which artifacts are missing and why.
type NotFoundError struct {
	Job    string // the job as Options.Job names it
	URL    string // without query
	Reason string // e.g. "has no artifacts (yet)"
	Err    error  // the last 404, if any
}

func (e *NotFoundError) Error() string { return e.Job + " " + e.Reason }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func (e *NotFoundError) Unwrap() error { return e.Err }

// IntegrityError is a download whose size or SHA-256 is not what it must be.
// Nothing is left at the destination when Download returns one.
type IntegrityError struct {
	What      string // "sha256" or "size"
	Want, Got string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("%s mismatch: expected %s, got %s", e.What, e.Want, e.Got)
}

// refusedError is a 401 or 403: it names the kind of token that was refused
// (never the token) and what usually causes it.
type refusedError struct {
	api  *gitlab.APIError
	hint string
}

func (e *refusedError) Error() string {
	if e.api.Foreign {
		// No token goes to another origin: the URL GitLab gave was refused.
		return fmt.Sprintf("the object store refused the URL GitLab gave for the archive (%s): %d %s — "+
			"a signed URL that expired or a store that refuses the request answers so; no token is sent there",
			e.api.URL, e.api.StatusCode, http.StatusText(e.api.StatusCode))
	}
	who := "the " + e.api.Credential.String()
	if e.api.Credential == gitlab.NoAuth {
		who = "a request without a token"
	}
	if strings.HasPrefix(e.hint, strconv.Itoa(e.api.StatusCode)) { // the cause names the status itself
		return fmt.Sprintf("GitLab refused %s for %s: %s", who, e.api.URL, e.hint)
	}
	return fmt.Sprintf("GitLab refused %s for %s: %d %s — %s",
		who, e.api.URL, e.api.StatusCode, http.StatusText(e.api.StatusCode), e.hint)
}

func (e *refusedError) Unwrap() error { return e.api }

// explainRefusal turns a 401, a 403 or a 404 that is a refusal in disguise
// (gitlab.Cause: a job token the route ignores, a hidden project) into a
// refusedError that says why in one line; other errors pass.
func explainRefusal(err error) error {
	var ae *gitlab.APIError
	if !errors.As(err, &ae) {
		return err
	}
	cause := gitlab.Cause(err)
	switch {
	case ae.StatusCode == http.StatusUnauthorized:
		return &refusedError{api: ae, hint: refusalHint(ae.Credential, ae.StatusCode)}
	case ae.StatusCode == http.StatusForbidden && cause == gitlab.RefusalUnknown:
		return &refusedError{api: ae, hint: refusalHint(ae.Credential, ae.StatusCode)}
	case ae.StatusCode == http.StatusForbidden,
		ae.StatusCode == http.StatusNotFound && mayNotAppear(err):
		return &refusedError{api: ae, hint: cause.String()}
	}
	return err
}

// mayAppear: a 404 that polling may cure. Besides GitLab's own "missing",
// a 404 from a route that is not GitLab's artifacts API (a
// pipeline-artifacts serve endpoint) counts, as it always did.
func mayAppear(err error) bool {
	if !gitlab.IsStatus(err, http.StatusNotFound) {
		return false
	}
	c := gitlab.Cause(err)
	return c == gitlab.RefusalMissing || c == gitlab.RefusalUnknown
}

func mayNotAppear(err error) bool { return !mayAppear(err) }

func refusalHint(kind gitlab.AuthKind, status int) string {
	forbidden := status == http.StatusForbidden
	switch {
	case kind == gitlab.JobToken && forbidden:
		return "the job token may only read artifacts of its own project or of projects whose job token allowlist admits it"
	case kind == gitlab.JobToken:
		return "a job token is valid only while its job runs"
	case kind == gitlab.PrivateToken && forbidden:
		return "the token needs the read_api scope and at least Reporter access to the project"
	case kind == gitlab.PrivateToken:
		return "the token is unknown, expired or revoked"
	}
	return "no token was sent: set CI_JOB_TOKEN, PIPELINE_ARTIFACTS_PRIVATE_TOKEN or --private-token-file"
}

// fatalError marks an error the transfer must not retry (a full disk, an
// integrity failure), as the engine's own: gitlab.Do returns a
// gitlab.Permanent error still marked, but the client's own (a refused
// redirect) are not the engine's to report as fatal.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// fatal wraps err so that both the retry policy and the engine stop.
func fatal(err error) error { return gitlab.Permanent(&fatalError{err: err}) }

func isFatal(err error) bool {
	var fe *fatalError
	return errors.As(err, &fe)
}
