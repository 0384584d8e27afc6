package gitlabtest

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
)

// refRoute matches the ref routes of the project's artifacts API
// (lib/api/ci/job_artifacts.rb):
//
//	GET /projects/:id/jobs/artifacts/:ref_name/download?job=NAME
//	GET /projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path?job=NAME
//
// They are matched before the mux: net/http patterns for them would overlap
// /jobs/{job_id}/artifacts/{path...} ambiguously.
var refRoute = regexp.MustCompile(`^/api/v4/projects/([^/]+)/jobs/artifacts/([^/]+)/(download|raw/(.+))$`)

// serveRef answers a ref route and reports whether the path was one.
func (s *Server) serveRef(w http.ResponseWriter, r *http.Request) bool {
	m := refRoute.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil || r.Method != http.MethodGet {
		return false
	}
	route := RouteRefDownload
	if m[3] != "download" {
		route = RouteRefRaw
	}
	r.SetPathValue("id", m[1])
	s.handle(route, w, r, s.done, s.cfg.latency, func(w http.ResponseWriter, r *http.Request) {
		ref, err1 := url.PathUnescape(m[2])
		file, err2 := url.PathUnescape(m[4])
		if err1 != nil || err2 != nil {
			writeMessage(w, http.StatusBadRequest, "400 Bad request - Invalid path")
			return
		}
		s.getRefArtifacts(w, r, ref, file)
	})
	return true
}

// getRefArtifacts serves the archive (file "") or one file of the named
// job in the newest successful pipeline of ref. A missing pipeline or job is
// ActiveRecord::RecordNotFound, which the API renders as "404 Not found"
// (lib/api/api.rb). Job tokens follow the tier as on the by-id routes.
func (s *Server) getRefArtifacts(w http.ResponseWriter, r *http.Request, ref, file string) {
	var a archiveReply
	var archive []byte
	if err := s.view(func(st *state) *apiError {
		who, projectID, err := st.authorize(r, s.cfg.profile.PublicArtifactsTakeJobToken())
		if err != nil {
			return err
		}
		j := st.latestSuccessful(projectID, ref, r.URL.Query().Get("job"))
		switch {
		case j == nil:
			return errorf(http.StatusNotFound, "404 Not found")
		case !mayReadArtifacts(who, j.access):
			return errForbidden
		case file != "" && (j.archive == nil || expired(j)):
			return errNotFound
		case file != "":
			archive = j.archive.data
			return nil
		}
		a, err = st.archiveOf(j, true)
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	if file == "" {
		a.send(w, r)
		return
	}
	body, ok := zipMember(archive, file)
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "404 File Not Found"))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// latestSuccessful finds the job called name in the newest successful
// pipeline of ref (https://docs.gitlab.com/api/job_artifacts/): the newest
// attempt of that name, not searching child pipelines.
func (st *state) latestSuccessful(projectID int64, ref, name string) *job {
	var newest *pipeline
	for _, p := range st.pipelines {
		if p.projectID == projectID && p.ref == ref && p.status == "success" && p.source != "parent_pipeline" &&
			(newest == nil || p.id > newest.id) {
			newest = p
		}
	}
	if newest == nil || name == "" {
		return nil
	}
	jobs := newestFirst(newest.jobs)
	i := slices.IndexFunc(jobs, func(j *job) bool { return j.name == name && !j.bridge && !j.retried })
	if i < 0 {
		return nil
	}
	return jobs[i]
}
