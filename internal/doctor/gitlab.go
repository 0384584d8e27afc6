package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// connect asks GET /version with the admin token, else with nothing. Even a
// 401 proves the instance and its certificate are fine. The job token is
// never used here: /version refuses it on every GitLab, so its answer says
// nothing about what a job may do.
func (d *run) connect(ctx context.Context) {
	creds := []gitlab.Credential{{Kind: gitlab.NoAuth}}
	if d.adminTok != "" {
		creds = append([]gitlab.Credential{{Kind: gitlab.PrivateToken, Token: d.adminTok}}, creds...)
	}
	for _, cred := range creds {
		c, err := d.client(cred.Kind, cred.Token)
		if err == nil {
			d.report.Version, err = c.ServerVersion(ctx)
		}
		switch {
		case err == nil:
			d.reached(fmt.Sprintf("GitLab %s", d.report.Version))
			return
		case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden):
			if cred.Kind == gitlab.PrivateToken {
				d.adminVer = err
			}
		default:
			d.add(CheckGitLab, Fail, Unreachable, "GitLab not reachable at %s: %s", d.apiURL, explainConnError(err, d.ca != nil))
			return
		}
	}
	d.reached("GitLab (version unknown: GET /version needs an access token GitLab accepts)")
}

func (d *run) reached(what string) {
	d.reachable = true
	how := "plain HTTP: tokens cross the network unencrypted"
	if strings.HasPrefix(d.apiURL, "https:") {
		how = "TLS verified"
		if d.ca != nil {
			how += " with " + d.caName()
		}
	}
	d.add(CheckGitLab, OK, Reached, "%s reachable at %s (%s)", what, d.apiURL, how)
}

// explainConnError turns certificate errors into what to do about them.
func explainConnError(err error, caGiven bool) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown) && caGiven:
		return "certificate signed by an unknown authority: the CA given does not hold the issuer of GitLab's certificate"
	case errors.As(err, &unknown):
		return "certificate signed by an unknown authority: give its CA with --ca-file or CI_SERVER_TLS_CA_FILE (the runner's tls-ca-file, often /etc/gitlab-runner/certs/<host>.crt)"
	case errors.As(err, &host):
		return "GitLab's certificate is not valid for this host name: " + host.Error()
	case errors.As(err, &invalid):
		return "GitLab's certificate is not acceptable: " + invalid.Error()
	}
	return err.Error()
}

// adminState is what doctor learnt about the admin token.
type adminState int

const (
	adminNone adminState = iota
	adminUntested
	adminAccepted
	adminLists
	adminRefused
)

// checkAdmin follows the admin token from its file to a pipeline listing of
// the project, which is private as far as doctor knows: only a listing that
// works proves read_api and membership.
func (d *run) checkAdmin(ctx context.Context) {
	if d.o.APITokenFile != "" {
		d.adminSt = adminRefused
	}
	if !d.checkTokenFile() {
		return
	}
	d.adminSt = adminUntested
	f := d.o.APITokenFile
	switch err := d.adminVer; {
	case !d.reachable:
		d.add(CheckAdminToken, Skip, NotTested, "admin token from %s not tested: GitLab not reachable", f)
		return
	case gitlab.IsStatus(err, http.StatusForbidden):
		d.adminSt = adminRefused
		d.add(CheckAdminToken, Fail, NoScope, "admin token from %s refused by GitLab (%s): it lacks the read_api scope", f, statusOf(err))
		return
	case err != nil:
		d.adminSt = adminRefused
		d.add(CheckAdminToken, Fail, Rejected, "admin token from %s rejected by GitLab (%s): expired, revoked, or made on another instance", f, statusOf(err))
		return
	}
	d.adminSt = adminAccepted
	d.add(CheckAdminToken, OK, Accepted, "admin token from %s accepted by GitLab", f)
	d.adminListing(ctx)
}

// adminListing lists the project's pipelines when no pipeline is given,
// then a pipeline's jobs.
func (d *run) adminListing(ctx context.Context) {
	if d.o.ProjectID == "" {
		d.add(CheckAdminListing, Skip, NotTested, "admin token's read_api scope and project access not tested: give --project ID (and --pipeline ID)")
		return
	}
	c, err := d.client(gitlab.PrivateToken, d.adminTok)
	if err != nil {
		d.add(CheckAdminListing, Fail, Failed, "admin token: %v", err)
		return
	}
	pid := d.o.PipelineID
	if pid == 0 {
		p, err := c.LatestPipeline(ctx, d.o.ProjectID)
		if err != nil {
			d.adminListingFailed(err)
			return
		} else if p == nil {
			d.adminSt = adminLists
			d.add(CheckAdminListing, OK, NoPipeline, "admin token reads project %s (read_api), which has no pipeline to list", d.o.ProjectID)
			return
		}
		pid = p.ID
	}
	jobs, err := c.PipelineJobs(ctx, d.o.ProjectID, pid, gitlab.ListOptions{})
	if err != nil {
		d.adminListingFailed(err)
		return
	}
	d.adminSt = adminLists
	d.noteArtifacts(jobs)
	d.add(CheckAdminListing, OK, Lists, "admin token lists the %s of pipeline %d in project %s", plural(len(jobs), "job"), pid, d.o.ProjectID)
	d.adminPipeline = pid
}

