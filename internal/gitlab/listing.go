package gitlab

import (
	"context"
	"errors"
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
// names child and downstream pipelines. It asks GET …/trigger_jobs, the name
// GitLab 19.2 introduced (https://docs.gitlab.com/api/jobs/#list-pipeline-trigger-jobs),
// and falls back to the deprecated …/bridges where that route does not
// exist (404); the client then asks /bridges directly from the next call on.
// On 18.x /bridges ignores a job token
// (https://gitlab.com/gitlab-org/gitlab/-/issues/554448): the answer is
// then that of an anonymous caller.
func (c *Client) PipelineBridges(ctx context.Context, projectID string, pipelineID int64) ([]Job, error) {
	base := fmt.Sprintf("projects/%s/pipelines/%d/", url.PathEscape(projectID), pipelineID)
	q := url.Values{"per_page": {"100"}}
	if !c.noTriggerJobs.Load() {
		jobs, err := c.listAll(ctx, base+"trigger_jobs", q)
		if !IsStatus(err, http.StatusNotFound) {
			return jobs, err
		}
		c.logger.Debugf("GET %strigger_jobs: 404, falling back to /bridges (GitLab before 19.2)", base)
		jobs, err = c.listAll(ctx, base+"bridges", q)
		if err == nil {
			// Only now is the 404 the route's own: a pipeline that does not
			// exist answers 404 on both, and must not send every later
			// call of a long-lived client to the deprecated route.
			c.noTriggerJobs.Store(true)
		}
		return jobs, err
	}
	return c.listAll(ctx, base+"bridges", q)
}

// Bounds on what a listing's headers may make us do: no server header sizes
// memory or a loop without limit.
//
// maxPages caps X-Total-Pages and the pages followed through Link: 100,000
// jobs at per_page=100. GitLab stops sending totals past 10,000 rows
// (https://docs.gitlab.com/api/rest/#pagination), so a larger X-Total-Pages
// is not GitLab's. A variable only so that tests need not send 1,000 pages.
var maxPages = 1000

const (
	// maxListRounds bounds how often a listing that changed while it was
	// read is read again.
	maxListRounds = 4
)

// page is what one listing request taught us about the rest.
type page struct {
	total      int // X-Total, -1 when absent
	totalPages int // X-Total-Pages, 0 when absent
	next       string
}

func (c *Client) listAll(ctx context.Context, path string, q url.Values) ([]Job, error) {
	var first []Job
	pg, err := c.getPage(ctx, c.URL(path, q), &first)
	if err != nil {
		return nil, err
	}
	switch {
	case pg.totalPages > maxPages:
		return nil, fmt.Errorf("listing %s: GitLab reports %d pages, more than the %d this tool reads", path, pg.totalPages, maxPages)
	case pg.totalPages > 1:
		return c.pagesConsistently(ctx, path, q, listed{jobs: first, total: pg.total}, pg.totalPages)
	}
	rest, err := c.pagesSequentially(ctx, path, pg.next)
	if err != nil {
		return nil, err
	}
	return dedupe(append(first, rest...)), nil
}

// listed is one page as it was answered.
type listed struct {
	jobs  []Job
	total int
	pages int
}

// pagesConsistently reads pages 2..n at once, then checks that all pages
// describe one state of the list. Offset pages are newest first: a retry
// during the listing puts a new row on top and pushes older rows one place
// later, so a page read after it and the next page read before it both miss
// the row that crossed their boundary. Such a shift always shows as a row on
// two pages or as a changed X-Total; then every page is read again at once
// (page 1 included), up to maxListRounds reads in all. One retry during a
// 1,000-job listing costs three round trips.
func (c *Client) pagesConsistently(ctx context.Context, path string, q url.Values, first listed, total int) ([]Job, error) {
	pages, err := c.fetchPages(ctx, path, q, 2, total)
	if err != nil {
		return nil, err
	}
	pages = append([]listed{first}, pages...)
	for round := 2; ; round++ {
		if jobs, ok := consistent(pages); ok {
			return jobs, nil
		}
		if round >= maxListRounds {
			return nil, fmt.Errorf("listing %s: the list kept changing while it was read (%d reads)", path, round)
		}
		c.logger.Debugf("listing %s changed while it was read (a job was retried?): reading every page again", path)
		n := latestPages(pages)
		if n > maxPages {
			return nil, fmt.Errorf("listing %s: GitLab reports %d pages, more than the %d this tool reads", path, n, maxPages)
		}
		if pages, err = c.fetchPages(ctx, path, q, 1, n); err != nil {
			return nil, err
		}
	}
}

// consistent reports whether pages are one state of the list: the same
// X-Total on every page, no row on two pages, and as many rows as X-Total.
func consistent(pages []listed) ([]Job, bool) {
	var all []Job
	seen := map[int64]bool{}
	for _, p := range pages {
		if p.total < 0 || p.total != pages[0].total {
			return nil, false
		}
		for _, j := range p.jobs {
			if seen[j.ID] {
				return nil, false
			}
			seen[j.ID] = true
			all = append(all, j)
		}
	}
	return all, len(all) == pages[0].total
}

// latestPages is the page count the last answered page reported.
func latestPages(pages []listed) int {
	n := 0
	for _, p := range pages {
		n = max(n, p.pages)
	}
	return max(n, len(pages))
}

// fetchPages reads pages from..to at once, at most c.conc in flight.
func (c *Client) fetchPages(ctx context.Context, path string, q url.Values, from, to int) ([]listed, error) {
	out := make([]listed, to-from+1)
	errs := make([]error, len(out))
	sem := make(chan struct{}, c.conc)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			pq := cloneValues(q)
			pq.Set("page", strconv.Itoa(from+i))
			pg, err := c.getPage(ctx, c.URL(path, pq), &out[i].jobs)
			out[i].total, out[i].pages, errs[i] = pg.total, pg.totalPages, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, firstError(errs)
	}
	return out, nil
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// pagesSequentially follows Link / X-Next-Page when GitLab sends no totals
// (past 10,000 rows), for at most maxPages pages.
func (c *Client) pagesSequentially(ctx context.Context, path, next string) ([]Job, error) {
	var all []Job
	for n := 1; next != ""; n++ {
		if n >= maxPages {
			return nil, fmt.Errorf("listing %s: more than %d pages", path, maxPages)
		}
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

// parsePage reads GitLab's pagination headers (docs/gitlab.md, "Listings and pagination").
// The next page must stay on the API's host: a Link header is data from the
// server and must not send our token elsewhere.
func (c *Client) parsePage(current string, h http.Header) page {
	pg := page{total: boundedInt(h.Get("X-Total"), -1)}
	pg.totalPages = max(boundedInt(h.Get("X-Total-Pages"), 0), 0)
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

// boundedInt parses a numeric header; absent, malformed or absurd values
// (beyond 1<<40) give def.
func boundedInt(v string, def int) int {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return def
	}
	return int(n)
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
