package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/extract"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// entry streams one entry of job jobID's archive to the caller, read by
// HTTP Range requests from GitLab's runner route with the caller's own job
// token: the archive's tail, then the entry's bytes, never the whole
// archive. That route takes a job token on every tier; the single-file
// route refuses it on EE without a licence
// (https://docs.gitlab.com/api/job_artifacts/ ; lib/api/ci/runner.rb in
// https://gitlab.com/gitlab-org/gitlab).
func (s *Service) entry(w http.ResponseWriter, r *http.Request, c caller, jobID int64, name string) {
	gc, err := s.client(gitlab.Credential{Kind: gitlab.JobToken, Token: c.token})
	if err != nil {
		s.upstreamFailed(w, c, err)
		return
	}
	a, err := openRanged(r.Context(), gc, s.apiURL, jobID)
	if err != nil {
		s.archiveFailed(w, c, err)
		return
	}
	e, err := a.Lookup(name)
	if err != nil || !servable(e) {
		writeMessage(w, http.StatusNotFound, "404 Not found")
		return
	}
	// The caps download --dest and --path apply, so that the service never
	// inflates a zip bomb for a caller: 16 GiB, 1000:1.
	if err := (extract.Limits{}).CheckEntry(e.Name, uint64(e.Size), uint64(e.CompressedSize)); err != nil {
		writeMessage(w, http.StatusUnprocessableEntity, "422 "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
	h.Set("Content-Disposition", attachment(e.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(archiveWriteTimeout))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	hb := &holdBack{w: w, room: max(e.Size-1, 0)}
	_, err = a.Extract(r.Context(), e.Name, hb)
	if err == nil {
		err = hb.release()
	}
	if err != nil {
		// The status is sent: only a broken connection tells the caller
		// that the body is not the entry.
		s.warn(c.token, c.JobID, "streaming an artifacts entry: "+gitlabErr(err))
		panic(http.ErrAbortHandler)
	}
}

// openRanged opens job jobID's archive on the runner route. With
// direct_download=true GitLab redirects to object storage where it keeps
// the archive, so that the store, not GitLab, answers the ranges; the
// client drops the job token on that change of host.
func openRanged(ctx context.Context, gc *gitlab.Client, api string, jobID int64) (*remotezip.Archive, error) {
	u := gitlab.ArtifactRef{API: api, JobID: jobID, Query: url.Values{"direct_download": {"true"}}}.String()
	src, err := remotezip.NewHTTP(ctx, gc, u, nil)
	if err != nil {
		return nil, err
	}
	return remotezip.Open(ctx, src)
}

// archiveFailed answers an archive that could not be opened: GitLab's own
// refusal (404 when the job kept no archive) passes through; anything else
// is a bad gateway.
func (s *Service) archiveFailed(w http.ResponseWriter, c caller, err error) {
	var ae *gitlab.APIError
	if errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 {
		writeMessage(w, ae.StatusCode, gitlabMessage(ae.StatusCode))
		return
	}
	s.upstreamFailed(w, c, errors.New(gitlabErr(err)))
}

// gitlabMessage is a GitLab-style message for a status; a 404 reads as
// GitLab's API renders a missing record, "404 Not found" (rescue_from
// ActiveRecord::RecordNotFound in lib/api/api.rb,
// https://gitlab.com/gitlab-org/gitlab).
func gitlabMessage(code int) string {
	if code == http.StatusNotFound {
		return "404 Not found"
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

// servable reports whether Extract can write e as one file's content:
// GitLab's single-file route serves no directory either.
func servable(e remotezip.Entry) bool {
	return e.Mode.IsRegular() && !e.IsDir && !e.IsSymlink && !e.Encrypted &&
		(e.Method == 0 || e.Method == 8)
}

// attachment is a Content-Disposition naming the entry's base name, with
// characters no file name should carry replaced.
func attachment(name string) string {
	base := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, path.Base(name))
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": base}); v != "" {
		return v
	}
	return "attachment"
}

// holdBack passes on at most room bytes and holds the next one until
// release, once the entry's CRC-32 and size are checked: with room one
// less than the Content-Length, a corrupt entry never reaches the caller
// as a complete body. Bytes beyond room+1 are dropped; Extract fails on
// them anyway.
type holdBack struct {
	w    io.Writer
	room int64
	last []byte // the held byte, once there is one
}

func (h *holdBack) Write(p []byte) (int, error) {
	pass := p[:min(int64(len(p)), h.room)]
	if _, err := h.w.Write(pass); err != nil {
		return 0, err
	}
	h.room -= int64(len(pass))
	if rest := p[len(pass):]; len(rest) > 0 && h.last == nil {
		h.last = []byte{rest[0]}
	}
	return len(p), nil
}

func (h *holdBack) release() error {
	if h.last == nil {
		return nil
	}
	_, err := h.w.Write(h.last)
	return err
}
