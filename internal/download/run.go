package download

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Outcome is what Run did.
type Outcome struct {
	Found   bool
	Name    string // the job's name, when selected by name
	JobID   int64
	Label   string // `job "build" (12)`
	URL     string // the URL asked for, without query or credentials
	Result  *artifacts.Result
	Warning string // why --optional let a missing archive pass
	// ArchiveBytes and ReadBytes: with --path over ranges, the archive's
	// size and the bytes of it GitLab sent.
	ArchiveBytes, ReadBytes int64
}

// Run fetches what o selects and delivers it. Errors: *UsageError for
// mistakes, an error matching artifacts.ErrNotFound when the artifacts do
// not exist (unless o.Optional), any other for failures.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	if err := o.validate(false); err != nil {
		return nil, err
	}
	if o.Output != "" {
		o.Dest = ""
	} else if o.Path != "" {
		// One file is not an archive: it is saved under its own name in
		// Dest, which is created only when the file is complete.
		o.Output, o.Dest = filepath.Join(o.Dest, path.Base(o.Path)), ""
	}
	t, err := resolve(ctx, &o)
	out := &Outcome{Name: t.name, JobID: t.jobID, Label: t.label, URL: redactURL(t.url())}
	if err == nil {
		err = fetch(ctx, &o, t, out)
	}
	var nf *artifacts.NotFoundError
	if errors.As(err, &nf) && o.Optional {
		out.Warning = fmt.Sprintf("%v; continuing without them (--optional)", err)
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Found = true
	return out, nil
}

// fetch tries the plan's attempts in order while GitLab answers the
// tier's refusal.
func fetch(ctx context.Context, o *Options, t target, out *Outcome) error {
	attempts, err := plan(o, t, o.Path != "", false)
	if err != nil {
		return err
	}
	for i, a := range attempts {
		if i > 0 {
			debugf(o, "%v; trying the runner route", err)
		}
		if a.ranged {
			out.Result, err = oneFile(ctx, o, t, a.url, out)
		} else {
			out.Result, err = whole(ctx, o, t, a.url)
		}
		if !fallsBack(err) {
			return err
		}
	}
	return err
}

// whole runs the engine on u: the archive, or GitLab's one file of it.
func whole(ctx context.Context, o *Options, t target, u string) (*artifacts.Result, error) {
	c, err := newClient(o, baseOf(t, u), u)
	if err != nil {
		return nil, err
	}
	defer c.HTTPClient().CloseIdleConnections()
	ao := engineOptions(o, t, c, u)
	if o.Path == "" {
		ao.ExpectedSize = t.size // the manifest's size is the archive's
	}
	return artifacts.Download(ctx, c, ao)
}

func engineOptions(o *Options, t target, c *gitlab.Client, u string) artifacts.Options {
	ao := o.Options
	ao.URL, ao.Job, ao.Status = u, t.label, statusFunc(c, t)
	return ao
}

// statusFunc reads the job's status for --wait: through the pipeline's job
// listing (which job tokens may read from GitLab 18.0) when the pipeline is
// known, else GET /projects/:id/jobs/:id.
func statusFunc(c *gitlab.Client, t target) func(context.Context) (string, error) {
	if t.jobID == 0 || t.projectID == "" {
		return nil
	}
	return func(ctx context.Context) (string, error) {
		if t.pipeline == 0 || c.Credential().Kind == gitlab.PrivateToken {
			j, err := c.ProjectJob(ctx, t.projectID, t.jobID)
			if err != nil {
				return "", err
			}
			return j.Status, nil
		}
		jobs, err := c.PipelineJobs(ctx, t.projectID, t.pipeline, gitlab.ListOptions{})
		if err != nil {
			return "", err
		}
		for _, j := range jobs {
			if j.ID == t.jobID {
				return j.Status, nil
			}
		}
		return "", fmt.Errorf("job %d is not in pipeline %d", t.jobID, t.pipeline)
	}
}

func debugf(o *Options, format string, args ...any) {
	if o.Logger != nil {
		o.Logger.Debugf(format, args...)
	}
}
