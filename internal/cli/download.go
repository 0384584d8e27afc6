package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/extract"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// defaultWait is what a bare --wait means: longer than most jobs that
// produce artifacts take, shorter than a job's default timeout (1h).
const defaultWait = 10 * time.Minute

// DownloadOptions are the download command's settings.
type DownloadOptions struct {
	JobName          string // JOB_NAME, looked up in the manifest / ARTIFACT_URL_*
	JobID            int64
	URL              string
	Path             string // one file inside the archive
	Dest             string // extract here (default ".")
	DestSet          bool   // --dest was given explicitly
	Output           string // -o FILE, or "-" for stdout
	Wait             time.Duration
	Optional         bool
	SHA256           string
	JSON             bool
	Quiet            bool
	PrivateTokenFile string
	CAFile           string
	Timeout          time.Duration
	StallTimeout     time.Duration
	Parallel         int
	Fsync            bool
	Pipeline         int64  // --pipeline: look JOB_NAME up there
	SHA              string // --sha: the newest pipeline for this commit
	Project          string // --project: another project
	ChunkSize        int64
	ParallelMin      int64
	Limits           extract.Limits
	Environ          []string
	Stdout, Stderr   io.Writer
	Terminal         bool // stderr is a terminal: redraw one progress line
}

const downloadDescription = `Downloads a sibling job's artifacts and extracts them, or saves the archive (or one file of it).
Retries cover the whole transfer: connection errors, 408/429/5xx (honouring Retry-After), bodies
that break or stall (resumed with Range where the server allows), and expired object-storage URLs.
Large archives come in parallel ranged requests. Nothing partial is ever left at the destination:
bytes land in a temporary file that is renamed or extracted only once complete and verified.

Which artifacts, one of:
  JOB_NAME      a job of this pipeline, through PIPELINE_ARTIFACTS_MANIFEST or ARTIFACT_URL_<N>
  --job-id ID   built from CI_API_V4_URL and CI_PROJECT_ID
  --url URL     an ARTIFACT_URL_* value as is (hosts outside CI)
  JOB_NAME --pipeline ID | --sha COMMIT   that job of another pipeline (--project for another project)

Credentials: PIPELINE_ARTIFACTS_PRIVATE_TOKEN or --private-token-file (sent as PRIVATE-TOKEN),
else CI_JOB_TOKEN (sent as JOB-TOKEN). Tokens go only to GitLab (the host of CI_API_V4_URL when it is
set), never to the object storage it redirects to, and are never printed. HTTPS_PROXY / NO_PROXY and
CI_SERVER_TLS_CA_FILE (or --ca-file) are honoured.

Exit status: 0 done · 1 failed (retries exhausted, integrity, I/O) · 2 usage or configuration ·
3 the artifacts do not exist or did not appear before the --wait deadline (0 with --optional).

--wait alone waits 10m; give a duration with "=": --wait=30m. While waiting, a job that ended
without artifacts (failed, canceled, skipped, or succeeded without any) stops the wait early where
the token may read job statuses.

Without --sha256, the SHA-256 and size are printed (stderr) for you to pin. A body that ends early is
caught through Content-Length, Content-Range or the manifest's size; with none of them known (a
chunked answer and no manifest), only --sha256 can catch it.

Examples:
  # in a job: extract the artifacts of job "build" of this pipeline into public/
  pipeline-artifacts download build --dest public/

  # in a job: wait up to 20 minutes for job "package", keep the archive as is
  pipeline-artifacts download package --wait=20m -o package.zip

  # one file of the archive, to stdout
  pipeline-artifacts download build --path dist/version.txt -o -

  # on a deploy host over SSH, with the job's URL and token passed along:
  #   (send the token on ssh's stdin, never on a command line ps can show; see examples/deploy.sh)
  #   { printf 'export CI_JOB_TOKEN=%q ARTIFACT_URL_BUILD=%q\n' "$CI_JOB_TOKEN" "$ARTIFACT_URL_BUILD"; cat remote.sh; } | ssh deploy@www bash -s
  # remote.sh:
  pipeline-artifacts download --url "$ARTIFACT_URL_BUILD" --dest /srv/www

  # optional artifacts of a job that may not exist in this pipeline, as JSON
  pipeline-artifacts download docs --optional --json --dest public/docs`

