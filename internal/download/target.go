package download

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/serve"
)

// target is the job whose artifacts were asked for, as far as the
// selection tells.
type target struct {
	ref       gitlab.ArtifactRef // valid when parsed
	parsed    bool
	raw       string // the URL when it is not a GitLab artifacts URL
	fromUser  bool   // --url: its route is tried first, as given
	name      string
	jobID     int64
	projectID string
	publicURL string // the manifest's project-API URL, "" if unknown
	pipeline  int64  // the pipeline whose listing holds the job, 0 if unknown
	size      int64  // the archive's size, 0 if unknown
	label     string // `job "build" (12)`, for messages
}

// resolve finds the target the options select.
func resolve(ctx context.Context, o *Options) (target, error) {
	switch {
	case o.ArtifactURL != "":
		t := fromURL(o.ArtifactURL)
		t.fromUser = true
		return t.finish(o), nil
	case o.JobID != 0:
		return byJobID(o)
	case o.remote():
		return listed(ctx, o, o.Pipeline)
	}
	return byName(ctx, o)
}

// fromURL reads a URL; one that is not a GitLab artifacts URL (a service's
// endpoint, say) is fetched as is.
func fromURL(raw string) target {
	ref, err := gitlab.ParseArtifactURL(raw)
	if err != nil {
		return target{raw: raw}
	}
	return target{ref: ref, parsed: true, jobID: ref.JobID, projectID: ref.ProjectID}
}

func byJobID(o *Options) (target, error) {
	api := o.env("CI_API_V4_URL")
	if api == "" {
		return target{}, usagef("--job-id needs CI_API_V4_URL (set inside a job); elsewhere use --url")
	}
	ref := gitlab.ArtifactRef{API: api, JobID: o.JobID}
	t := target{ref: ref, parsed: true, jobID: o.JobID, projectID: o.project()}
	return t.finish(o), nil
}

// byName looks JOB_NAME up in the manifest, which knows collision
// suffixes, sizes and both URLs; then in ARTIFACT_URL_<N>; then through
// the service (the curl hook writes no manifest); then in the pipeline's
// job listing.
func byName(ctx context.Context, o *Options) (target, error) {
	m, err := readManifest(o.env(hooks.ManifestVar))
	if err != nil {
		return target{}, err
	}
	if m != nil {
		return fromManifest(o, m)
	}
	if u := o.env(hooks.URLPrefix + hooks.VarName(o.JobName)); u != "" {
		t := fromURL(u)
		t.name = o.JobName
		return t.finish(o), nil
	}
	if o.Server != "" {
		if m, ok := fromServer(ctx, o); ok {
			return fromManifest(o, m)
		}
		if pid, _ := strconv.ParseInt(o.env("CI_PIPELINE_ID"), 10, 64); pid > 0 {
			return listed(ctx, o, pid)
		}
	}
	return target{}, usagef("no sibling variables here (PIPELINE_ARTIFACTS_MANIFEST, ARTIFACT_URL_*): is pipeline-artifacts the runner's executor or pre_build_script, or is --server set? Outside a job use --url")
}

func readManifest(p string) (*hooks.Manifest, error) {
	if p == "" {
		return nil, nil
	}
	m, err := hooks.ReadManifest(p)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	return m, nil
}

func fromManifest(o *Options, m *hooks.Manifest) (target, error) {
	s, ok := hooks.FindSibling(m, o.JobName)
	if !ok {
		label := fmt.Sprintf("job %q", o.JobName)
		return target{name: o.JobName, label: label}, &artifacts.NotFoundError{Job: label, Reason: "is not a job of this pipeline" + knownNames(m)}
	}
	t := fromURL(s.URL)
	t.name, t.jobID, t.size, t.pipeline, t.publicURL = s.Name, s.ID, s.ArtifactSize, m.PipelineID, s.PublicURL
	if t.projectID == "" {
		t.projectID = m.ProjectID
	}
	return t.finish(o), nil
}

