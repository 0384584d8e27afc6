package gitlabtest

import (
	"net/http"
	"strconv"
	"strings"
)

// identity is who a request authenticates as: a job (by its job token), an
// access token, or nobody (anonymous: no credential the route looks at).
type identity struct {
	job     *job
	private *privateToken
}

func (id identity) anonymous() bool { return id.job == nil && id.private == nil }

// credential is one place a token can travel, and the kinds it may carry
// there. GitLab is strict: a job token in PRIVATE-TOKEN is an unknown token.
type credential struct {
	value   string
	private bool
	job     bool
}

// credentials lists where the route looks for a token. A route that does not
// take job tokens does not look at JOB-TOKEN or job_token= at all: such a
// request is anonymous (lib/gitlab/auth/auth_finders.rb finds a job token
// only where the route declares job_token_allowed). A Bearer value is still
// looked up, as an access token only, so a job token there is unknown (401).
func credentials(r *http.Request, runnerAPI, jobTokenOK bool) []credential {
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
	}
	if jobTokenOK {
		creds = append(creds,
			credential{value: r.Header.Get("JOB-TOKEN"), job: true},
			credential{value: q.Get("job_token"), job: true})
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		creds = append(creds, credential{value: bearer, private: true, job: jobTokenOK})
	}
	return creds
}

// authenticate resolves the first credential present; an unknown one is 401,
// and so is a job token whose job is no longer running or pending. No
// credential at all is the anonymous identity: the route decides.
func (st *state) authenticate(r *http.Request, runnerAPI, jobTokenOK bool) (identity, *apiError) {
	for _, c := range credentials(r, runnerAPI, jobTokenOK) {
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
	return identity{}, nil
}

// authenticated is authenticate for routes that call authenticate!: the
// anonymous identity is 401 too.
func (st *state) authenticated(r *http.Request, runnerAPI, jobTokenOK bool) (identity, *apiError) {
	who, err := st.authenticate(r, runnerAPI, jobTokenOK)
	if err == nil && who.anonymous() {
		err = errUnauthorized
	}
	return who, err
}

func tokenActive(status string) bool { return status == "running" || status == "pending" }

// authorize checks that the request may read the project in its path, on a
// route that only calls authenticate_non_get! (the pipeline and artifact
// routes, lib/api/ci/pipelines.rb, lib/api/ci/job_artifacts.rb): a GET
// without a usable credential is anonymous and reads a public project, while
// a private project is "404 Project Not Found" — so a 200 there does not
// prove that a job token was accepted. jobTokenOK says whether the route
// takes job tokens on this profile. A job token reaches only its own
// project: the inbound allowlist is not modelled, another project is 403.
func (st *state) authorize(r *http.Request, jobTokenOK bool) (identity, int64, *apiError) {
	who, err := st.authenticate(r, false, jobTokenOK)
	if err != nil {
		return who, 0, err
	}
	projectID, ok := pathID(r, "id")
	p := st.projects[projectID]
	switch {
	case !ok || p == nil:
		return who, 0, errProjectNotFound
	case who.anonymous() && !p.public:
		return who, 0, errProjectNotFound
	case who.private != nil && who.private.projects != nil && !who.private.projects[projectID]:
		return who, 0, errProjectNotFound
	case who.job != nil && who.job.pipeline.projectID != projectID:
		return who, 0, errForbidden
	}
	return who, projectID, nil
}

func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil
}