func downloadCommand(s streams) *ucli.Command {
	flags := downloadFlags()
	return &ucli.Command{
		Name:        "download",
		Usage:       "download a sibling job's artifacts: retried, resumed, verified, extracted",
		UsageText:   "pipeline-artifacts download [JOB_NAME] [--job-id ID | --url URL | --pipeline ID | --sha COMMIT] [--project ID] [--path FILE] [--dest DIR | -o FILE | -o -] [--wait[=DURATION]] [--optional] [--sha256 HEX] [--json]",
		Description: downloadDescription,
		Flags:       flags,
		Action: func(c *ucli.Context) error {
			args, err := lateFlags(c, flags, c.Args().Slice())
			if err != nil {
				return err
			}
			o, err := downloadOptions(c, s, args)
			if err != nil {
				return err
			}
			return runDownload(c.Context, o)
		},
	}
}

func downloadFlags() []ucli.Flag {
	return append([]ucli.Flag{
		&ucli.StringFlag{Name: "job-id", Usage: "download the artifacts of job `ID` of this project (needs CI_API_V4_URL, CI_PROJECT_ID)"},
		&ucli.StringFlag{Name: "url", Usage: "download from `URL`, an ARTIFACT_URL_* value (for hosts outside CI)"},
		&ucli.StringFlag{Name: "path", Usage: "only `FILE` from inside the archive; saved as DIR/<its base name>, or as -o says"},
		&ucli.StringFlag{Name: "dest", Value: ".", Usage: "extract into `DIR` (created if missing; existing files are replaced)"},
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "save the archive as `FILE` without extracting; - writes it to stdout once complete"},
		&waitFlag{GenericFlag: ucli.GenericFlag{Name: "wait", Value: &waitValue{},
			Usage: "poll until the artifacts exist, up to DURATION (default 10m when given alone)"}},
		&ucli.BoolFlag{Name: "optional", DisableDefaultText: true, Usage: "exit 0 with a warning when the artifacts do not exist (or not in time)"},
		&ucli.StringFlag{Name: "sha256", Usage: "fail unless the download's SHA-256 is `HEX`"},
		&ucli.BoolFlag{Name: "fsync", DisableDefaultText: true, Usage: "with -o FILE: make the file durable (fsync) before it takes its name, so it survives a power cut too"},
		&ucli.BoolFlag{Name: "json", DisableDefaultText: true, Usage: "print the result as one JSON object on stdout"},
		&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, DisableDefaultText: true, Usage: "no progress and no summary on stderr (warnings and errors still are)"},
		&ucli.StringFlag{Name: "private-token-file", Usage: "`FILE` with a token sent as PRIVATE-TOKEN (else $" + envPrivateToken + ", else CI_JOB_TOKEN)"},
		&ucli.StringFlag{Name: "ca-file", Usage: "trust the CA certificates in `FILE` (PEM) besides the system's (default: $CI_SERVER_TLS_CA_FILE)"},
		&ucli.DurationFlag{Name: "timeout", Value: time.Hour, Usage: "give up a transfer that takes longer than `DURATION` once the artifacts were found; 0 for no limit"},
		&ucli.DurationFlag{Name: "stall-timeout", Value: artifacts.DefaultStallTimeout, Usage: "retry a connection that delivers nothing for `DURATION`"},
		&ucli.IntFlag{Name: "parallel", Value: artifacts.DefaultParallel, Usage: "`N` concurrent ranged requests for large archives; 1 for a single stream"},
		&ucli.StringFlag{Name: "chunk-size", Value: "16MiB", Usage: "`SIZE` of each ranged request"},
		&ucli.StringFlag{Name: "parallel-min", Value: "64MiB", Usage: "use ranged requests only for archives of at least `SIZE`"},
		&ucli.StringFlag{Name: "max-size", DefaultText: "16GiB", Usage: "refuse archives that extract to more than `SIZE`"},
		&ucli.IntFlag{Name: "max-files", DefaultText: "100000", Usage: "refuse archives with more than `N` entries"},
		&ucli.Float64Flag{Name: "max-ratio", DefaultText: "1000", Usage: "refuse entries that expand more than `RATIO` times"},
	}, remoteFlags()...)
}

