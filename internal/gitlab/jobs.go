package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// ListOptions narrow a pipeline jobs listing.
type ListOptions struct {
	IncludeRetried bool
	Scope          []string // job statuses; empty means all
}

func (o ListOptions) query() url.Values {
	q := url.Values{"per_page": {"100"}}
	if o.IncludeRetried {
		q.Set("include_retried", "true")
	}
	for _, s := range o.Scope {
		q.Add("scope[]", s)
	}
	return q
}

// PipelineJobs lists every job of a pipeline, all pages. Once the first page
// gives X-Total-Pages the rest are fetched concurrently; without totals
// (GitLab omits them past 10,000 rows) it follows Link / X-Next-Page.
func (c *Client) PipelineJobs(ctx context.Context, projectID string, pipelineID int64, o ListOptions) ([]Job, error) {
	return c.listAll(ctx, fmt.Sprintf("projects/%s/pipelines/%d/jobs", url.PathEscape(projectID), pipelineID), o.query())
}

// PipelineBridges lists a pipeline's trigger jobs, whose DownstreamPipeline
// names child and downstream pipelines.
func (c *Client) PipelineBridges(ctx context.Context, projectID string, pipelineID int64) ([]Job, error) {
	return c.listAll(ctx, fmt.Sprintf("projects/%s/pipelines/%d/bridges", url.PathEscape(projectID), pipelineID), url.Values{"per_page": {"100"}})
}

// CurrentJob returns the job the client's job token belongs to (GET /job).
func (c *Client) CurrentJob(ctx context.Context) (*Job, error) {
	var j Job
	if err := c.getJSON(ctx, c.URL("job", nil), &j, nil); err != nil {
		return nil, err
	}
	return &j, nil
}

// ProjectJob returns one job by id. Job tokens may not call it on most
// GitLab versions (gitlab-protocol.md §3.2).
func (c *Client) ProjectJob(ctx context.Context, projectID string, jobID int64) (*Job, error) {
	var j Job
	if err := c.getJSON(ctx, c.URL(fmt.Sprintf("projects/%s/jobs/%d", url.PathEscape(projectID), jobID), nil), &j, nil); err != nil {
		return nil, err
	}
	return &j, nil
}

// page is what one listing request taught us about the rest.
type page struct {
	totalPages int
	next       string // absolute URL of the next page, "" at the end
}

func (c *Client) listAll(ctx context.Context, path string, q url.Values) ([]Job, error) {
	var first []Job
	pg, err := c.getPage(ctx, c.URL(path, q), &first)
	if err != nil {
		return nil, err
	}
	var rest []Job
	if pg.totalPages > 1 {
		rest, err = c.pagesConcurrently(ctx, path, q, pg.totalPages)
	} else {
		rest, err = c.pagesSequentially(ctx, pg.next)
	}
	if err != nil {
		return nil, err
	}
	return dedupe(append(first, rest...)), nil
}

func (c *Client) pagesConcurrently(ctx context.Context, path string, q url.Values, total int) ([]Job, error) {
	results := make([][]Job, total+1)
	errs := make([]error, total+1)
	sem := make(chan struct{}, c.conc)
	var wg sync.WaitGroup
	for n := 2; n <= total; n++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			pq := cloneValues(q)
			pq.Set("page", strconv.Itoa(n))
			_, errs[n] = c.getPage(ctx, c.URL(path, pq), &results[n])
		}()
	}
	wg.Wait()
	var all []Job
	for n := 2; n <= total; n++ {
		if errs[n] != nil {
			return nil, errs[n]
		}
		all = append(all, results[n]...)
	}
	return all, nil
}

func (c *Client) pagesSequentially(ctx context.Context, next string) ([]Job, error) {
	var all []Job
	for seen := 0; next != "" && seen < 10000; seen++ {
		var jobs []Job
		pg, err := c.getPage(ctx, next, &jobs)
		if err != nil {
			return nil, err
		}
		all = append(all, jobs...)
		next = pg.next
	}
	return all, nil
}

func (c *Client) getPage(ctx context.Context, rawURL string, into *[]Job) (page, error) {
	var pg page
	err := c.getJSON(ctx, rawURL, into, func(h http.Header) { pg = c.parsePage(rawURL, h) })
	return pg, err
}

// getJSON fetches rawURL and decodes it; decoding is part of the retried
// attempt, so a body cut halfway is fetched again.
func (c *Client) getJSON(ctx context.Context, rawURL string, into any, headers func(http.Header)) error {
	return c.Do(ctx, Unit{Method: http.MethodGet, URL: rawURL, Handle: func(resp *http.Response) error {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return fmt.Errorf("reading %s: %w", redact(resp.Request.URL), err)
		}
		if headers != nil {
			headers(resp.Header)
		}
		return nil
	}})
}

// parsePage reads GitLab's pagination headers (gitlab-protocol.md §2.3).
// The next page must stay on the API's host: a Link header is data from the
// server and must not send our token elsewhere.
func (c *Client) parsePage(current string, h http.Header) page {
	pg := page{}
	pg.totalPages, _ = strconv.Atoi(h.Get("X-Total-Pages"))
	if next := LinkNext(h.Get("Link")); next != "" && c.sameOrigin(next) {
		pg.next = next
		return pg
	}
	if n := h.Get("X-Next-Page"); n != "" {
		if u, err := url.Parse(current); err == nil {
			q := u.Query()
			q.Set("page", n)
			u.RawQuery = q.Encode()
			pg.next = u.String()
		}
	}
	return pg
}

func (c *Client) sameOrigin(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == c.base.Scheme && u.Host == c.base.Host
}

// LinkNext returns the rel="next" target of an RFC 8288 Link header, or "".
func LinkNext(header string) string {
	for _, part := range strings.Split(header, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok {
			continue
		}
		target = strings.TrimSpace(target)
		if len(target) < 2 || target[0] != '<' || target[len(target)-1] != '>' || strings.ContainsAny(target[1:len(target)-1], "<>") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "rel") && hasToken(strings.Trim(v, `"`), "next") {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// dedupe drops repeated ids: offset pages shift while a running pipeline
// gains jobs, so the same job can appear on two pages.
func dedupe(jobs []Job) []Job {
	seen := make(map[int64]bool, len(jobs))
	out := jobs[:0]
	for _, j := range jobs {
		if !seen[j.ID] {
			seen[j.ID] = true
			out = append(out, j)
		}
	}
	return out
}

func cloneValues(q url.Values) url.Values {
	c := make(url.Values, len(q))
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}