// fromServer asks the service for the job's manifest; false when it did
// not answer (the caller goes on).
func fromServer(ctx context.Context, o *Options) (*hooks.Manifest, bool) {
	c := serve.Client{Server: o.Server, JobToken: o.JobToken, CAPEM: o.CAPEM, Logger: o.Logger}
	for _, k := range []string{"CI_UPSTREAM_PIPELINE_ID", "PIPELINE_ARTIFACTS_PARENT_PIPELINE_ID"} {
		if id, err := strconv.ParseInt(o.env(k), 10, 64); err == nil && id > 0 {
			c.ParentPipelineID = id
			break
		}
	}
	m, err := serve.FetchManifest(ctx, c)
	if err != nil {
		warnf(o, "%v; looking the job up in GitLab", err)
		return nil, false
	}
	return m, true
}

func knownNames(m *hooks.Manifest) string {
	if m == nil || len(m.Siblings) == 0 {
		return ""
	}
	names := make([]string, 0, len(m.Siblings))
	for _, s := range m.Siblings {
		names = append(names, strconv.Quote(s.Name))
	}
	const most = 20
	if len(names) > most {
		names = append(names[:most], "…")
	}
	return " (its jobs: " + strings.Join(names, ", ") + ")"
}

// listed finds JOB_NAME's latest attempt in a pipeline's job listing
// (pipeline 0: the one --sha names).
func listed(ctx context.Context, o *Options, pipeline int64) (target, error) {
	api, project := o.env("CI_API_V4_URL"), o.project()
	t := target{name: o.JobName, label: fmt.Sprintf("job %q", o.JobName), projectID: project}
	if api == "" || project == "" {
		return t, usagef("looking a job up in a pipeline needs CI_API_V4_URL and a project (CI_PROJECT_ID or --project)")
	}
	c, err := newClient(o, api, api)
	if err != nil {
		return t, err
	}
	defer c.HTTPClient().CloseIdleConnections()
	if pipeline == 0 {
		if pipeline, err = pipelineOf(ctx, c, o.SHA, project); err != nil {
			return t, err
		}
	}
	t.pipeline = pipeline
	jobs, err := c.PipelineJobs(ctx, project, pipeline, gitlab.ListOptions{})
	if err != nil {
		return t, fmt.Errorf("listing pipeline %d: %w", pipeline, err)
	}
	for _, j := range hooks.LatestAttempts(jobs) {
		if j.Name == o.JobName {
			t.ref, t.parsed, t.jobID = gitlab.ArtifactRef{API: api, JobID: j.ID}, true, j.ID
			t.publicURL = gitlab.PublicArtifactsURL(api, project, j.ID)
			if j.ArtifactsFile != nil {
				t.size = j.ArtifactsFile.Size
			}
			return t.finish(o), nil
		}
	}
	return t, &artifacts.NotFoundError{Job: t.label, Reason: fmt.Sprintf("is not a job of pipeline %d", pipeline)}
}

func pipelineOf(ctx context.Context, c *gitlab.Client, sha, project string) (int64, error) {
	p, err := c.PipelineForSHA(ctx, project, sha)
	if err != nil {
		return 0, fmt.Errorf("finding the pipeline for commit %s: %w", sha, err)
	}
	if p == nil {
		return 0, &artifacts.NotFoundError{Job: "commit " + sha, Reason: "has no pipeline in project " + project}
	}
	return p.ID, nil
}

// finish fills in what the environment adds: the pipeline of a named job,
// the project, and the label.
func (t target) finish(o *Options) target {
	if t.pipeline == 0 && t.name != "" {
		t.pipeline, _ = strconv.ParseInt(o.env("CI_PIPELINE_ID"), 10, 64)
	}
	if t.projectID == "" && t.parsed {
		t.projectID = o.project()
	}
	switch {
	case t.name != "" && t.jobID != 0:
		t.label = fmt.Sprintf("job %q (%d)", t.name, t.jobID)
	case t.jobID != 0:
		t.label = fmt.Sprintf("job %d", t.jobID)
	case t.name != "":
		t.label = fmt.Sprintf("job %q", t.name)
	default:
		t.label = "the artifacts at " + redactURL(t.url())
	}
	return t
}

// url is the target's URL as selected.
func (t target) url() string {
	if t.parsed {
		return t.ref.String()
	}
	return t.raw
}

// redactURL is raw without credentials, query or user info, for messages
// and --json.
func redactURL(raw string) string {
	u, err := url.Parse(secret.RegisterURL(raw))
	if err != nil {
		return "(unparsable URL)"
	}
	return gitlab.Redact(u)
}

func warnf(o *Options, format string, args ...any) {
	if o.Logger != nil {
		o.Logger.Warnf(format, args...)
	}
}