// lateFlags parses the flags that follow JOB_NAME. urfave/cli v2 stops at
// the first argument, but the contract's synopsis puts JOB_NAME first
// ("download build --dest public/"), so the rest is parsed again here and
// copied into the command's flag set.
func lateFlags(c *ucli.Context, flags []ucli.Flag, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	set := flag.NewFlagSet("download", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range flags {
		if err := f.Apply(set); err != nil {
			return nil, err
		}
	}
	if err := set.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return nil, ucli.ShowSubcommandHelp(c)
	} else if err != nil {
		return nil, usagef("%v", err)
	}
	var err error
	set.Visit(func(f *flag.Flag) {
		for _, name := range aliases(flags, f.Name) {
			err = errors.Join(err, c.Set(name, f.Value.String()))
		}
	})
	return append(args[:1:1], set.Args()...), err
}

// aliases returns every name of the flag called name: urfave/cli copies a
// value between aliases only while it parses.
func aliases(flags []ucli.Flag, name string) []string {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f.Names()
		}
	}
	return []string{name}
}

func downloadOptions(c *ucli.Context, s streams, args []string) (DownloadOptions, error) {
	secret.RegisterURL(c.String("url")) // a token inside --url is masked like any other
	o := DownloadOptions{
		URL: c.String("url"), Path: c.String("path"),
		Dest: c.String("dest"), DestSet: c.IsSet("dest"), Output: c.String("output"),
		Wait: c.Generic("wait").(*waitValue).d, Optional: c.Bool("optional"), SHA256: c.String("sha256"),
		JSON: c.Bool("json"), Quiet: c.Bool("quiet"), PrivateTokenFile: c.String("private-token-file"),
		CAFile: c.String("ca-file"), Timeout: c.Duration("timeout"), StallTimeout: c.Duration("stall-timeout"),
		Parallel: c.Int("parallel"), Environ: s.environ(), Stdout: s.stdout, Stderr: s.stderr,
		Terminal: isTerminal(s.stderr), SHA: c.String("sha"), Project: c.String("project"), Fsync: c.Bool("fsync"),
	}
	o.Limits.MaxEntries, o.Limits.MaxRatio = c.Int("max-files"), c.Float64("max-ratio")
	var errs []error
	if len(args) > 1 {
		errs = append(errs, extraArgs(args[1:]))
	}
	if len(args) > 0 {
		o.JobName = args[0]
	}
	if v := c.String("pipeline"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fmt.Errorf("--pipeline %q is not a pipeline id", v))
		}
		o.Pipeline = id
	}
	if v := c.String("job-id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fmt.Errorf("--job-id %q is not a job id", v))
		}
		o.JobID = id
	}
	sizes := []struct {
		flag string
		into *int64
	}{{"chunk-size", &o.ChunkSize}, {"parallel-min", &o.ParallelMin}, {"max-size", &o.Limits.MaxBytes}}
	for _, sz := range sizes {
		if v := c.String(sz.flag); v != "" {
			n, err := parseSize(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", sz.flag, err))
			}
			*sz.into = n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, &usageError{err: err}
	}
	return o, nil
}

