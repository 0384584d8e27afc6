package gitlab

import (
	"context"
	"fmt"
	"net/url"
)

// ServerVersion returns the version GET /version reports, e.g. "18.9.0-ee".
// GitLab answers it only to an authenticated request: without a credential
// the call fails with a 401 *APIError, which still proves the instance is
// reachable.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	if err := c.getJSON(ctx, c.URL("version", nil), &v, nil); err != nil {
		return "", err
	}
	return v.Version, nil
}

// LatestPipeline returns the project's newest pipeline, or nil when it has
// none. Child pipelines are not considered (GitLab hides them from this
// listing unless asked).
func (c *Client) LatestPipeline(ctx context.Context, projectID string) (*Pipeline, error) {
	var ps []Pipeline
	q := url.Values{"per_page": {"1"}, "order_by": {"id"}, "sort": {"desc"}}
	if err := c.getJSON(ctx, c.URL(fmt.Sprintf("projects/%s/pipelines", url.PathEscape(projectID)), q), &ps, nil); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return &ps[0], nil
}

// PipelineForSHA returns the newest pipeline of a project for a commit, or
// nil when there is none.
func (c *Client) PipelineForSHA(ctx context.Context, projectID, sha string) (*Pipeline, error) {
	var ps []Pipeline
	q := url.Values{"sha": {sha}, "per_page": {"1"}, "order_by": {"id"}, "sort": {"desc"}}
	if err := c.getJSON(ctx, c.URL(fmt.Sprintf("projects/%s/pipelines", url.PathEscape(projectID)), q), &ps, nil); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return &ps[0], nil
}
