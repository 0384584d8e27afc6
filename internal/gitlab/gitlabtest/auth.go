package gitlabtest

import (
	"net/http"
	"strconv"
	"strings"
)

// identity is who a request authenticates as: a job (by its job token) or an
// access token.
type identity struct {
	job     *job
	private *privateToken
}

// credential is one place a token can travel, and the kinds it may carry
// there. GitLab is strict: a job token in PRIVATE-TOKEN is an unknown token.
type credential struct {
	value   string
	private bool
	job     bool
}

func credentials(r *http.Request, runnerAPI bool) []credential {
	q := r.URL.Query()
	if runnerAPI { // the runner API knows only job tokens
		return []credential{
			{value: r.Header.Get("JOB-TOKEN"), job: true},
			{value: q.Get("token"), job: true},
			{value: q.Get("job_token"), job: true},
		}
	}
	creds := []credential{
		{value: r.Header.Get("PRIVATE-TOKEN"), private: true},
		{value: q.Get("private_token"), private: true},
		{value: r.Header.Get("JOB-TOKEN"), job: true},
		{value: q.Get("job_token"), job: true},
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		creds = append(creds, credential{value: bearer, private: true, job: true})
	}
	return creds
}

// authenticate resolves the first credential present; a missing or unknown
// one is 401. A job token counts only while its job is running or pending.
func (st *state) authenticate(r *http.Request, runnerAPI bool) (identity, *apiError) {
	for _, c := range credentials(r, runnerAPI) {
		if c.value == "" {
			continue
		}
		if t := st.private[c.value]; c.private && t != nil {
			return identity{private: t}, nil
		}
		if j := st.jobTokens[c.value]; c.job && j != nil && tokenActive(j.status) {
			return identity{job: j}, nil
		}
		return identity{}, errUnauthorized
	}
	return identity{}, errUnauthorized
}

func tokenActive(status string) bool { return status == "running" || status == "pending" }

// authorize checks that the request may read the project in its path.
// jobTokenOK says whether the route accepts job tokens at all. A job token
// reaches only its own project: the inbound allowlist is not modelled.
func (st *state) authorize(r *http.Request, jobTokenOK bool) (int64, *apiError) {
	who, err := st.authenticate(r, false)
	if err != nil {
		return 0, err
	}
	projectID, ok := pathID(r, "id")
	if !ok || st.projects[projectID] == nil {
		return 0, errorf(http.StatusNotFound, "404 Project Not Found")
	}
	switch {
	case who.private != nil && who.private.projects != nil && !who.private.projects[projectID]:
		return 0, errorf(http.StatusNotFound, "404 Project Not Found")
	case who.job != nil && (!jobTokenOK || who.job.pipeline.projectID != projectID):
		return 0, errForbidden
	}
	return projectID, nil
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil
}