func extraArgs(extra []string) error {
	if _, err := time.ParseDuration(extra[0]); err == nil {
		return fmt.Errorf("unexpected argument %q: give --wait its duration with \"=\", as in --wait=%s", extra[0], extra[0])
	}
	return fmt.Errorf("unexpected arguments %q: download takes at most one JOB_NAME", extra)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// runDownload resolves what to fetch, fetches it and reports the result.
func runDownload(ctx context.Context, o DownloadOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	log := logrus.WithField("command", "download")
	tgt, err := resolveDownload(o)
	if err == nil && o.remote() {
		tgt, err = listedTarget(ctx, o, log)
		if err == nil {
			tgt.fillFromURL(o)
			if o.Path != "" {
				tgt.url += "/" + escapeSegments(o.Path)
				tgt.size = 0
			}
		}
	}
	if err == nil {
		var res *artifacts.Result
		res, err = fetchArtifacts(ctx, o, tgt, log)
		if err == nil {
			return reportDownload(o, tgt, res)
		}
	}
	return notFoundOutcome(o, tgt, err, log)
}

func (o DownloadOptions) validate() error {
	var errs []error
	selectors := 0
	for _, set := range []bool{o.JobName != "", o.JobID != 0, o.URL != ""} {
		if set {
			selectors++
		}
	}
	if selectors != 1 {
		errs = append(errs, errors.New("name the artifacts with exactly one of JOB_NAME, --job-id and --url"))
	}
	if o.Output != "" && o.DestSet {
		errs = append(errs, errors.New("--dest and -o exclude each other: extract, or save as a file"))
	}
	if o.JSON && o.Output == "-" {
		errs = append(errs, errors.New("--json and -o - both want stdout"))
	}
	if o.SHA256 != "" && !regexp.MustCompile(`^[0-9a-fA-F]{64}$`).MatchString(o.SHA256) {
		errs = append(errs, errors.New("--sha256 wants 64 hexadecimal digits"))
	}
	if o.Path != "" {
		errs = append(errs, checkArchivePath(o.Path))
	}
	if o.Parallel < 1 {
		errs = append(errs, errors.New("--parallel must be at least 1"))
	}
	errs = append(errs, o.validateRemote())
	if err := errors.Join(errs...); err != nil {
		return &usageError{err: err}
	}
	return nil
}

func checkArchivePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "\\") {
		return fmt.Errorf("--path %q must be a relative file path inside the archive", p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("--path %q must not contain empty, . or .. segments", p)
		}
	}
	return nil
}

// downloadTarget is what the selection resolved to.
type downloadTarget struct {
	url       string // with --path applied
	label     string // `job "build" (12)`, for messages
	name      string
	jobID     int64
	projectID string
	pipeline  int64 // the pipeline whose listing holds the job, 0 if unknown
	size      int64 // the archive's size from the manifest, 0 if unknown
}

func resolveDownload(o DownloadOptions) (downloadTarget, error) {
	var t downloadTarget
	var err error
	switch {
	case o.URL != "":
		t.url = strings.TrimRight(o.URL, "/")
	case o.JobID != 0:
		t, err = jobIDTarget(o)
	case o.remote():
		return t, nil // looked up through the API by runDownload
	default:
		t, err = jobNameTarget(o)
	}
	if err != nil {
		return t, err
	}
	t.fillFromURL(o)
	if o.Path != "" {
		t.url += "/" + escapeSegments(o.Path)
		t.size = 0 // the manifest's size is the archive's
	}
	return t, nil
}

func jobIDTarget(o DownloadOptions) (downloadTarget, error) {
	api, project := envValue(o.Environ, "CI_API_V4_URL"), o.project()
	if api == "" || project == "" {
		return downloadTarget{}, usagef("--job-id needs CI_API_V4_URL and CI_PROJECT_ID (set inside a job); elsewhere use --url")
	}
	u := fmt.Sprintf("%s/projects/%s/jobs/%d/artifacts", strings.TrimRight(api, "/"), url.PathEscape(project), o.JobID)
	return downloadTarget{url: u}, nil
}

