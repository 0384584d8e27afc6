package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/httprange"
)

// archiveWriteTimeout is how long one archive may take to stream to the
// caller; the server's WriteTimeout is short, for every other route.
const archiveWriteTimeout = 6 * time.Hour

// archive answers GET /api/v4/projects/:id/pipelines/:pipeline_id/artifacts?job=NAME
// with the archive of the latest attempt of NAME, fetched from GitLab's
// runner route with the caller's own job token: that route serves a job
// token on every tier, where the public /projects/:id/jobs/:id/artifacts
// refuses it on EE without a licence
// (https://docs.gitlab.com/api/job_artifacts/ ; lib/api/ci/runner.rb in
// https://gitlab.com/gitlab-org/gitlab).
func (s *Service) archive(w http.ResponseWriter, r *http.Request, c caller) {
	jobID, ok := s.seedJob(w, r, c)
	if !ok {
		return
	}
	target := gitlab.RunnerArtifactsURL(s.apiURL, jobID)
	if s.cfg.RedirectArtifacts {
		target = gitlab.RunnerArtifactsURL(s.publicAPI, jobID)
		// The Location carries no credential: the caller sends its own
		// JOB-TOKEN to GitLab (curl -L resends -H headers).
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
		return
	}
	s.proxy(w, r, c, target)
}

// file answers …/artifacts/*path?job=NAME: one file of the archive of the
// latest attempt of NAME, read by ranges from the runner route (see entry).
func (s *Service) file(w http.ResponseWriter, r *http.Request, c caller) {
	jobID, ok := s.seedJob(w, r, c)
	if !ok {
		return
	}
	s.entry(w, r, c, jobID, r.PathValue("path"))
}

func escapePath(p string) string {
	u := url.URL{Path: p}
	return u.EscapedPath()
}

// seedJob checks that the pipeline in the path is the caller's or a
// relative and returns the id of the latest attempt of ?job=NAME there.
// It has answered the request when ok is false.
func (s *Service) seedJob(w http.ResponseWriter, r *http.Request, c caller) (jobID int64, ok bool) {
	name := r.URL.Query().Get("job")
	pid, err := strconv.ParseInt(r.PathValue("pid"), 10, 64)
	if name == "" || err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - job is missing")
		return 0, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ResolveTimeout)
	defer cancel()
	l := lister{s: s, c: c}
	project := r.PathValue("id")
	related, err := l.related(ctx, project, pid)
	if err != nil {
		s.upstreamFailed(w, c, err)
		return 0, false
	}
	if !related {
		writeMessage(w, http.StatusNotFound, "404 Pipeline Not Found")
		return 0, false
	}
	jobs, err := l.PipelineJobs(ctx, project, pid, gitlab.ListOptions{})
	if err != nil {
		s.upstreamFailed(w, c, err)
		return 0, false
	}
	for _, j := range hooks.LatestAttempts(jobs) {
		if j.Name == name {
			return j.ID, true
		}
	}
	writeMessage(w, http.StatusNotFound, "404 Job Not Found")
	return 0, false
}

func (s *Service) upstreamFailed(w http.ResponseWriter, c caller, err error) {
	s.warn(c.token, c.JobID, err.Error())
	writeMessage(w, http.StatusBadGateway, "502 GitLab did not answer")
}

// forwarded are the request headers a download may carry to GitLab; the
// response headers copied back are those of an archive download.
var (
	forwarded  = []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"}
	copiedBack = []string{"Content-Type", "Content-Length", "Content-Disposition", "Content-Range",
		"Accept-Ranges", "ETag", "Last-Modified"}
)

// proxy streams target to the caller with the caller's own job token; the
// body goes through a fixed buffer, never whole into memory. A GitLab
// redirect to object storage is followed by the shared client, which drops
// the token on the change of host.
func (s *Service) proxy(w http.ResponseWriter, r *http.Request, c caller, target string) {
	// HEAD stays HEAD: a GET upstream would pull the whole archive through
	// the service only for net/http to drop the body.
	method := http.MethodGet
	if r.Method == http.MethodHead {
		method = http.MethodHead
	}
	req, err := http.NewRequestWithContext(r.Context(), method, target, nil)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request")
		return
	}
	for _, h := range forwarded {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set("JOB-TOKEN", c.token)
	// The archive's bytes as stored: left to itself net/http would ask for
	// gzip and inflate it on the way, so that Content-Length, ranges and
	// the SHA-256 ETag would no longer describe what the caller gets.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "pipeline-artifacts/"+gitlab.Version)
	resp, err := s.anon.HTTPClient().Do(req)
	if err != nil {
		s.upstreamFailed(w, c, errors.New(gitlabErr(err)))
		return
	}
	defer resp.Body.Close()
	if err := checkPartial(resp, req.Header.Get("Range")); err != nil {
		s.upstreamFailed(w, c, err)
		return
	}
	for _, h := range copiedBack {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	if resp.StatusCode >= 400 {
		w.Header().Del("Content-Disposition")
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(archiveWriteTimeout))
	w.WriteHeader(statusFor(resp.StatusCode))
	if _, err := io.Copy(w, resp.Body); err != nil {
		s.warn(c.token, c.JobID, "streaming artifacts: "+err.Error())
	}
}

// checkPartial refuses a 206 whose Content-Range is malformed or other
// than the one range the caller asked for, before a byte of it reaches the
// caller (a multipart answer to a list of ranges carries none, and passes).
func checkPartial(resp *http.Response, rangeHeader string) error {
	v := resp.Header.Get("Content-Range")
	if resp.StatusCode != http.StatusPartialContent || v == "" {
		return nil
	}
	if _, err := httprange.Answers(v, rangeHeader); err != nil {
		return fmt.Errorf("GET %s: %w", gitlab.Redact(resp.Request.URL), err)
	}
	return nil
}

// statusFor passes GitLab's answer through, except that its server errors
// are ours to report as a bad gateway.
func statusFor(code int) int {
	if code >= 500 {
		return http.StatusBadGateway
	}
	return code
}

func gitlabErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return fmt.Sprintf("%s %s: %v", ue.Op, gitlab.Redact(u), ue.Err)
		}
	}
	return err.Error()
}
