// Package doctor checks a runner host's setup and probes what the GitLab
// instance really lets a job do. It returns typed findings; the command line
// prints them.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// Options are what doctor is told: the stages' settings that matter to it,
// plus what a runner host does not know by itself.
type Options struct {
	URL          string // the GitLab URL or its API URL (…/api/v4)
	CAFile       string // CA certificates: a PEM file, or PEM content (CI_SERVER_TLS_CA_FILE)
	APITokenFile string // the admin token's file; "" when none is configured
	JobToken     string // a running job's CI_JOB_TOKEN, optional
	ProjectID    string // for the listing probes, optional
	PipelineID   int64  // for the listing probes, optional
	CacheDir     string // "" for the default cache directory
	CacheTTL     time.Duration
	Timeout      time.Duration
	Path         string // the PATH the jobs will see
	// RetryMax is the GitLab client's retry count: 0 means doctor's default
	// of 2, -1 no retries.
	RetryMax int
}

// UsageError is a mistake in Options, found before any check runs.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Report is everything doctor found, in the order it found it.
type Report struct {
	Findings []Finding
	// Version is what GET /version reported; "" when unknown.
	Version string
	// Job is what a job on this host will and will not get.
	Job     JobAccess
	Verdict Verdict
}

// Failed counts the findings with status Fail.
func (r *Report) Failed() int {
	n := 0
	for _, f := range r.Findings {
		if f.Status == Fail {
			n++
		}
	}
	return n
}

// Find returns the findings of one check.
func (r *Report) Find(c Check) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Check == c {
			out = append(out, f)
		}
	}
	return out
}

// Run checks the host and probes the instance. Its error is a *UsageError
// for bad options; every other problem is a finding.
func Run(ctx context.Context, o Options) (*Report, error) {
	// Every credential doctor is handed is masked wherever it prints, one
	// pasted into --url included.
	secret.Register(o.JobToken)
	secret.RegisterURL(o.URL)
	apiURL, err := apiURLOf(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	d := &run{o: o, apiURL: apiURL, report: &Report{}}
	for _, step := range []func(context.Context){
		d.checkCA, d.readAdminToken, d.connect, d.checkJobToken, d.checkAdmin, d.jobListing, d.probeRoutes,
		d.checkCacheDir, d.checkCommands,
	} {
		step(ctx)
	}
	d.report.Verdict = d.verdict()
	return d.report, nil
}

// apiURLOf validates the options: mistakes there are usage errors, not
// findings.
func apiURLOf(o Options) (string, error) {
	switch {
	case o.URL == "":
		return "", &UsageError{"no GitLab URL: give --url (or set CI_SERVER_URL)"}
	case o.PipelineID < 0:
		return "", &UsageError{fmt.Sprintf("--pipeline %d is not a pipeline id", o.PipelineID)}
	case o.PipelineID > 0 && o.ProjectID == "":
		return "", &UsageError{"--pipeline needs --project"}
	case o.Timeout <= 0:
		return "", &UsageError{"--timeout must be positive"}
	}
	u, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", &UsageError{"--url must be an http(s) URL without credentials, like https://gitlab.example.com"}
	}
	if !strings.HasSuffix(u.Path, "/api/v4") {
		u.Path += "/api/v4"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// run is one doctor run's state: what later checks need from earlier ones.
type run struct {
	o        Options
	apiURL   string
	ca       []byte
	adminTok string
	adminErr error // reading the token file
	adminVer error // GET /version with the admin token
	adminSt  adminState
	// adminPipeline is the pipeline the admin token listed.
	adminPipeline int64
	reachable     bool
	report        *Report
	// artifactJob is a job with an archive, found while listing, for the
	// download probes.
	artifactJob int64
}

// pipeline is the pipeline to probe: the one given or the job token's own,
// else the one the admin token listed.
func (d *run) pipeline() int64 {
	if d.o.PipelineID != 0 {
		return d.o.PipelineID
	}
	return d.adminPipeline
}

func (d *run) add(c Check, s Status, r Reason, format string, args ...any) {
	d.report.Findings = append(d.report.Findings, Finding{Check: c, Status: s, Reason: r, Message: fmt.Sprintf(format, args...)})
}

func (d *run) client(kind gitlab.AuthKind, token string) (*gitlab.Client, error) {
	retries := d.o.RetryMax
	if retries == 0 {
		retries = 2 // an admin at a terminal wants an answer, not a long backoff
	}
	return gitlab.New(gitlab.Options{
		BaseURL: d.apiURL, Credential: gitlab.Credential{Kind: kind, Token: token}, CAPEM: d.ca,
		RetryMax: retries, MaxWait: 5 * time.Second, MaxRetryAfter: 10 * time.Second,
	})
}

func statusOf(err error) string {
	var ae *gitlab.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%d %s", ae.StatusCode, http.StatusText(ae.StatusCode))
	}
	return err.Error()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
