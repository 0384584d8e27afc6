package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Client asks a `pipeline-artifacts serve` on behalf of one job.
type Client struct {
	// Server is the service's base URL, e.g. https://pa.example.internal.
	Server   string
	JobToken string // the job's CI_JOB_TOKEN
	// ParentPipelineID is the pipeline that triggered the job's (0: none);
	// the service checks it before it lists it.
	ParentPipelineID int64
	CAPEM            []byte // extra CAs for the service's certificate
	Logger           gitlab.Logger
}

// gitlabClient reuses the GitLab client for the service: same retry policy,
// and a redirect to another host drops the JOB-TOKEN.
func (c Client) gitlabClient() (*gitlab.Client, error) {
	if c.JobToken == "" {
		return nil, errors.New("no job token (CI_JOB_TOKEN) for the pipeline-artifacts server")
	}
	return gitlab.New(gitlab.Options{
		BaseURL: c.Server, Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: c.JobToken},
		CAPEM: c.CAPEM, Logger: c.Logger, RetryMax: 2, MinWait: 200 * time.Millisecond, MaxWait: 2 * time.Second,
		MaxRetryAfter: 5 * time.Second,
	})
}

// FetchEnv returns the job's variables from the service's GET /v1/env, as
// `pipeline-artifacts env` would print them. Any error means the service
// did not answer in full; the caller falls back to listing GitLab itself.
func FetchEnv(ctx context.Context, c Client) (map[string]string, error) {
	gc, err := c.gitlabClient()
	if err != nil {
		return nil, err
	}
	q := url.Values{"format": {"json"}}
	if c.ParentPipelineID > 0 {
		q.Set(ParentPipelineParam, strconv.FormatInt(c.ParentPipelineID, 10))
	}
	var vars map[string]string
	// Bounded as GitLab's answers are: every job's env hook reads it.
	err = gc.Do(ctx, gitlab.Unit{Method: http.MethodGet, URL: gc.URL("v1/env", q), Handle: func(resp *http.Response) error {
		return gitlab.DecodeJSON(resp, &vars)
	}})
	if err != nil {
		return nil, fmt.Errorf("pipeline-artifacts server: %w", err)
	}
	return vars, nil
}

// ArchiveURL is the service's seed endpoint for the archive of the latest
// attempt of job in a pipeline; with path, for one file of it.
func ArchiveURL(server, projectID string, pipelineID int64, job, path string) string {
	u := trimSlash(server) + "/api/v4/projects/" + url.PathEscape(projectID) + "/pipelines/" +
		strconv.FormatInt(pipelineID, 10) + "/artifacts"
	if path != "" {
		u += "/" + escapePath(path)
	}
	return u + "?" + url.Values{"job": {job}}.Encode()
}

// OpenArchive starts the download of ArchiveURL with the job token and
// returns the response for a 2xx; the caller closes its body. A non-2xx is
// a *gitlab.APIError.
func OpenArchive(ctx context.Context, c Client, projectID string, pipelineID int64, job, path string) (*http.Response, error) {
	gc, err := c.gitlabClient()
	if err != nil {
		return nil, err
	}
	req, err := gc.NewRequest(ctx, http.MethodGet, ArchiveURL(c.Server, projectID, pipelineID, job, path))
	if err != nil {
		return nil, err
	}
	resp, err := gc.HTTPClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("pipeline-artifacts server: %s", gitlabErr(err))
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		return nil, &gitlab.APIError{Method: http.MethodGet, URL: gitlab.Redact(req.URL), StatusCode: resp.StatusCode, Credential: gitlab.JobToken}
	}
	return resp, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// FetchManifest returns the job's resolution from the service's
// GET /v1/manifest, for a client that writes the manifest file itself.
func FetchManifest(ctx context.Context, c Client) (*hooks.Manifest, error) {
	gc, err := c.gitlabClient()
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if c.ParentPipelineID > 0 {
		q.Set(ParentPipelineParam, strconv.FormatInt(c.ParentPipelineID, 10))
	}
	var m hooks.Manifest
	err = gc.Do(ctx, gitlab.Unit{Method: http.MethodGet, URL: gc.URL("v1/manifest", q), Handle: func(resp *http.Response) error {
		return gitlab.DecodeJSON(resp, &m)
	}})
	if err != nil {
		return nil, fmt.Errorf("pipeline-artifacts server: %w", err)
	}
	if m.Version < 1 || m.PipelineID == 0 {
		return nil, errors.New("pipeline-artifacts server: the answer is not a manifest")
	}
	return &m, nil
}

// Resolution turns a manifest from the service back into the resolution a
// stage or the env hook reports and writes.
func Resolution(m *hooks.Manifest, apiURL string) *hooks.Resolution {
	return &hooks.Resolution{
		Target:   hooks.Target{APIURL: apiURL, ProjectID: m.ProjectID, PipelineID: m.PipelineID, JobID: m.JobID},
		Siblings: m.Siblings, Source: m.Source, Warnings: m.Warnings,
	}
}