// jobNameTarget looks JOB_NAME up in the manifest, which knows collision
// suffixes, sizes and statuses, and falls back to ARTIFACT_URL_<N>.
func jobNameTarget(o DownloadOptions) (downloadTarget, error) {
	t := downloadTarget{name: o.JobName, label: fmt.Sprintf("job %q", o.JobName)}
	m, err := readJobManifest(o.Environ)
	if err != nil {
		return t, err
	}
	if m != nil {
		for _, s := range m.Siblings {
			if s.Name == o.JobName {
				t.url, t.jobID, t.size, t.pipeline = s.URL, s.ID, s.ArtifactSize, m.PipelineID
				return t, nil
			}
		}
	}
	if u := envValue(o.Environ, hooks.URLPrefix+hooks.VarName(o.JobName)); u != "" && m == nil {
		t.url = u
		return t, nil
	}
	if m == nil && !hasArtifactVars(o.Environ) {
		return t, usagef("no sibling variables here (PIPELINE_ARTIFACTS_MANIFEST, ARTIFACT_URL_*): is pipeline-artifacts the runner's executor or pre_build_script? Outside a job use --url")
	}
	return t, &artifacts.NotFoundError{Job: t.label, Reason: "is not a job of this pipeline" + knownNames(m)}
}

func readJobManifest(environ []string) (*hooks.Manifest, error) {
	p := envValue(environ, hooks.ManifestVar)
	if p == "" {
		return nil, nil
	}
	m, err := hooks.ReadManifest(p)
	if err != nil {
		return nil, &usageError{err: err}
	}
	return m, nil
}

