package gitlab

import (
	"errors"
	"net/http"
	"time"
)

// Refusal is why GitLab refused a request, as far as its answer tells: the
// CLI prints one line per cause. GitLab's answers are terse, and several
// causes share one answer; each kind's message says what it can and cannot
// tell apart (bodies from lib/api/helpers.rb: not_found!, forbidden!,
// unauthorized!).
type Refusal int

// The kinds Explain tells apart.
const (
	// NotRefused: err is nil or not an answer from GitLab.
	NotRefused Refusal = iota
	// RefusalUnknown: an answer no rule below explains.
	RefusalUnknown
	// RefusalTierJobToken: the project's artifacts API answered a job token
	// with 404 "404 Project Not Found". GitLab EE without Premium ignores job
	// tokens there (ee/lib/ee/api/ci/job_artifacts.rb; "available in the
	// Premium and Ultimate tier", https://docs.gitlab.com/api/job_artifacts/)
	// and answers as to an anonymous caller. The same answer comes from a
	// project the job's user cannot see, which is rarer for its own
	// pipeline.
	RefusalTierJobToken
	// RefusalJobTokenIgnored: a listing route answered a job token with
	// "404 Project Not Found": this GitLab version does not take the job
	// token there (pipeline jobs before 18.0, bridges before 19.2,
	// https://gitlab.com/gitlab-org/gitlab/-/issues/554448).
	RefusalJobTokenIgnored
	// RefusalArtifactsAccess: 403 on the project's artifacts API. It is what
	// artifacts:access answers (https://docs.gitlab.com/ci/yaml/#artifactsaccess),
	// and also what a cross-project job-token policy answers: GitLab's body
	// ("403 Forbidden") is the same for both.
	RefusalArtifactsAccess
	// RefusalPolicy: 403 to a job token on the runner route or a listing:
	// the token's job may not read the target — another project whose
	// job-token allowlist or fine-grained permissions exclude this one
	// (https://docs.gitlab.com/ci/jobs/ci_job_token/). artifacts:access is
	// not applied on the runner route, so it is not the cause there.
	RefusalPolicy
	// RefusalTokenExpired: 401 to a job token. A job token is valid only
	// while its job runs; an unknown token gets the same answer.
	RefusalTokenExpired
	// RefusalBadToken: 401 to an access token or to no token.
	RefusalBadToken
	// RefusalProjectHidden: "404 Project Not Found" to an access token or to
	// no token: the project does not exist or the token may not see it.
	RefusalProjectHidden
	// RefusalArtifactsExpired: 404 on one file of an archive whose
	// artifacts_expire_at has passed (only the archive routes still serve
	// it until deletion). Needs the job's record to tell.
	RefusalArtifactsExpired
	// RefusalReportsOnly: 404 on the archive of a job whose only artifacts
	// are artifacts:reports files. Needs the job's record to tell.
	RefusalReportsOnly
	// RefusalMissing: 404 "404 Not Found" or "404 Job Not Found" on an
	// artifacts route: no archive (not uploaded yet, deleted, never made),
	// no such job, or no such file in the archive. GitLab does not say which.
	RefusalMissing
)

// GitLab's refusal bodies (lib/api/helpers.rb).
const (
	msgProjectNotFound = "404 Project Not Found"
	// msgRecordNotFound is ActiveRecord::RecordNotFound as lib/api/api.rb
	// renders it, e.g. on the ref routes.
	msgRecordNotFound = "404 Not found"
)

