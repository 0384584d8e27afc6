package gitlab

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ArtifactRef is a job's artifacts as a URL names them, in one of GitLab's
// two shapes:
//
//   - the runner route <api>/jobs/<id>/artifacts (ProjectID ""): takes a
//     running job's token on every tier and version, ignores
//     artifacts:access, has no single-file form (lib/api/ci/runner.rb);
//   - the project's artifacts API <api>/projects/<project>/jobs/<id>/artifacts
//     [/<path>]: takes a job token only on CE and EE Premium+, applies
//     artifacts:access, serves one file of the archive
//     (lib/api/ci/job_artifacts.rb, https://docs.gitlab.com/api/job_artifacts/).
//
// This file is the one place that builds and parses those URLs.
type ArtifactRef struct {
	API       string // …/api/v4, no trailing slash
	ProjectID string // id or full path ("group/project"); "" for the runner route
	JobID     int64
	Path      string     // one file inside the archive, or "" for the archive
	Query     url.Values // extra query parameters, kept apart from Path
}

// RunnerArtifactsURL is <api>/jobs/<jobID>/artifacts.
func RunnerArtifactsURL(api string, jobID int64) string {
	return ArtifactRef{API: api, JobID: jobID}.String()
}

// PublicArtifactsURL is <api>/projects/<projectID>/jobs/<jobID>/artifacts,
// with projectID path-escaped (a full path "group/project" becomes
// group%2Fproject).
func PublicArtifactsURL(api, projectID string, jobID int64) string {
	return ArtifactRef{API: api, ProjectID: projectID, JobID: jobID}.String()
}

// Runner reports whether r is the runner route.
func (r ArtifactRef) Runner() bool { return r.ProjectID == "" }

// WithPath returns r naming one file of the archive (p "" names the archive).
// Leading slashes are dropped.
func (r ArtifactRef) WithPath(p string) ArtifactRef {
	r.Path = strings.TrimLeft(p, "/")
	r.Query = cloneValues(r.Query)
	return r
}

// Public returns r on the project's artifacts API of projectID.
func (r ArtifactRef) Public(projectID string) ArtifactRef {
	r.ProjectID = projectID
	r.Query = cloneValues(r.Query)
	return r
}

// String builds the URL: every segment escaped, Path appended to the path
// and the query after it.
func (r ArtifactRef) String() string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(r.API, "/"))
	if r.ProjectID != "" {
		b.WriteString("/projects/" + url.PathEscape(r.ProjectID))
	}
	b.WriteString("/jobs/" + strconv.FormatInt(r.JobID, 10) + "/artifacts")
	if r.Path != "" {
		for seg := range strings.SplitSeq(r.Path, "/") {
			b.WriteString("/" + url.PathEscape(seg))
		}
	}
	if len(r.Query) > 0 {
		b.WriteString("?" + r.Query.Encode())
	}
	return b.String()
}

// errNotArtifactURL is wrapped by every ParseArtifactURL error.
var errNotArtifactURL = errors.New("not a GitLab job artifacts URL")

// ParseArtifactURL reads either shape back. The query stays in Query, so a
// file path added later goes into the path, never after the query string.
// Credentials in the URL are refused rather than silently dropped.
func ParseArtifactURL(raw string) (ArtifactRef, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ArtifactRef{}, fmt.Errorf("%w: %q is not an http(s) URL", errNotArtifactURL, redactRaw(raw))
	}
	if u.User != nil {
		return ArtifactRef{}, fmt.Errorf("%w: the URL must not carry credentials", errNotArtifactURL)
	}
	esc := u.EscapedPath()
	i := strings.Index(esc, "/api/v4/")
	if i < 0 {
		return ArtifactRef{}, fmt.Errorf("%w: %s has no /api/v4/", errNotArtifactURL, redact(u))
	}
	ref := ArtifactRef{API: u.Scheme + "://" + u.Host + esc[:i+len("/api/v4")]}
	if u.RawQuery != "" {
		ref.Query = u.Query()
	}
	if err := ref.parseRoute(strings.Split(esc[i+len("/api/v4/"):], "/")); err != nil {
		return ArtifactRef{}, fmt.Errorf("%w: %s: %v", errNotArtifactURL, redact(u), err)
	}
	return ref, nil
}

// parseRoute reads jobs/<id>/artifacts or
// projects/<project>/jobs/<id>/artifacts[/<path>…] from escaped segments.
func (r *ArtifactRef) parseRoute(segs []string) error {
	if len(segs) >= 2 && segs[0] == "projects" {
		p, err := url.PathUnescape(segs[1])
		if err != nil || p == "" {
			return errors.New("bad project id")
		}
		r.ProjectID, segs = p, segs[2:]
	}
	if len(segs) < 3 || segs[0] != "jobs" || segs[2] != "artifacts" {
		return errors.New("want …/jobs/<id>/artifacts")
	}
	id, err := strconv.ParseInt(segs[1], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("bad job id %q", segs[1])
	}
	r.JobID = id
	rest := segs[3:]
	if len(rest) == 1 && rest[0] == "" { // a trailing slash
		rest = nil
	}
	if len(rest) > 0 && r.Runner() {
		return errors.New("the runner route serves whole archives only, no single file")
	}
	names := make([]string, len(rest))
	for i, s := range rest {
		if names[i], err = url.PathUnescape(s); err != nil {
			return fmt.Errorf("bad path segment %q", s)
		}
	}
	r.Path = strings.Join(names, "/")
	return nil
}

// redactRaw drops what follows "?" and any user info of a URL that did not
// parse, for messages.
func redactRaw(raw string) string {
	raw, _, _ = strings.Cut(raw, "?")
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
			raw = raw[:scheme+3] + raw[at+1:]
		}
	}
	return raw
}
