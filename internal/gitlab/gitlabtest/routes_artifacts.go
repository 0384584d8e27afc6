package gitlabtest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// GET /projects/:id/jobs/:job_id/artifacts: the archive; 302 to the object
// store after RedirectTo. It takes a job token only where the profile's tier
// does (EE Free ignores it, so a private project answers "404 Project Not
// Found", same project included), and applies artifacts:access
// (lib/api/ci/job_artifacts.rb, ee/lib/ee/api/ci/job_artifacts.rb). An
// expired archive still downloads until it is deleted.
func (s *Server) getArtifacts(w http.ResponseWriter, r *http.Request) {
	var a archiveReply
	if err := s.view(func(st *state) *apiError {
		j, err := st.artifactJob(r, s.cfg.profile)
		if err == nil {
			a, err = st.archiveOf(j, true)
		}
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	a.send(w, r)
}

// artifactJob authorizes a request on the project's artifacts API and
// returns the job in its path.
func (st *state) artifactJob(r *http.Request, p Profile) (*job, *apiError) {
	who, j, err := st.projectJob(r, p.PublicArtifactsTakeJobToken())
	if err != nil {
		return nil, err
	}
	if !mayReadArtifacts(who, j.access) {
		return nil, errForbidden
	}
	return j, nil
}

// mayReadArtifacts applies artifacts:access on the project's artifacts API
// (https://docs.gitlab.com/ci/yaml/#artifactsaccess). Access tokens play a
// maintainer; a job token is refused anything but "all".
func mayReadArtifacts(who identity, access string) bool {
	switch access {
	case "none":
		return false
	case "developer", "maintainer":
		return who.private != nil
	}
	return true
}

// GET /jobs/:job_id/artifacts (runner API, lib/api/ci/runner.rb): the
// archive, on every tier, to the job token of a running job of the same
// project (JOB-TOKEN, token= or job_token=); artifacts:access does not apply
// (lib/api/ci/helpers/runner.rb checks only read_build). It redirects only
// with direct_download=true, and has no single-file form.
func (s *Server) getRunnerArtifacts(w http.ResponseWriter, r *http.Request) {
	direct, _ := strconv.ParseBool(r.URL.Query().Get("direct_download"))
	var a archiveReply
	if err := s.view(func(st *state) *apiError {
		who, err := st.authenticated(r, true, true)
		if err != nil {
			return err
		}
		id, _ := pathID(r, "job_id")
		j := st.jobs[id]
		switch {
		case j == nil || j.bridge:
			return errorf(http.StatusNotFound, "404 Job Not Found")
		case j.pipeline.projectID != who.job.pipeline.projectID:
			return errForbidden
		}
		a, err = st.archiveOf(j, direct)
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	a.send(w, r)
}

// archiveReply is what an archive route sends, captured under the lock and
// written after it is released.
type archiveReply struct {
	jobID int64
	blob  *blob
	store *ObjectStore
}

func (st *state) archiveOf(j *job, mayRedirect bool) (archiveReply, *apiError) {
	if j.archive == nil {
		return archiveReply{}, errNotFound
	}
	a := archiveReply{jobID: j.id, blob: j.archive}
	if mayRedirect {
		a.store = st.store
	}
	return a, nil
}

// expired reports whether the job's artifacts_expire_at has passed.
func expired(j *job) bool { return j.expireAt != nil && time.Now().After(*j.expireAt) }

func (a archiveReply) send(w http.ResponseWriter, r *http.Request) {
	if a.store == nil {
		serveBlob(w, r, a.blob, a.blob.etag)
		return
	}
	if a.store.URL == "" { // a relative Location would lead back to GitLab
		writeMessage(w, http.StatusInternalServerError, "500 gitlabtest: ObjectStore.URL is not set")
		return
	}
	key := fmt.Sprintf("bucket/%d/%s", a.jobID, a.blob.name)
	http.Redirect(w, r, a.store.put(key, a.blob), http.StatusFound)
}

// serveBlob answers through http.ServeContent, so Range, If-Range (by ETag or
// Last-Modified), HEAD and 416 behave exactly as net/http implements them.
func serveBlob(w http.ResponseWriter, r *http.Request, b *blob, etag string) {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Content-Type", contentType(b.name))
	h.Set("Content-Disposition", attachment(b.name))
	http.ServeContent(w, r, b.name, b.modTime, bytes.NewReader(b.data))
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".zip"):
		return "application/zip"
	case strings.HasSuffix(name, ".gz"):
		return "application/gzip"
	}
	return "application/octet-stream"
}

func attachment(name string) string {
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, name, url.PathEscape(name))
}

// GET /projects/:id/jobs/:job_id/artifacts/*path: one file of a zip archive,
// streamed like Workhorse does (no ranges, no redirect). Unlike the archive
// route it needs available_artifacts?: an expired archive is 404 here.
func (s *Server) getArtifactFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("path")
	if name == "" || hasDotDot(name) || strings.HasPrefix(name, "/") {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - Invalid path")
		return
	}
	var archive []byte
	if err := s.view(func(st *state) *apiError {
		j, err := st.artifactJob(r, s.cfg.profile)
		if err == nil && (j.archive == nil || expired(j)) {
			err = errNotFound
		}
		if err == nil {
			archive = j.archive.data // never mutated: SetArtifact replaces the blob
		}
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	body, ok := zipMember(archive, name)
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "404 File Not Found"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", attachment(path.Base(name)))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// zipMember reads one regular file from a zip archive. Anything else (a tar.gz
// archive, a directory, a missing name) is not found.
func zipMember(archive []byte, name string) ([]byte, bool) {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, false
	}
	for _, f := range zr.File {
		if f.Name != name || f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, false
		}
		defer rc.Close()
		body, err := io.ReadAll(rc)
		return body, err == nil
	}
	return nil, false
}