// String is the kind's one-line message. A switch, not a map: a map
// would be built at every process's start.
func (r Refusal) String() string {
	switch r {
	case RefusalUnknown:
		return "GitLab refused the request"
	case RefusalTierJobToken:
		return "the project's artifacts API ignores the job token on this GitLab (EE without Premium answers 404 Project Not Found); use ARTIFACT_URL_* (the runner route /jobs/<id>/artifacts), which takes it on every tier"
	case RefusalJobTokenIgnored:
		return "this GitLab version does not take the job token on this route (it answered as to an anonymous caller: 404 Project Not Found); an admin read_api token can list it"
	case RefusalArtifactsAccess:
		return "403 Forbidden on the artifacts API: artifacts:access restricts this job's artifacts, or (for another project) a job-token allowlist or policy refuses this one; GitLab does not say which"
	case RefusalPolicy:
		return "403 Forbidden: the job token may not read this job (another project whose job-token allowlist or fine-grained permissions exclude this one)"
	case RefusalTokenExpired:
		return "401 Unauthorized: the job token is not valid (a job token works only while its job runs, or the token is unknown)"
	case RefusalBadToken:
		return "401 Unauthorized: the access token is missing, unknown, expired or revoked"
	case RefusalProjectHidden:
		return "404 Project Not Found: the project does not exist or this token may not see it"
	case RefusalArtifactsExpired:
		return "404: the job's artifacts have expired; GitLab no longer serves single files of them (the whole archive may still download until it is deleted)"
	case RefusalReportsOnly:
		return "404: the job has only artifacts:reports files, which are not downloadable unless also listed in artifacts:paths"
	case RefusalMissing:
		return "404: no such archive, job or file (not uploaded yet, expired and deleted, or never made; GitLab does not say which)"
	}
	return "not refused"
}

// Cause classifies err from the answer alone; see Explain.
func Cause(err error) Refusal { return Explain(err, nil) }

// Explain classifies err, an error from this package, using job (the target
// job's record, or nil when unknown) for what the answer alone cannot tell.
func Explain(err error, job *Job) Refusal {
	var ae *APIError
	if !errors.As(err, &ae) {
		return NotRefused
	}
	ref, refErr := ParseArtifactURL(ae.URL)
	onArtifacts := refErr == nil
	switch ae.StatusCode {
	case http.StatusUnauthorized:
		if ae.Credential == JobToken {
			return RefusalTokenExpired
		}
		return RefusalBadToken
	case http.StatusForbidden:
		switch {
		case onArtifacts && !ref.Runner():
			return RefusalArtifactsAccess
		case ae.Credential == JobToken:
			return RefusalPolicy
		}
	case http.StatusNotFound:
		return explainNotFound(ae, ref, onArtifacts, job)
	}
	return RefusalUnknown
}

func explainNotFound(ae *APIError, ref ArtifactRef, onArtifacts bool, job *Job) Refusal {
	switch {
	case ae.Message == msgProjectNotFound && ae.Credential != JobToken:
		return RefusalProjectHidden
	case ae.Message == msgProjectNotFound && onArtifacts:
		return RefusalTierJobToken
	case ae.Message == msgProjectNotFound:
		return RefusalJobTokenIgnored
	case ae.Message == msgRecordNotFound:
		// The ref routes: no successful pipeline of the ref has that job.
		return RefusalMissing
	case !onArtifacts:
		return RefusalUnknown
	case job != nil && ref.Path != "" && job.ArtifactsExpireAt != nil && job.ArtifactsExpireAt.Before(time.Now()):
		return RefusalArtifactsExpired
	case job != nil && ref.Path == "" && reportsOnly(job):
		return RefusalReportsOnly
	}
	return RefusalMissing
}

// reportsOnly: no archive, but report files (junit, dotenv, …) beyond the
// trace and metadata every job has.
func reportsOnly(j *Job) bool {
	if j.ArtifactsFile != nil {
		return false
	}
	for _, a := range j.Artifacts {
		switch a.FileType {
		case "archive", "metadata", "trace":
		default:
			return true
		}
	}
	return false
}

// MayAppear reports whether err is a 404 that waiting could cure: the
// archive or job is missing (not uploaded yet). A 404 that is a refusal in
// disguise — "404 Project Not Found" to an ignored job token or a hidden
// project — never resolves by polling, and neither does any other error.
func MayAppear(err error) bool { return Cause(err) == RefusalMissing }
