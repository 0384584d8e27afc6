package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
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

   --job-token with --project and --pipeline (or, inside a job, CI_JOB_TOKEN, CI_PROJECT_ID and
   CI_PIPELINE_ID) tests whether this GitLab lets a job token list pipeline jobs; --project alone tests
   the admin token against the project's newest pipeline.

   Exit status: 0 when a job on this host would get its siblings and no check failed; 1 otherwise;
   2 for bad flags. Without a project to test, an accepted admin token (or, without one, a GitLab
   of 18.0 or later for the job token) counts as working: nothing faults it.`,
		Flags: append(settingsFlags(),
			&ucli.StringFlag{Name: "url", EnvVars: []string{"CI_API_V4_URL", "CI_SERVER_URL"}, Usage: "GitLab `URL` (or its /api/v4 URL)"},
			&ucli.StringFlag{Name: "ca-file", EnvVars: []string{"CI_SERVER_TLS_CA_FILE"}, Usage: "PEM `FILE` of the CA that signed GitLab's certificate (the runner's tls-ca-file)"},
			&ucli.StringFlag{Name: "job-token", EnvVars: []string{"CI_JOB_TOKEN"}, Usage: "a running job's `TOKEN`, to test listing pipeline jobs with it (prefer $CI_JOB_TOKEN: flags show in ps)"},
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

// probe is what doctor learnt about one way of listing pipeline jobs.
type probe int

const (
	notGiven probe = iota // no such token
	untested              // the token exists but listing could not be tried
	accepted              // GitLab accepts the token; listing not tried
	lists                 // listing pipeline jobs worked
	refused               // GitLab refused the token or the listing
)

type doctor struct {
	o         DoctorOptions
	apiURL    string
	ca        []byte
	adminTok  string
	adminErr  error // reading the token file
	version   string
	verErr    map[gitlab.AuthKind]error
	admin     probe
	job       probe
	reachable bool
	failures  int
	log       *logrus.Entry
}

// runDoctor checks the host and the instance, prints one line per check
// and a verdict, and fails when a job would not get its siblings.
func runDoctor(ctx context.Context, o DoctorOptions) error {
	apiURL, err := doctorAPIURL(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	d := &doctor{o: o, apiURL: apiURL, verErr: map[gitlab.AuthKind]error{}, log: logrus.WithField("command", "doctor")}
	d.checkCA()
	d.adminTok, d.adminErr = readTokenFile(o.APITokenFile)
	d.connect(ctx)
	d.checkAdmin(ctx)
	d.checkJobToken(ctx)
	d.checkCacheDir()
	d.checkCommand("gitlab-runner", "the runner's job scripts call it to upload and download artifacts, and custom-executor jobs inherit the runner's PATH")
	d.checkCommand("bash", "custom-executor jobs run their scripts with bash")
	return d.verdict()
}

// doctorAPIURL validates the flags: mistakes there are usage errors, not
// findings.
func doctorAPIURL(o DoctorOptions) (string, error) {
	switch {
	case o.URL == "":
		return "", usagef("no GitLab URL: give --url (or set CI_SERVER_URL)")
	case o.PipelineID < 0:
		return "", usagef("--pipeline %d is not a pipeline id", o.PipelineID)
	case o.PipelineID > 0 && o.ProjectID == "":
		return "", usagef("--pipeline needs --project")
	case o.Timeout <= 0:
		return "", usagef("--timeout must be positive")
	}
	u, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", usagef("--url must be an http(s) URL without credentials, like https://gitlab.example.com")
	}
	if !strings.HasSuffix(u.Path, "/api/v4") {
		u.Path += "/api/v4"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

func (d *doctor) line(status, format string, args ...any) {
	if status == "FAIL" {
		d.failures++
	}
	fmt.Fprintf(d.o.Stdout, "%-6s%s\n", status, fmt.Sprintf(format, args...))
}

// checkCA reads the CA the runner trusts for GitLab. A broken one is
// reported and left out, so that the reachability check still says what
// the system roots make of the certificate.
func (d *doctor) checkCA() {
	if d.o.CAFile == "" {
		return
	}
	name := d.caName()
	b, err := caPEM(d.o.CAFile)
	if err != nil {
		d.line("FAIL", "CA %s: %v", name, bareErr(err))
		return
	}
	n, expired := countCerts(b)
	switch {
	case n == 0:
		d.line("FAIL", "CA %s holds no PEM certificate", name)
		return
	case expired > 0:
		d.line("warn", "CA %s: %d of %s expired", name, expired, plural(n, "certificate"))
	default:
		d.line("ok", "CA %s: %s", name, plural(n, "certificate"))
	}
	d.ca = b
}

func (d *doctor) caName() string {
	if strings.Contains(d.o.CAFile, "-----BEGIN") {
		return "certificates given inline"
	}
	return "file " + d.o.CAFile
}

func countCerts(b []byte) (n, expired int) {
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return n, expired
		}
		if c, err := x509.ParseCertificate(block.Bytes); block.Type == "CERTIFICATE" && err == nil {
			n++
			if time.Now().After(c.NotAfter) {
				expired++
			}
		}
	}
}

func (d *doctor) client(kind gitlab.AuthKind, token string) (*gitlab.Client, error) {
	maskSecret(token) // as newClient does: every token we read is masked in logs
	retries := d.o.retryMax
	if retries == 0 {
		retries = 2 // an admin at a terminal wants an answer, not a long backoff
	}
	return gitlab.New(gitlab.Options{
		BaseURL: d.apiURL, Credential: gitlab.Credential{Kind: kind, Token: token}, CAPEM: d.ca,
		RetryMax: retries, MaxWait: 5 * time.Second, MaxRetryAfter: 10 * time.Second, Logger: d.log,
	})
}

// connect asks GET /version with the admin token, then the job token, then
// nothing: GitLab answers only authenticated requests, and even a 401
// proves the instance and its certificate are fine.
func (d *doctor) connect(ctx context.Context) {
	creds := []gitlab.Credential{{Kind: gitlab.PrivateToken, Token: d.adminTok}, {Kind: gitlab.JobToken, Token: d.o.JobToken}, {Kind: gitlab.NoAuth}}
	for _, cred := range creds {
		if cred.Token == "" && cred.Kind != gitlab.NoAuth {
			continue
		}
		c, err := d.client(cred.Kind, cred.Token)
		if err == nil {
			d.version, err = c.ServerVersion(ctx)
		}
		switch {
		case err == nil:
			d.reached(fmt.Sprintf("GitLab %s", d.version))
			return
		case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden):
			d.verErr[cred.Kind] = err
		default:
			d.line("FAIL", "GitLab not reachable at %s: %s", d.apiURL, explainConnError(err, d.ca != nil))
			return
		}
	}
	d.reached("GitLab (version unknown: GET /version needs a token GitLab accepts)")
}

func (d *doctor) reached(what string) {
	d.reachable = true
	how := "plain HTTP: tokens cross the network unencrypted"
	if strings.HasPrefix(d.apiURL, "https:") {
		how = "TLS verified"
		if d.ca != nil {
			how += " with " + d.caName()
		}
	}
	d.line("ok", "%s reachable at %s (%s)", what, d.apiURL, how)
}

// explainConnError turns certificate errors into what to do about them.
func explainConnError(err error, caGiven bool) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown) && caGiven:
		return "certificate signed by an unknown authority: the CA given does not hold the issuer of GitLab's certificate"
	case errors.As(err, &unknown):
		return "certificate signed by an unknown authority: give its CA with --ca-file or CI_SERVER_TLS_CA_FILE (the runner's tls-ca-file, often /etc/gitlab-runner/certs/<host>.crt)"
	case errors.As(err, &host):
		return "GitLab's certificate is not valid for this host name: " + host.Error()
	case errors.As(err, &invalid):
		return "GitLab's certificate is not acceptable: " + invalid.Error()
	}
	return err.Error()
}

// checkAdmin follows the admin token from its file to a pipeline listing.
func (d *doctor) checkAdmin(ctx context.Context) {
	if !d.checkTokenFile() {
		return
	}
	d.admin = untested
	f := d.o.APITokenFile
	switch err := d.verErr[gitlab.PrivateToken]; {
	case !d.reachable:
		d.line("skip", "admin token from %s not tested: GitLab not reachable", f)
		return
	case gitlab.IsStatus(err, http.StatusForbidden):
		d.admin = refused
		d.line("FAIL", "admin token from %s refused by GitLab (%s): it lacks the read_api scope", f, statusOf(err))
		return
	case err != nil:
		d.admin = refused
		d.line("FAIL", "admin token from %s rejected by GitLab (%s): expired, revoked, or made on another instance", f, statusOf(err))
		return
	}
	d.admin = accepted
	d.line("ok", "admin token from %s accepted by GitLab", f)
	d.adminListing(ctx)
}

// checkTokenFile reports on the file and says whether it holds a token.
func (d *doctor) checkTokenFile() bool {
	f := d.o.APITokenFile
	if f == "" {
		d.line("skip", "no admin token (--api-token-file, %s): jobs rely on the job token", envAPITokenFile)
		return false
	}
	if d.adminErr != nil {
		d.admin = refused
		d.line("FAIL", "admin token file %s: %s", f, tokenFileProblem(d.adminErr, f))
		return false
	}
	fi, err := os.Stat(f)
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		d.line("warn", "admin token file %s: mode %04o lets other users of this host read it; chmod 600 it", f, fi.Mode().Perm())
	} else {
		d.line("ok", "admin token file %s: one token, readable only by its owner", f)
	}
	return true
}

// tokenFileProblem drops the path readTokenFile puts into its errors: the
// line names the file already.
func tokenFileProblem(err error, path string) string {
	msg := strings.TrimPrefix(bareErr(err).Error(), "token file "+path)
	return strings.TrimPrefix(msg, " ")
}

// bareErr is the cause of a file error without the path the line already
// names.
func bareErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// adminListing proves read_api and project access by listing: the
// project's pipelines when no pipeline is given, then a pipeline's jobs.
func (d *doctor) adminListing(ctx context.Context) {
	if d.o.ProjectID == "" {
		d.line("skip", "admin token's read_api scope and project access not tested: give --project ID (and --pipeline ID)")
		return
	}
	c, err := d.client(gitlab.PrivateToken, d.adminTok)
	if err != nil {
		d.line("FAIL", "admin token: %v", err)
		return
	}
	pid := d.o.PipelineID
	if pid == 0 {
		p, err := c.LatestPipeline(ctx, d.o.ProjectID)
		if err != nil {
			d.admin = refused
			d.adminListingFailed(err)
			return
		} else if p == nil {
			d.admin = lists
			d.line("ok", "admin token reads project %s (read_api), which has no pipeline to list", d.o.ProjectID)
			return
		}
		pid = p.ID
	}
	if n, err := d.listJobs(ctx, c, pid, &d.admin); err != nil {
		d.adminListingFailed(err)
	} else {
		d.listed("admin token", n, pid)
	}
}

// listJobs lists a pipeline's jobs; a 401, 403 or 404 marks the token
// refused, anything else leaves it untested.
func (d *doctor) listJobs(ctx context.Context, c *gitlab.Client, pipelineID int64, state *probe) (int, error) {
	jobs, err := c.PipelineJobs(ctx, d.o.ProjectID, pipelineID, gitlab.ListOptions{})
	switch {
	case err == nil:
		*state = lists
	case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound):
		*state = refused
	default:
		*state = untested
	}
	return len(jobs), err
}

func (d *doctor) listed(who string, n int, pipelineID int64) {
	d.line("ok", "%s lists the %s of pipeline %d in project %s", who, plural(n, "job"), pipelineID, d.o.ProjectID)
}

func (d *doctor) adminListingFailed(err error) {
	var why string
	switch {
	case gitlab.IsStatus(err, http.StatusUnauthorized, http.StatusForbidden):
		why = "the token lacks the read_api scope, or its user may not read the project's pipelines"
	case gitlab.IsStatus(err, http.StatusNotFound):
		why = "the project or pipeline does not exist, or the token's user cannot see it"
	default:
		d.line("FAIL", "admin token: listing project %s failed: %v", d.o.ProjectID, err)
		return
	}
	d.line("FAIL", "admin token may not list project %s's pipelines (%s): %s", d.o.ProjectID, statusOf(err), why)
}

func statusOf(err error) string {
	var ae *gitlab.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%d %s", ae.StatusCode, http.StatusText(ae.StatusCode))
	}
	return err.Error()
}

// checkJobToken tries what jobs try first. Without a running job's token
// it can only say what the GitLab version suggests.
func (d *doctor) checkJobToken(ctx context.Context) {
	switch {
	case d.o.JobToken == "":
		d.line("skip", "job token: listing pipeline jobs with it can't be checked without a running job's token (--job-token or CI_JOB_TOKEN); %s", d.jobTokenHint())
		return
	case !d.reachable:
		d.job = untested
		d.line("skip", "job token not tested: GitLab not reachable")
		return
	case d.verErr[gitlab.JobToken] != nil:
		d.job = untested
		d.line("warn", "job token rejected by GitLab (%s): it is valid only while its job runs", statusOf(d.verErr[gitlab.JobToken]))
		return
	}
	d.jobListing(ctx)
}

// jobListing lists the given pipeline, or the token's own, with the job
// token. A refusal is a warning: the admin token may stand in.
func (d *doctor) jobListing(ctx context.Context) {
	c, err := d.client(gitlab.JobToken, d.o.JobToken)
	if err == nil {
		err = d.jobTarget(ctx, c)
	}
	if err != nil {
		d.job = untested
		d.line("warn", "job token not tested: %v", err)
		return
	}
	n, err := d.listJobs(ctx, c, d.o.PipelineID, &d.job)
	switch {
	case err == nil:
		d.listed("job token", n, d.o.PipelineID)
	case d.job == refused:
		d.line("warn", "job token may not list the jobs of pipeline %d on GitLab %s (%s): jobs need the admin token (--api-token-file)", d.o.PipelineID, d.version, statusOf(err))
	default:
		d.line("warn", "job token not tested: %v", err)
	}
}

// jobTarget fills in project and pipeline from the token's own job (GET
// /job) when they were not given.
func (d *doctor) jobTarget(ctx context.Context, c *gitlab.Client) error {
	if d.o.PipelineID != 0 {
		return nil
	}
	j, err := c.CurrentJob(ctx)
	if err != nil {
		return fmt.Errorf("finding its job's pipeline: %w", err)
	}
	if j.Pipeline == nil || j.Pipeline.ID == 0 {
		return errors.New("GET /job names no pipeline; give --project and --pipeline")
	}
	if d.o.ProjectID == "" {
		d.o.ProjectID = strconv.FormatInt(j.Pipeline.ProjectID, 10)
	}
	d.o.PipelineID = j.Pipeline.ID
	return nil
}

// jobTokenHint says what the version suggests. The first release to allow
// the job token on pipeline jobs is not pinned down (gitlab-protocol.md
// §3.1): 17.9 refuses it, 18.x documents it.
func (d *doctor) jobTokenHint() string {
	switch major := versionMajor(d.version); {
	case major == 0:
		return "GitLab 17.9 and older refuse it, 18.x allows it"
	case major < 18:
		return fmt.Sprintf("GitLab %s most likely refuses it", d.version)
	default:
		return fmt.Sprintf("GitLab %s should allow it", d.version)
	}
}

func versionMajor(v string) int {
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

// checkCacheDir looks without touching: doctor may run as another user than
// the runner, and a directory it created would then belong to the wrong one.
func (d *doctor) checkCacheDir() {
	if d.o.CacheTTL <= 0 {
		d.line("skip", "cache off (--cache-ttl 0): every job lists its pipeline itself")
		return
	}
	dir := d.o.CacheDir
	if dir == "" {
		var err error
		if dir, err = hooks.DefaultCacheDir(); err != nil {
			d.line("warn", "cache: %v", err)
			return
		}
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.cacheToCreate(dir)
	case err != nil:
		d.line("warn", "cache directory %s: %v", dir, bareErr(err))
	case !fi.IsDir():
		d.line("warn", "cache directory %s is not a directory: jobs list without the cache", dir)
	case syscall.Access(dir, 2|1) != nil: // W_OK|X_OK
		d.line("warn", "cache directory %s is not writable: jobs list without the cache", dir)
	case fi.Mode().Perm()&0o077 != 0:
		d.line("warn", "cache directory %s: mode %04o lets other users of this host read the cached job lists (names and ids, no token); chmod 700 it", dir, fi.Mode().Perm())
	default:
		d.line("ok", "cache directory %s: writable, mode %04o", dir, fi.Mode().Perm())
	}
}

func (d *doctor) cacheToCreate(dir string) {
	parent := filepath.Dir(dir)
	for parent != filepath.Dir(parent) {
		if _, err := os.Stat(parent); err == nil {
			break
		}
		parent = filepath.Dir(parent)
	}
	if syscall.Access(parent, 2|1) != nil {
		d.line("warn", "cache directory %s does not exist and can't be created (%s is not writable): jobs list without the cache", dir, parent)
		return
	}
	d.line("ok", "cache directory %s does not exist yet; the first job creates it (mode 0700)", dir)
}

func (d *doctor) checkCommand(name, why string) {
	if p, ok := lookPathIn(name, d.o.Path); ok {
		d.line("ok", "%s on PATH: %s", name, p)
		return
	}
	d.line("FAIL", "%s not on PATH (%s): %s", name, d.o.Path, why)
}

// lookPathIn is exec.LookPath over a given PATH: the jobs' PATH, not
// necessarily ours.
func lookPathIn(name, pathList string) (string, bool) {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// verdict prints the last line and decides the exit status.
func (d *doctor) verdict() error {
	from, ok := d.siblingSource()
	if ok {
		fmt.Fprintf(d.o.Stdout, "verdict: a job on this host would get its siblings (from: %s)\n", from)
	} else {
		fmt.Fprintf(d.o.Stdout, "verdict: a job on this host would get its declared dependencies only: %s\n", d.missing())
	}
	switch {
	case !ok:
		return errors.New("doctor: jobs on this host would not get their siblings")
	case d.failures > 0:
		return fmt.Errorf("doctor: %s failed", plural(d.failures, "check"))
	}
	return nil
}

// siblingSource names what jobs would list with. A listing that worked is
// proof; an accepted admin token, or a GitLab whose version allows the job
// token, counts when nothing could be listed to prove otherwise.
func (d *doctor) siblingSource() (string, bool) {
	switch {
	case d.job == lists && d.admin == lists:
		return "job token; admin token as fallback", true
	case d.job == lists:
		return "job token", true
	case d.admin == lists:
		return "admin token", true
	case d.admin == accepted:
		return "admin token; its listing untested without --project", true
	case d.job != refused && versionMajor(d.version) >= 18:
		return fmt.Sprintf("job token, which GitLab %s should allow; untested without a running job's token", d.version), true
	}
	return "", false
}

func (d *doctor) missing() string {
	var admin string
	switch d.admin {
	case notGiven:
		admin = "no admin token is configured (--api-token-file)"
	default:
		admin = "the admin token does not work (see above)"
	}
	switch {
	case !d.reachable:
		return "GitLab is not reachable"
	case d.job == refused:
		return "GitLab refuses the job token for pipeline jobs and " + admin
	case d.version != "" && versionMajor(d.version) < 18:
		return fmt.Sprintf("GitLab %s most likely refuses the job token for pipeline jobs and %s", d.version, admin)
	}
	return "nothing shows the job token may list pipeline jobs and " + admin
}
