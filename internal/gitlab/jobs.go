package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"unicode/utf8"
)

// CurrentJob returns the job the client's job token belongs to (GET /job).
func (c *Client) CurrentJob(ctx context.Context) (*Job, error) {
	var j Job
	if err := c.getJSON(ctx, c.URL("job", nil), &j, nil); err != nil {
		return nil, err
	}
	return &j, nil
}

// ProjectJob returns one job by id. Job tokens may not call it on most
// GitLab versions (docs/gitlab.md, "What a job token may call, by version and tier").
func (c *Client) ProjectJob(ctx context.Context, projectID string, jobID int64) (*Job, error) {
	var j Job
	if err := c.getJSON(ctx, c.URL(fmt.Sprintf("projects/%s/jobs/%d", url.PathEscape(projectID), jobID), nil), &j, nil); err != nil {
		return nil, err
	}
	return &j, nil
}

// MaxJSONBody caps an API answer the client decodes: a server that sends
// more gets one clear error, not an exhausted memory.
const MaxJSONBody = 64 << 20

// errBodyTooLarge is returned once a JSON answer passes MaxJSONBody. A
// type of its own, so that its message is written only when it is read,
// not at every process's start.
var errBodyTooLarge error = bodyTooLarge{}

type bodyTooLarge struct{}

func (bodyTooLarge) Error() string { return fmt.Sprintf("answer larger than %d MiB", MaxJSONBody>>20) }

// getJSON fetches rawURL and decodes it; decoding is part of the retried
// attempt, so a body cut halfway is fetched again.
func (c *Client) getJSON(ctx context.Context, rawURL string, into any, headers func(http.Header)) error {
	return c.Do(ctx, Unit{Method: http.MethodGet, URL: rawURL, Handle: func(resp *http.Response) error {
		if c.stall > 0 {
			w := Watch(resp.Body, c.stall)
			defer w.Stop()
			resp.Body = w
		}
		if err := DecodeJSON(resp, into); err != nil {
			return err
		}
		if err := c.quotesNoToken(into); err != nil {
			return Permanent(fmt.Errorf("reading %s: %w", redact(resp.Request.URL), err))
		}
		if headers != nil {
			headers(resp.Header)
		}
		return nil
	}})
}

// quotesNoToken refuses an answer that holds the token it was asked with:
// GitLab never names a job, a stage or a file after it (a job token does
// not exist before its job starts), and a server that echoes it would have
// it put into a job's variable names, manifest and log — the admin token
// included, which must never reach a job.
func (c *Client) quotesNoToken(v any) error {
	if len(c.cred.Token) < 8 {
		return nil // too short to tell an echo from a coincidence
	}
	b, err := json.Marshal(v)
	if err == nil && bytes.Contains(b, []byte(c.cred.Token)) {
		return fmt.Errorf("%w: it quotes the %s it was sent", errNotGitLabs, c.cred.Kind)
	}
	return nil
}

// DecodeJSON decodes a JSON answer into into, for a Unit's Handle: every
// answer this project decodes goes through it. A body over MaxJSONBody, or
// whose bytes are wrong (not JSON, nested too deep, a number past int64, a
// record GitLab never sends), is a Permanent error; a body cut short is
// not, and the attempt is retried.
func DecodeJSON(resp *http.Response, into any) error {
	if resp.ContentLength > MaxJSONBody {
		return Permanent(fmt.Errorf("reading %s: %w", redact(resp.Request.URL), errBodyTooLarge))
	}
	body := &cappedReader{r: resp.Body, left: MaxJSONBody}
	err := json.NewDecoder(body).Decode(into)
	if err == nil {
		err = checkDecoded(into)
	}
	if err != nil {
		err = fmt.Errorf("reading %s: %w", redact(resp.Request.URL), err)
	}
	if wrongBytes(err) {
		return Permanent(err)
	}
	return err
}

// wrongBytes reports whether a decoding error is about the bytes the server
// sent, which another attempt would send again (not JSON, nested too deep,
// a number past int64, a record GitLab never sends, too large), rather than
// about a body cut short.
func wrongBytes(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ) || errors.Is(err, errBodyTooLarge) || errors.Is(err, errNotGitLabs)
}

// errNotGitLabs: a decoded answer holds what GitLab never sends.
var errNotGitLabs = errors.New("not an answer GitLab sends")

// checkDecoded refuses ids that name no record (GitLab's start at 1) and
// negative sizes: they would end up in URLs, variables and size checks.
func checkDecoded(v any) error {
	var errs []error
	switch v := v.(type) {
	case *Job:
		errs = append(errs, v.check())
	case *[]Job:
		for i := range *v {
			errs = append(errs, (*v)[i].check())
		}
	case *[]Pipeline:
		for i := range *v {
			errs = append(errs, (*v)[i].check())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", errNotGitLabs, firstError(errs))
	}
	return nil
}

// maxJobName is GitLab's limit on a job's name (ci_builds.name is a
// varchar(255) since 14.6; docs/gitlab.md). A longer one would become a
// variable name and a log line of any length.
const maxJobName = 255

func (j *Job) check() error {
	switch {
	case j.ID <= 0:
		return fmt.Errorf("a job with id %d", j.ID)
	case utf8.RuneCountInString(j.Name) > maxJobName:
		return fmt.Errorf("job %d's name of %d characters", j.ID, utf8.RuneCountInString(j.Name))
	case j.ArtifactsFile != nil && j.ArtifactsFile.Size < 0:
		return fmt.Errorf("job %d's archive of %d bytes", j.ID, j.ArtifactsFile.Size)
	}
	for _, p := range []*Pipeline{j.Pipeline, j.DownstreamPipeline} {
		if p != nil {
			if err := p.check(); err != nil {
				return fmt.Errorf("job %d's %w", j.ID, err)
			}
		}
	}
	return nil
}

func (p *Pipeline) check() error {
	if p.ID <= 0 || p.ProjectID < 0 {
		return fmt.Errorf("pipeline id %d (project %d)", p.ID, p.ProjectID)
	}
	return nil
}

// cappedReader fails with errBodyTooLarge once more than left bytes are read.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errBodyTooLarge
	}
	return n, err
}
