package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/doctor"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/joblog"
)

// DoctorOptions configure doctor: the stages' Settings plus what a runner
// host does not know by itself.
type DoctorOptions struct {
	Settings
	URL        string // the GitLab URL or its API URL (…/api/v4)
	CAFile     string // CA certificates: a PEM file, or PEM content (CI_SERVER_TLS_CA_FILE)
	JobToken   string // a running job's CI_JOB_TOKEN, optional
	ProjectID  string // for the listing checks, optional
	PipelineID int64  // for the listing checks, optional
	Timeout    time.Duration
	Path       string // the PATH the jobs will see
	Stdout     io.Writer

	retryMax int // 0: the doctor's default; tests set -1 (no retries)
}

func doctorCommand(s streams) *ucli.Command {
	return &ucli.Command{
		Name:  "doctor",
		Usage: "check a runner host's setup and what the GitLab instance allows",
		Description: `Run it on the runner host, as the user the runner runs as, with the runner's environment and the
   same settings as the stages. One line per check (ok, warn, FAIL, skip), then a verdict.

   --job-token (or, inside a job, CI_JOB_TOKEN) probes what this GitLab lets a job token do: list its
   pipeline's jobs and trigger jobs, download artifacts by the public or the runner route. --project
   (with --pipeline, else the newest) tests the admin token against a listing of that project.

   Exit status: 0 when a job on this host would get its siblings and no check failed; 1 otherwise;
   2 for bad flags. Without a project to test, an accepted admin token (or, without one, a GitLab
   of 18.0 or later for the job token) counts as working: nothing faults it.`,
		Flags: append(settingsFlags(),
			&ucli.StringFlag{Name: "url", EnvVars: []string{"CI_API_V4_URL", "CI_SERVER_URL"}, Usage: "GitLab `URL` (or its /api/v4 URL)"},
			&ucli.StringFlag{Name: "ca-file", EnvVars: []string{"CI_SERVER_TLS_CA_FILE"}, Usage: "PEM `FILE` of the CA that signed GitLab's certificate (the runner's tls-ca-file)"},
			&ucli.StringFlag{Name: "job-token", EnvVars: []string{"CI_JOB_TOKEN"}, Usage: "a running job's `TOKEN`, to probe what GitLab lets it do (prefer $CI_JOB_TOKEN: flags show in ps)"},
			&ucli.StringFlag{Name: "project", EnvVars: []string{"CI_PROJECT_ID"}, Usage: "project `ID` (or path) to test listing with"},
			&ucli.Int64Flag{Name: "pipeline", EnvVars: []string{"CI_PIPELINE_ID"}, Usage: "pipeline `ID` of --project to list (default: the newest)"},
			&ucli.DurationFlag{Name: "timeout", Value: time.Minute, Usage: "longest time all checks may take"},
		),
		// A flag urfave/cli can't parse is a usage error like ours: exit 2.
		OnUsageError: func(_ *ucli.Context, err error, _ bool) error { return usagef("doctor: %v", err) },
		Action: func(c *ucli.Context) error {
			return runDoctor(c.Context, DoctorOptions{
				Settings: settingsFrom(c), URL: c.String("url"), CAFile: c.String("ca-file"),
				JobToken: c.String("job-token"), ProjectID: c.String("project"), PipelineID: c.Int64("pipeline"),
				Timeout: c.Duration("timeout"), Path: envValue(s.environ(), "PATH"), Stdout: s.stdout,
			})
		},
	}
}

// runDoctor runs the checks, prints one line per finding and the verdict,
// and fails when a job would not get its siblings or a check failed.
func runDoctor(ctx context.Context, o DoctorOptions) error {
	r, err := doctor.Run(ctx, doctor.Options{
		URL: o.URL, CAFile: o.CAFile, APITokenFile: o.APITokenFile, JobToken: o.JobToken,
		ProjectID: o.ProjectID, PipelineID: o.PipelineID, CacheDir: o.CacheDir, CacheTTL: o.CacheTTL,
		Timeout: o.Timeout, Path: o.Path, RetryMax: o.retryMax,
	})
	var ue *doctor.UsageError
	if errors.As(err, &ue) {
		return usagef("%s", ue.Msg)
	} else if err != nil {
		return err
	}
	for _, f := range r.Findings {
		// A finding may quote GitLab (its version, an error): one line each.
		fmt.Fprintf(o.Stdout, "%-6s%s\n", f.Status, joblog.OneLine(f.Message))
	}
	return doctorVerdict(o.Stdout, r)
}

func doctorVerdict(w io.Writer, r *doctor.Report) error {
	if !r.Verdict.Siblings {
		fmt.Fprintf(w, "verdict: a job on this host would get its declared dependencies only: %s\n", joblog.OneLine(r.Verdict.Missing))
		return errors.New("doctor: jobs on this host would not get their siblings")
	}
	fmt.Fprintf(w, "verdict: a job on this host would get its siblings (from: %s)\n", r.Verdict.From)
	if n := r.Failed(); n > 0 {
		return fmt.Errorf("doctor: %s failed", plural(n, "check"))
	}
	return nil
}
