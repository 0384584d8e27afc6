package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/download"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// defaultWait is what a bare --wait means: longer than most jobs that
// produce artifacts take, shorter than a job's default timeout (1h).
const defaultWait = 10 * time.Minute

const downloadDescription = `Downloads a sibling job's artifacts and extracts them, or saves the archive (or one file of it).
Retries cover the whole transfer: connection errors, 408/429/5xx (honouring Retry-After), bodies
that break or stall (resumed with Range where the server allows), and expired object-storage URLs.
Large archives come in parallel ranged requests. Nothing partial is ever left at the destination:
bytes land in a temporary file that is renamed or extracted only once complete and verified.

Which artifacts, one of:
  JOB_NAME      a job of this pipeline, through PIPELINE_ARTIFACTS_MANIFEST, ARTIFACT_URL_<N>, or the
                service --server names (PIPELINE_ARTIFACTS_SERVER) where the hook wrote no manifest
  --job-id ID   built from CI_API_V4_URL (and CI_PROJECT_ID for a private token)
  --url URL     an ARTIFACT_URL_* value as is (hosts outside CI); either GitLab URL shape
  JOB_NAME --pipeline ID | --sha COMMIT   that job of another pipeline (--project for another project)

Credentials: PIPELINE_ARTIFACTS_PRIVATE_TOKEN or --private-token-file (sent as PRIVATE-TOKEN),
else CI_JOB_TOKEN (sent as JOB-TOKEN). A job token uses GitLab's runner route
(/jobs/<id>/artifacts), which takes it on every tier; a --url on the project's artifacts API
(/projects/<p>/jobs/<id>/artifacts) is tried as given first, and the runner route only where
GitLab refuses the job token for its tier (EE without Premium: 404 Project Not Found), never
after a 403 (artifacts:access). A private token uses the project's API. --path reads one file:
with a job token by HTTP Range requests on the runner route (the archive's tail and that file
only), with a private token through GitLab's single-file route. Tokens go only to GitLab (the
host of CI_API_V4_URL when it is set), never to the object storage it redirects to, and are
never printed. HTTPS_PROXY / NO_PROXY and CI_SERVER_TLS_CA_FILE (or --ca-file) are honoured.

Exit status: 0 done · 1 failed (retries exhausted, integrity, I/O) · 2 usage or configuration ·
3 the artifacts do not exist or did not appear before the --wait deadline (0 with --optional).

--wait alone waits 10m; give a duration with "=": --wait=30m. While waiting, a job that ended
without artifacts (failed, canceled, skipped, or succeeded without any) stops the wait early where
the token may read job statuses.

The summary (stderr) shows the SHA-256 only when it was verified (--sha256, or GitLab's ETag). A body that ends early is
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
			o, asJSON, err := downloadOptions(c, s, args)
			if err != nil {
				return err
			}
			return runDownload(c.Context, o, asJSON, c.Bool("quiet"))
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
		&ucli.DurationFlag{Name: "stall-timeout", Value: artifacts.DefaultStallTimeout, Usage: "retry a connection that delivers less than 1 KiB in `DURATION`"},
		&ucli.IntFlag{Name: "parallel", Value: artifacts.DefaultParallel, Usage: "`N` concurrent ranged requests for large archives; 1 for a single stream"},
		&ucli.StringFlag{Name: "chunk-size", Value: "16MiB", Usage: "`SIZE` of each ranged request"},
		&ucli.StringFlag{Name: "parallel-min", Value: "64MiB", Usage: "use ranged requests only for archives of at least `SIZE`"},
		&ucli.StringFlag{Name: "max-size", DefaultText: "16GiB", Usage: "refuse archives that extract to more than `SIZE`"},
		&ucli.IntFlag{Name: "max-files", DefaultText: "100000", Usage: "refuse archives with more than `N` entries, counting the directories their paths imply"},
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

// downloadSetup is what every download and list run shares: the
// selection, credentials and CA, read from flags and the environment.
func downloadSetup(c *ucli.Context, s streams, args []string) (download.Options, error) {
	secret.RegisterURL(c.String("url")) // a token inside --url is masked like any other
	env := func(k string) string { return envValue(s.environ(), k) }
	o := download.Options{ArtifactURL: c.String("url"), SHA: c.String("sha"), Project: c.String("project"),
		Server: c.String("server"), JobToken: strings.TrimSpace(env("CI_JOB_TOKEN")), Getenv: env}
	o.Logger = logrus.WithField("command", c.Command.Name)
	var errs []error
	if len(args) > 1 {
		errs = append(errs, extraArgs(args[1:]))
	}
	if len(args) > 0 {
		o.JobName = args[0]
	}
	o.Pipeline, errs = positiveID(c, "pipeline", "a pipeline id", errs)
	o.JobID, errs = positiveID(c, "job-id", "a job id", errs)
	var err error
	if o.PrivateToken, err = privateToken(c.String("private-token-file"), s.environ()); err != nil {
		errs = append(errs, err)
	}
	ca := c.String("ca-file")
	if ca == "" {
		ca = env("CI_SERVER_TLS_CA_FILE")
	}
	if o.CAPEM, err = caPEM(ca); err != nil {
		errs = append(errs, err)
	}
	maskSecret(o.JobToken)
	maskSecret(o.PrivateToken)
	return o, joinUsage(errs)
}

func positiveID(c *ucli.Context, name, what string, errs []error) (int64, []error) {
	v := c.String(name)
	if v == "" {
		return 0, errs
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		errs = append(errs, fmt.Errorf("--%s %q is not %s", name, v, what))
	}
	return id, errs
}

func joinUsage(errs []error) error {
	if err := errors.Join(errs...); err != nil {
		return &usageError{err: err}
	}
	return nil
}

// downloadOptions adds the engine's settings to downloadSetup's.
func downloadOptions(c *ucli.Context, s streams, args []string) (download.Options, bool, error) {
	o, err := downloadSetup(c, s, args)
	errs := []error{err}
	o.Path, o.Dest, o.Output = c.String("path"), c.String("dest"), c.String("output")
	o.Wait, o.Optional, o.SHA256 = c.Generic("wait").(*waitValue).d, c.Bool("optional"), c.String("sha256")
	o.Timeout, o.StallTimeout, o.Fsync = c.Duration("timeout"), c.Duration("stall-timeout"), c.Bool("fsync")
	o.Parallel, o.ParallelDirect, o.Stdout = c.Int("parallel"), c.IsSet("parallel"), s.stdout
	o.Limits.MaxEntries, o.Limits.MaxRatio = c.Int("max-files"), c.Float64("max-ratio")
	if o.Output != "" && c.IsSet("dest") {
		errs = append(errs, errors.New("--dest and -o exclude each other: extract, or save as a file"))
	}
	if c.Bool("json") && o.Output == "-" {
		errs = append(errs, errors.New("--json and -o - both want stdout"))
	}
	for _, sz := range []struct {
		flag string
		into *int64
	}{{"chunk-size", &o.ChunkSize}, {"parallel-min", &o.ParallelMin}, {"max-size", &o.Limits.MaxBytes}} {
		if v := c.String(sz.flag); v != "" {
			n, err := parseSize(v)
			errs = append(errs, prefixed("--"+sz.flag, err))
			*sz.into = n
		}
	}
	if c.IsSet("max-size") && (o.Output != "" || o.Path != "") {
		o.MaxSize = o.Limits.MaxBytes // a saved file is capped like an extraction
	}
	if !c.Bool("quiet") {
		o.Progress, o.Terminal = s.stderr, isTerminal(s.stderr)
	}
	return o, c.Bool("json"), joinUsage(errs)
}

func prefixed(p string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", p, err)
}

func extraArgs(extra []string) error {
	if _, err := time.ParseDuration(extra[0]); err == nil {
		return fmt.Errorf("unexpected argument %q: give --wait its duration with \"=\", as in --wait=%s", extra[0], extra[0])
	}
	return fmt.Errorf("unexpected arguments %q: takes at most one JOB_NAME", extra)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// runDownload is the one call, and its report.
func runDownload(ctx context.Context, o download.Options, asJSON, quiet bool) error {
	if o.Progress != nil && !o.Terminal && inJobLog() {
		// In a job log the progress lines fold away; the summary line
		// that follows stays visible.
		sw := &sectionWriter{w: o.Progress, name: "pipeline_artifacts_download", header: "pipeline-artifacts: downloading " + selection(o)}
		defer sw.Close()
		o.Progress = sw
	}
	out, err := download.Run(ctx, o)
	if err != nil {
		return exitFor(err)
	}
	switch {
	case out.Warning != "":
		logrus.Warn(out.Warning)
	case !quiet:
		logrus.Info(out.Summary())
	}
	if asJSON {
		return writeJSON(o.Stdout, out.JSON())
	}
	return nil
}

// selection names what was asked for, for the job log's section header.
func selection(o download.Options) string {
	switch {
	case o.JobName != "":
		return fmt.Sprintf("job %q", o.JobName)
	case o.JobID != 0:
		return fmt.Sprintf("job %d", o.JobID)
	}
	return "the artifacts at " + redactURL(o.ArtifactURL)
}

func redactURL(raw string) string {
	u, err := url.Parse(secret.RegisterURL(raw))
	if err != nil {
		return "(unparsable URL)"
	}
	return gitlab.Redact(u)
}

// exitFor gives the package's errors their place in the exit-code table.
func exitFor(err error) error {
	var ue *download.UsageError
	switch {
	case errors.As(err, &ue):
		return &usageError{err: err}
	case errors.Is(err, artifacts.ErrNotFound):
		return &notFoundError{err: err}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", inertJSON(b))
	return err
}

// inertJSON escapes the runes encoding/json leaves raw that a terminal or a
// log viewer acts on: C1 controls (U+009B is CSI), bidi overrides and other
// format characters, which an archive's entry names may hold. The result is
// the same JSON: outside its strings JSON is ASCII, and inside them \uXXXX
// (a surrogate pair past U+FFFF) means the rune itself.
func inertJSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r < utf8.RuneSelf || unicode.IsPrint(r) {
			if out != nil {
				out = append(out, b[i:i+n]...)
			}
			i += n
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	if out == nil {
		return b
	}
	return out
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