func (d *run) adminListingFailed(err error) {
	d.adminSt = adminUntested
	var why string
	switch {
	case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden):
		why = "the token lacks the read_api scope, or its user may not read the project's pipelines"
	case gitlab.IsStatus(err, http.StatusNotFound):
		why = "the project or pipeline does not exist, or the token's user cannot see it"
	default:
		d.add(CheckAdminListing, Fail, Failed, "admin token: listing project %s failed: %v", d.o.ProjectID, err)
		return
	}
	d.adminSt = adminRefused
	d.add(CheckAdminListing, Fail, Refused, "admin token may not list project %s's pipelines (%s): %s", d.o.ProjectID, statusOf(err), why)
}

// noteArtifacts remembers a job with an archive for the download probes.
func (d *run) noteArtifacts(jobs []gitlab.Job) {
	for _, j := range jobs {
		if d.artifactJob == 0 && j.ArtifactsFile != nil && j.ArtifactsFile.Filename != "" {
			d.artifactJob = j.ID
		}
	}
}

// checkJobToken asks GET /job, the one route that takes only a job token
// (a personal token gets 404 "Job Not Found" there), then lists the job's
// pipeline with it.
func (d *run) checkJobToken(ctx context.Context) {
	switch {
	case d.o.JobToken == "":
		d.add(CheckJobToken, Skip, NotGiven, "job token: listing pipeline jobs with it can't be checked without a running job's token (--job-token or CI_JOB_TOKEN); %s", d.jobTokenHint())
		return
	case !d.reachable:
		d.add(CheckJobToken, Skip, NotTested, "job token not tested: GitLab not reachable")
		return
	}
	c, err := d.client(gitlab.JobToken, d.o.JobToken)
	if err == nil {
		err = d.jobTarget(ctx, c)
	}
	switch {
	case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden):
		d.report.Job.Identity = Denied
		d.add(CheckJobToken, Warn, Rejected, "job token rejected by GitLab (%s): it is valid only while its job runs", statusOf(err))
		return
	case gitlab.IsStatus(err, http.StatusNotFound):
		d.report.Job.Identity = Denied
		d.add(CheckJobToken, Warn, NotAJob, "the job token given is not a job's (GET /job: %s): an access token?", statusOf(err))
		return
	case err != nil:
		d.report.Job.Identity = Unclear
		d.add(CheckJobToken, Warn, NotTested, "job token not tested: %v", err)
		return
	}
	d.report.Job.Identity = Allowed
	d.add(CheckJobToken, OK, Accepted, "job token accepted by GitLab (GET /job): it belongs to a running job of pipeline %d", d.o.PipelineID)
}

// jobTarget fills in project and pipeline from the token's own job when
// they were not given.
func (d *run) jobTarget(ctx context.Context, c *gitlab.Client) error {
	j, err := c.CurrentJob(ctx)
	if err != nil {
		return err
	}
	if d.o.PipelineID != 0 {
		return nil
	}
	if j.Pipeline == nil || j.Pipeline.ID == 0 {
		return errors.New("GET /job names no pipeline; give --project and --pipeline")
	}
	if d.o.ProjectID == "" {
		d.o.ProjectID = strconv.FormatInt(j.Pipeline.ProjectID, 10)
	}
	d.o.PipelineID = j.Pipeline.ID
	return nil
}

// jobListing lists the pipeline with the job token. A refusal is a warning:
// the admin token may stand in.
func (d *run) jobListing(ctx context.Context) {
	if d.report.Job.Identity != Allowed {
		return
	}
	c, err := d.client(gitlab.JobToken, d.o.JobToken)
	if err != nil {
		d.add(CheckJobListing, Warn, NotTested, "job token not tested: %v", err)
		return
	}
	jobs, err := c.PipelineJobs(ctx, d.o.ProjectID, d.o.PipelineID, gitlab.ListOptions{})
	d.report.Job.ListJobs = grantOf(err)
	switch d.report.Job.ListJobs {
	case Allowed:
		d.noteArtifacts(jobs)
		d.add(CheckJobListing, OK, Lists, "job token lists the %s of pipeline %d in project %s", plural(len(jobs), "job"), d.o.PipelineID, d.o.ProjectID)
	case Denied:
		d.jobListingDenied(err)
	default:
		d.add(CheckJobListing, Warn, NotTested, "job token not tested: %v", err)
	}
}

// jobListingDenied: before 18.0 GitLab ignores the job token on pipeline
// job listings. That is a fact of the version when the admin token lists
// instead, and a warning when nothing does.
func (d *run) jobListingDenied(err error) {
	if d.adminSt == adminLists {
		d.add(CheckJobListing, OK, NeedsAdmin, "job token may not list the jobs of pipeline %d%s (%s): jobs list with the admin token, which may", d.o.PipelineID, d.onVersion(), statusOf(err))
		return
	}
	d.add(CheckJobListing, Warn, Refused, "job token may not list the jobs of pipeline %d%s (%s): jobs need the admin token (--api-token-file)", d.o.PipelineID, d.onVersion(), statusOf(err))
}

func (d *run) onVersion() string {
	if d.report.Version == "" {
		return ""
	}
	return " on GitLab " + d.report.Version
}

// grantOf sorts a probe's error: refusals (401, 403, 404) from failures
// that teach nothing.
func grantOf(err error) Grant {
	switch {
	case err == nil:
		return Allowed
	case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound):
		return Denied
	}
	return Unclear
}

// jobTokenHint says what the version suggests: GitLab accepts the job token
// on pipeline job listings of its own project from 18.0.
func (d *run) jobTokenHint() string {
	v := d.report.Version
	switch major := versionMajor(v); {
	case major == 0:
		return "GitLab 17.x and older refuse it, 18.0 and later allow it"
	case major < 18:
		return fmt.Sprintf("GitLab %s refuses it", v)
	default:
		return fmt.Sprintf("GitLab %s should allow it", v)
	}
}

func versionMajor(v string) int {
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}
