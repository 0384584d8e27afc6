package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Selecting artifacts outside this job's manifest: another pipeline (by id
// or by commit) and another project, as far as the token may read them.

func remoteFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "pipeline", Usage: "look JOB_NAME up in pipeline `ID` (e.g. a parent's or an earlier one) instead of this job's siblings"},
		&ucli.StringFlag{Name: "sha", Usage: "look JOB_NAME up in the newest pipeline for `COMMIT`"},
		&ucli.StringFlag{Name: "project", Usage: "another project's `ID` or path, for --job-id, --pipeline and --sha (the job-token allowlist decides)"},
	}
}

// remote reports whether JOB_NAME must be looked up through the API.
func (o DownloadOptions) remote() bool { return o.Pipeline != 0 || o.SHA != "" }

func (o DownloadOptions) validateRemote() error {
	var errs []error
	if o.Pipeline != 0 && o.SHA != "" {
		errs = append(errs, errors.New("--pipeline and --sha exclude each other"))
	}
	if o.remote() && o.JobName == "" {
		errs = append(errs, errors.New("--pipeline and --sha look up a JOB_NAME: name the job"))
	}
	if o.Project != "" && o.JobName != "" && !o.remote() {
		errs = append(errs, errors.New("with --project, name the pipeline (--pipeline or --sha) or use --job-id"))
	}
	return errors.Join(errs...)
}

// project is --project, else this job's project.
func (o DownloadOptions) project() string {
	if o.Project != "" {
		return o.Project
	}
	return envValue(o.Environ, "CI_PROJECT_ID")
}

// listedTarget finds JOB_NAME's latest attempt in a pipeline's job listing.
func listedTarget(ctx context.Context, o DownloadOptions, log *logrus.Entry) (downloadTarget, error) {
	api, project := strings.TrimRight(envValue(o.Environ, "CI_API_V4_URL"), "/"), o.project()
	t := downloadTarget{name: o.JobName, label: fmt.Sprintf("job %q", o.JobName), projectID: project}
	if api == "" || project == "" {
		return t, usagef("--pipeline and --sha need CI_API_V4_URL and a project (CI_PROJECT_ID or --project)")
	}
	c, err := downloadClient(o, downloadTarget{url: api + "/"}, log)
	if err != nil {
		return t, err
	}
	if t.pipeline, err = pipelineOf(ctx, c, o, project); err != nil {
		return t, err
	}
	jobs, err := c.PipelineJobs(ctx, project, t.pipeline, gitlab.ListOptions{})
	if err != nil {
		return t, fmt.Errorf("listing pipeline %d: %w", t.pipeline, err)
	}
	for _, j := range hooks.LatestAttempts(jobs) {
		if j.Name == o.JobName {
			t.jobID = j.ID
			t.url = fmt.Sprintf("%s/projects/%s/jobs/%d/artifacts", api, url.PathEscape(project), j.ID)
			if j.ArtifactsFile != nil {
				t.size = j.ArtifactsFile.Size
			}
			return t, nil
		}
	}
	return t, &artifacts.NotFoundError{Job: t.label, Reason: fmt.Sprintf("is not a job of pipeline %d", t.pipeline)}
}

func pipelineOf(ctx context.Context, c *gitlab.Client, o DownloadOptions, project string) (int64, error) {
	if o.Pipeline != 0 {
		return o.Pipeline, nil
	}
	p, err := c.PipelineForSHA(ctx, project, o.SHA)
	if err != nil {
		return 0, fmt.Errorf("finding the pipeline for commit %s: %w", o.SHA, err)
	}
	if p == nil {
		return 0, &artifacts.NotFoundError{Job: fmt.Sprintf("commit %s", o.SHA), Reason: "has no pipeline in project " + project}
	}
	return p.ID, nil
}
