package doctor

import (
	"context"
	"fmt"
	"net/http"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// routeProbe is one question put to GitLab: may this token GET this route?
// The answer differs by version and tier, which is why doctor asks instead
// of guessing; see docs/gitlab.md, "What a job token may call, by version
// and tier".
type routeProbe struct {
	grant    func(*JobAccess) *Grant
	path     string // formatted with project, pipeline, job with artifacts
	artifact bool   // needs a job with an archive; asks for one byte of it
}

// jobTokenProbes: what a job token may do beyond listing its pipeline's jobs.
var jobTokenProbes = []routeProbe{
	// Before 19.2 GitLab answers 404 to a job token on /bridges; 19.2 adds
	// /trigger_jobs, which takes it, and deprecates /bridges.
	{grant: func(a *JobAccess) *Grant { return &a.ListBridges }, path: "projects/%[1]s/pipelines/%[2]d/bridges"},
	{grant: func(a *JobAccess) *Grant { return &a.ListTriggers }, path: "projects/%[1]s/pipelines/%[2]d/trigger_jobs"},
	// GitLab EE without a Premium licence answers 404 "Project Not Found" to
	// a job token on the public artifacts route; the runner route serves it
	// on every tier.
	{grant: func(a *JobAccess) *Grant { return &a.PublicDownload }, path: "projects/%[1]s/jobs/%[3]d/artifacts", artifact: true},
	{grant: func(a *JobAccess) *Grant { return &a.RunnerDownload }, path: "jobs/%[3]d/artifacts", artifact: true},
}

var adminProbes = []routeProbe{
	{grant: func(a *JobAccess) *Grant { return &a.AdminBridges }, path: "projects/%[1]s/pipelines/%[2]d/bridges"},
}

// probeRoutes asks the job-token questions, then the admin token the ones
// the job token could not answer, and turns the answers into findings.
func (d *run) probeRoutes(ctx context.Context) {
	if d.report.Job.Identity == Allowed && d.o.PipelineID != 0 {
		d.ask(ctx, gitlab.JobToken, d.o.JobToken, jobTokenProbes)
	}
	a := &d.report.Job
	if a.ListBridges == Denied && a.ListTriggers != Allowed && d.adminSt == adminLists && d.pipeline() != 0 {
		d.ask(ctx, gitlab.PrivateToken, d.adminTok, adminProbes)
	}
	d.childFinding()
	d.downloadFinding()
}

func (d *run) ask(ctx context.Context, kind gitlab.AuthKind, token string, probes []routeProbe) {
	c, err := d.client(kind, token)
	if err != nil {
		return
	}
	for _, p := range probes {
		if p.artifact && d.artifactJob == 0 {
			continue
		}
		*p.grant(&d.report.Job) = grantOf(d.get(ctx, c, fmt.Sprintf(p.path, d.o.ProjectID, d.pipeline(), d.artifactJob), p.artifact))
	}
}

// get asks for a route and reads nothing of the answer but its status.
func (d *run) get(ctx context.Context, c *gitlab.Client, path string, oneByte bool) error {
	return c.Do(ctx, gitlab.Unit{
		Method: http.MethodGet, URL: c.URL(path, nil),
		Prepare: func(r *http.Request) error {
			if oneByte {
				r.Header.Set("Range", "bytes=0-0")
			}
			return nil
		},
		Handle: func(*http.Response) error { return nil },
	})
}

// childFinding: the job token lists trigger jobs from 19.2 (…/trigger_jobs,
// and …/bridges takes it too); before, only an access token may. Needing the
// admin token is a fact of the version, not a fault of the host; a warning
// is for an admin token that was given and could not list them.
func (d *run) childFinding() {
	a := d.report.Job
	switch {
	case a.ListTriggers == Allowed || a.ListBridges == Allowed:
		d.add(CheckChildren, OK, WithJobToken, "job token lists trigger jobs: jobs see their child pipelines' jobs")
	case a.AdminBridges == Allowed:
		d.add(CheckChildren, OK, NeedsAdmin, "child pipelines need the admin token here: the job token may not list trigger jobs, the admin token may")
	case a.ListBridges == Denied && d.adminSt == adminNone:
		d.add(CheckChildren, OK, NeedsAdmin, "child pipelines need the admin token here: the job token may not list trigger jobs%s (it may from GitLab 19.2); without --api-token-file jobs see their own pipeline only", d.onVersion())
	case a.ListBridges == Denied && a.AdminBridges == Denied:
		d.add(CheckChildren, Warn, NotListed, "jobs in child pipelines stay unseen: neither the job token nor the admin token may list trigger jobs")
	case a.ListBridges == Denied:
		d.add(CheckChildren, Warn, NotListed, "jobs in child pipelines stay unseen unless the admin token lists trigger jobs: the job token may not, and the admin token could not be tried (see above)")
	default:
		d.add(CheckChildren, Skip, NotTested, "child pipelines: listing trigger jobs not tested (needs a running job's token)")
	}
}

// downloadFinding: ARTIFACT_URL_* is the runner route, which takes the job
// token on every tier; the project's artifacts API (single files, --path)
// takes it only on CE and EE Premium+.
func (d *run) downloadFinding() {
	a := d.report.Job
	switch {
	case a.RunnerDownload == Allowed && a.PublicDownload == Allowed:
		d.add(CheckDownloads, OK, PublicRoute, "job-token downloads work on the runner route (GET /jobs/:id/artifacts, ARTIFACT_URL_*) and on the project's artifacts API (GET /projects/:id/jobs/:job_id/artifacts)")
	case a.RunnerDownload == Allowed:
		d.add(CheckDownloads, OK, RunnerRoute, "job-token downloads use the runner route here (GET /jobs/:id/artifacts, ARTIFACT_URL_*): the project's artifacts API refuses the job token (GitLab EE without Premium)")
	case a.PublicDownload == Allowed:
		d.add(CheckDownloads, Warn, PublicRoute, "the runner route (GET /jobs/:id/artifacts, ARTIFACT_URL_*) refuses the job token for job %d; only the project's artifacts API takes it", d.artifactJob)
	case a.RunnerDownload == Denied:
		d.add(CheckDownloads, Warn, Refused, "the job token may download job %d's artifacts by neither route", d.artifactJob)
	case a.Identity == Allowed:
		d.add(CheckDownloads, Skip, NotTested, "job-token downloads not tested: no job with artifacts in pipeline %d", d.o.PipelineID)
	default:
		d.add(CheckDownloads, Skip, NotTested, "job-token downloads not tested (needs a running job's token)")
	}
}