func hasArtifactVars(environ []string) bool {
	for _, kv := range environ {
		if strings.HasPrefix(kv, hooks.URLPrefix) {
			return true
		}
	}
	return false
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

// fillFromURL learns project and job from a GitLab archive URL, for the
// label and for job-status look-ups while waiting.
func (t *downloadTarget) fillFromURL(o DownloadOptions) {
	// Either shape: the runner route ARTIFACT_URL_<N> carries (no project;
	// the job's own CI_PROJECT_ID then names it) or the project's artifacts
	// API. A URL naming one file of the archive names no archive to label.
	if ref, err := gitlab.ParseArtifactURL(t.url); err == nil && ref.Path == "" {
		t.projectID, t.jobID = ref.ProjectID, ref.JobID
		if ref.Runner() {
			t.projectID = o.project()
		}
	}
	if t.pipeline == 0 && t.name != "" {
		t.pipeline, _ = strconv.ParseInt(envValue(o.Environ, "CI_PIPELINE_ID"), 10, 64)
	}
	switch {
	case t.name != "" && t.jobID != 0:
		t.label = fmt.Sprintf("job %q (%d)", t.name, t.jobID)
	case t.jobID != 0:
		t.label = fmt.Sprintf("job %d", t.jobID)
	case t.label == "":
		t.label = "the artifacts at " + redactURL(t.url)
	}
}

func escapeSegments(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return gitlab.Redact(u)
}

func fetchArtifacts(ctx context.Context, o DownloadOptions, t downloadTarget, log *logrus.Entry) (*artifacts.Result, error) {
	c, err := downloadClient(o, t, log)
	if err != nil {
		return nil, err
	}
	defer c.HTTPClient().CloseIdleConnections()
	c.SetResponseHeaderTimeout(o.StallTimeout)
	ao := artifacts.Options{
		URL: t.url, Job: t.label, ExpectedSize: t.size, SHA256: o.SHA256, Limits: o.Limits,
		Wait: o.Wait, Status: statusFunc(c, t), Timeout: o.Timeout, StallTimeout: o.StallTimeout,
		Parallel: o.Parallel, ChunkSize: o.ChunkSize, ParallelMin: o.ParallelMin, Logger: log, Fsync: o.Fsync,
	}
	ao.Dest, ao.Output, ao.Stdout = outputFor(o)
	if !o.Quiet {
		ao.Progress, ao.Terminal = o.Stderr, o.Terminal
	}
	if !o.Quiet && !o.Terminal && inJobLog() {
		// In a job log the progress lines fold away; the summary line
		// that follows stays visible.
		sw := &sectionWriter{w: o.Stderr, name: "pipeline_artifacts_download", header: "pipeline-artifacts: downloading " + t.label}
		defer sw.Close()
		ao.Progress = sw
	}
	return artifacts.Download(ctx, c, ao)
}

// outputFor maps --dest / -o / --path onto the engine's destinations.
func outputFor(o DownloadOptions) (dest, output string, stdout io.Writer) {
	switch {
	case o.Output == "-":
		return "", "-", o.Stdout
	case o.Output != "":
		return "", o.Output, nil
	case o.Path != "":
		// One file is not an archive: save it under its own name in DIR. A
		// failure to create DIR shows when the file is created.
		_ = os.MkdirAll(o.Dest, 0o777)
		return "", filepath.Join(o.Dest, path.Base(o.Path)), nil
	}
	return o.Dest, "", nil
}

// downloadClient picks the credential: an explicit private token wins over
// the job token. When CI_API_V4_URL is known, a token only goes to its host:
// a URL elsewhere gets none.
func downloadClient(o DownloadOptions, t downloadTarget, log *logrus.Entry) (*gitlab.Client, error) {
	cred, err := downloadCredential(o)
	if err != nil {
		return nil, &usageError{err: err}
	}
	api := envValue(o.Environ, "CI_API_V4_URL")
	if api != "" && cred.Token != "" && !sameOrigin(api, t.url) {
		log.Warnf("not sending the %s to %s: it is not the GitLab of CI_API_V4_URL", cred.Kind, redactURL(t.url))
		cred = gitlab.Credential{}
	}
	if api == "" || !sameOrigin(api, t.url) {
		api = apiBase(t.url)
	}
	ca, err := downloadCA(o)
	if err != nil {
		return nil, &usageError{err: err}
	}
	c, err := newClient(api, cred, ca, log)
	if err != nil {
		return nil, &usageError{err: err}
	}
	return c, nil
}

func downloadCredential(o DownloadOptions) (gitlab.Credential, error) {
	tok, err := privateToken(o.PrivateTokenFile, o.Environ)
	if err != nil {
		return gitlab.Credential{}, err
	}
	if tok != "" {
		return gitlab.Credential{Kind: gitlab.PrivateToken, Token: tok}, nil
	}
	if jt := strings.TrimSpace(envValue(o.Environ, "CI_JOB_TOKEN")); jt != "" {
		return gitlab.Credential{Kind: gitlab.JobToken, Token: jt}, nil
	}
	return gitlab.Credential{}, nil
}

// downloadCA reads --ca-file, whose value may also come from
// CI_SERVER_TLS_CA_FILE (a path in jobs, the PEM itself in some drivers).
func downloadCA(o DownloadOptions) ([]byte, error) {
	if o.CAFile == "" {
		return caPEM(envValue(o.Environ, "CI_SERVER_TLS_CA_FILE"))
	}
	return caPEM(o.CAFile)
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && gitlab.SameOrigin(ua, ub)
}

// apiBase guesses the API base URL from an archive URL: the part up to
// /api/v4 of either artifacts route, else the part before /projects/, else
// the origin. The client needs it only for job look-ups.
func apiBase(raw string) string {
	if ref, err := gitlab.ParseArtifactURL(raw); err == nil {
		return ref.API
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host}
	if i := strings.Index(u.Path, "/projects/"); i >= 0 {
		base.Path = u.Path[:i]
	}
	return base.String()
}

// statusFunc reads the job's status for --wait: through the pipeline's job
// listing (which job tokens may read on current GitLab) when the pipeline is
// known, else GET /projects/:id/jobs/:id (private tokens).
func statusFunc(c *gitlab.Client, t downloadTarget) func(context.Context) (string, error) {
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

// notFoundOutcome gives "not there" its exit status: 3, or 0 with a warning
// under --optional. Other errors pass unchanged.
func notFoundOutcome(o DownloadOptions, t downloadTarget, err error, log *logrus.Entry) error {
	var nf *artifacts.NotFoundError
	if !errors.As(err, &nf) {
		return err
	}
	if o.Path != "" && nf.Err != nil {
		nf.Reason += fmt.Sprintf(", or they hold no file %s", o.Path)
	}
	if !o.Optional {
		return &notFoundError{err: err}
	}
	log.Warnf("%v; continuing without them (--optional)", err)
	if o.JSON {
		return writeJSON(o.Stdout, downloadJSON{Found: false, Job: t.name, JobID: t.jobID, URL: redactURL(t.url)})
	}
	return nil
}

// downloadJSON is --json's output.
type downloadJSON struct {
	Found    bool    `json:"found"`
	Job      string  `json:"job,omitempty"`
	JobID    int64   `json:"job_id,omitempty"`
	URL      string  `json:"url"`
	Bytes    int64   `json:"bytes"`
	SHA256   string  `json:"sha256,omitempty"`
	Files    int     `json:"files"` // extracted; 0 with -o
	Seconds  float64 `json:"seconds"`
	Attempts int     `json:"attempts"`
	Resumed  int     `json:"resumed"`
	Path     string  `json:"path,omitempty"`
	Dest     string  `json:"dest,omitempty"`
}

func reportDownload(o DownloadOptions, t downloadTarget, res *artifacts.Result) error {
	if !o.Quiet {
		logrus.Info(summary(t, res))
	}
	if !o.JSON {
		return nil
	}
	j := downloadJSON{Found: true, Job: t.name, JobID: t.jobID, URL: res.URL, Bytes: res.Bytes, SHA256: res.SHA256,
		Seconds: res.Elapsed.Seconds(), Attempts: res.Attempts, Resumed: res.Resumed, Path: res.Path, Dest: res.Dest}
	if res.Extract != nil {
		j.Files = res.Extract.Files
	}
	return writeJSON(o.Stdout, j)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// summary is the one line a log keeps, e.g. `job "build" (12): 1.2 MiB in
// 0.4s (3.0 MiB/s), sha256 …, 34 files extracted into public/`.
func summary(t downloadTarget, r *artifacts.Result) string {
	secs := max(r.Elapsed.Seconds(), 0.001)
	s := fmt.Sprintf("%s: %s in %s (%s/s), sha256 %s", t.label, artifacts.FormatBytes(r.Bytes),
		r.Elapsed.Round(time.Millisecond), artifacts.FormatBytes(int64(float64(r.Bytes)/secs)), r.SHA256)
	switch {
	case r.Extract != nil:
		s += fmt.Sprintf(", %s extracted into %s", plural(r.Extract.Files, "file"), r.Dest)
	case r.Path != "":
		s += ", saved as " + r.Path
	default:
		s += ", written to stdout"
	}
	if r.Attempts > 1 {
		s += fmt.Sprintf(" (%s, %d resumed)", plural(r.Attempts, "request"), r.Resumed)
	}
	if r.Streams > 1 {
		s += fmt.Sprintf(" [%d streams]", r.Streams)
	}
	return s
}

// parseSize reads a byte count: 1048576, 512KiB, 16MiB, 1GiB (K, M, G and
// the SI spellings KB, MB, GB mean the same binary units here).
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
		"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 16MiB", v)
	}
	return int64(f * mult), nil
}

// waitValue is --wait[=DURATION]. It claims to be a boolean flag, which Go's
// flag package lets stand alone (Set("true")) or take "=value": urfave/cli
// v2 has no flags with optional values.
type waitValue struct{ d time.Duration }

func (w *waitValue) IsBoolFlag() bool { return true }

func (w *waitValue) Set(s string) error {
	switch s {
	case "true":
		w.d = defaultWait
	case "false":
		w.d = 0
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 10m or 1h30m", s)
		}
		w.d = d
	}
	return nil
}

func (w *waitValue) String() string {
	if w == nil || w.d == 0 {
		return ""
	}
	return w.d.String()
}

// waitFlag shows --wait's optional value in the help.
type waitFlag struct{ ucli.GenericFlag }

func (f *waitFlag) String() string { return "--wait[=DURATION]\t" + f.Usage }
