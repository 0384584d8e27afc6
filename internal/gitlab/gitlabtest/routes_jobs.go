package gitlabtest

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// GET /version and GET /metadata: any access token; never a job token,
// which these routes do not look at, so it is 401 like no token at all
// (lib/api/metadata.rb, lib/api/version.rb: authenticate!).
func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	if err := s.view(func(st *state) *apiError {
		_, err := st.authenticated(r, false, false)
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"version": s.cfg.version, "revision": "0f1e2d3c4b5"})
}

// GET /job: the job a job token belongs to, whose pipeline.id the pipeline
// cannot redefine. An access token authenticates but has no job: "404 Job
// Not Found"; a finished job's token is 401 (lib/api/ci/jobs.rb).
func (s *Server) getCurrentJob(w http.ResponseWriter, r *http.Request) {
	var out jobEntity
	if err := s.view(func(st *state) *apiError {
		who, err := st.authenticated(r, false, true)
		if err == nil && who.job == nil {
			err = errorf(http.StatusNotFound, "404 Job Not Found")
		}
		if err == nil {
			out = renderJob(who.job, baseURL(r))
		}
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /projects/:id/jobs/:job_id: access tokens only. The route calls
// authenticate! and ignores a job token, so that is 401 (lib/api/ci/jobs.rb).
func (s *Server) getProjectJob(w http.ResponseWriter, r *http.Request) {
	var out jobEntity
	if err := s.view(func(st *state) *apiError {
		if _, err := st.authenticated(r, false, false); err != nil {
			return err
		}
		_, j, err := st.projectJob(r, false)
		if err == nil {
			out = renderJob(j, baseURL(r))
		}
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /projects/:id/pipelines/:pid/jobs: builds only, newest first, retried
// attempts only with include_retried, filtered by scope / scope[]. The job
// token is taken from 18.0 (lib/api/ci/pipelines.rb).
func (s *Server) getPipelineJobs(w http.ResponseWriter, r *http.Request) {
	listPipeline(s, w, r, false, s.cfg.profile.JobTokenListsJobs(), renderJob)
}

// GET /projects/:id/pipelines/:pid/bridges: trigger jobs with
// downstream_pipeline. The job token is ignored before 19.2
// (https://gitlab.com/gitlab-org/gitlab/-/issues/554448).
func (s *Server) getBridges(w http.ResponseWriter, r *http.Request) {
	listPipeline(s, w, r, true, s.cfg.profile.JobTokenListsBridges(), renderBridge)
}

// GET /projects/:id/pipelines/:pid/trigger_jobs: the 19.2 name of bridges
// (https://docs.gitlab.com/api/jobs/#list-pipeline-trigger-jobs), an unknown
// route before.
func (s *Server) getTriggerJobs(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.profile.HasTriggerJobs() {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	listPipeline(s, w, r, true, true, renderBridge)
}

func listPipeline[T any](s *Server, w http.ResponseWriter, r *http.Request, bridges, jobTokenOK bool, render func(*job, string) T) {
	var items []T
	if err := s.view(func(st *state) *apiError {
		_, projectID, err := st.authorize(r, jobTokenOK)
		if err != nil {
			return err
		}
		p, err := st.pipelineOf(r, projectID)
		if err != nil {
			return err
		}
		keep, err := jobFilter(r.URL.Query())
		if err != nil {
			return err
		}
		for _, j := range newestFirst(p.jobs) {
			if j.bridge == bridges && keep(j) {
				items = append(items, render(j, baseURL(r)))
			}
		}
		return nil
	}); err != nil {
		writeError(w, err)
		return
	}
	writePage(w, r, s.cfg, items)
}

// jobFilter applies include_retried and scope / scope[] (repeatable).
func jobFilter(q url.Values) (func(*job) bool, *apiError) {
	includeRetried := false
	if v := q.Get("include_retried"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "400 Bad request - include_retried is invalid")
		}
		includeRetried = b
	}
	scopes := map[string]bool{}
	for _, v := range append(q["scope"], q["scope[]"]...) {
		if !jobStatuses[v] {
			return nil, errorf(http.StatusBadRequest, "400 Bad request - scope does not have a valid value")
		}
		scopes[v] = true
	}
	return func(j *job) bool {
		return (includeRetried || !j.retried) && (len(scopes) == 0 || scopes[j.status])
	}, nil
}

func newestFirst(jobs []*job) []*job {
	return slices.SortedFunc(slices.Values(jobs), func(a, b *job) int { return cmp.Compare(b.id, a.id) })
}

// GET /projects/:id/pipelines/:pid.
func (s *Server) getPipeline(w http.ResponseWriter, r *http.Request) {
	var out pipelineEntity
	if err := s.view(func(st *state) *apiError {
		_, projectID, err := st.authorize(r, s.cfg.profile.JobTokenListsJobs())
		if err != nil {
			return err
		}
		p, err := st.pipelineOf(r, projectID)
		if err == nil {
			out = renderPipeline(p, baseURL(r))
		}
		return err
	}); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /projects/:id/pipelines: newest first, filtered by sha, ref, status and
// source; child pipelines only with source=parent_pipeline, as in GitLab.
func (s *Server) getPipelines(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var items []pipelineEntity
	if err := s.view(func(st *state) *apiError {
		_, projectID, err := st.authorize(r, s.cfg.profile.JobTokenListsJobs())
		if err != nil {
			return err
		}
		var ps []*pipeline
		for _, p := range st.pipelines {
			if p.projectID == projectID && pipelineMatches(p, q) {
				ps = append(ps, p)
			}
		}
		slices.SortFunc(ps, func(a, b *pipeline) int { return cmp.Compare(b.id, a.id) })
		for _, p := range ps {
			items = append(items, renderPipeline(p, baseURL(r)))
		}
		return nil
	}); err != nil {
		writeError(w, err)
		return
	}
	writePage(w, r, s.cfg, items)
}

func pipelineMatches(p *pipeline, q url.Values) bool {
	for _, f := range []struct{ param, value string }{
		{"sha", p.sha}, {"ref", p.ref}, {"status", p.status}, {"source", p.source},
	} {
		if v := q.Get(f.param); v != "" && v != f.value {
			return false
		}
	}
	return q.Get("source") != "" || p.source != "parent_pipeline"
}

// pipelineOf returns the pipeline in the path if it belongs to projectID.
func (st *state) pipelineOf(r *http.Request, projectID int64) (*pipeline, *apiError) {
	id, ok := pathID(r, "pid")
	p := st.pipelines[id]
	if !ok || p == nil || p.projectID != projectID {
		return nil, errorf(http.StatusNotFound, "404 Pipeline Not Found")
	}
	return p, nil
}

// projectJob authorizes the request and returns the build job in its path.
func (st *state) projectJob(r *http.Request, jobTokenOK bool) (identity, *job, *apiError) {
	who, projectID, err := st.authorize(r, jobTokenOK)
	if err != nil {
		return who, nil, err
	}
	id, ok := pathID(r, "job_id")
	j := st.jobs[id]
	if !ok || j == nil || j.bridge || j.pipeline.projectID != projectID {
		return who, nil, errorf(http.StatusNotFound, "404 Job Not Found")
	}
	return who, j, nil
}
