package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Settings are the runner-host settings every stage subcommand takes
// (README.md, "Settings"). Environment fallbacks are read from
// the runner process's environment, never from job variables.
type Settings struct {
	APITokenFile   string
	Strict         bool
	CacheDir       string
	CacheTTL       time.Duration
	ResolveTimeout time.Duration
	KillGrace      time.Duration
	Wrap           []string // inner driver and its arguments, for --wrap
	Server         string   // a pipeline-artifacts serve to resolve through (--server)
}

// Environment variables that configure us; they never reach a job.
const (
	envAPITokenFile   = "PIPELINE_ARTIFACTS_API_TOKEN_FILE"
	envStrict         = "PIPELINE_ARTIFACTS_STRICT"
	envCacheDir       = "PIPELINE_ARTIFACTS_CACHE_DIR"
	envCacheTTL       = "PIPELINE_ARTIFACTS_CACHE_TTL"
	envResolveTimeout = "PIPELINE_ARTIFACTS_RESOLVE_TIMEOUT"
	envKillGrace      = "PIPELINE_ARTIFACTS_KILL_GRACE"
	envPrivateToken   = "PIPELINE_ARTIFACTS_PRIVATE_TOKEN"
)

func settingsFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "api-token-file", EnvVars: []string{envAPITokenFile}, Usage: "`FILE` holding a read_api token, used only where the job token may not list pipeline jobs; never reaches the job"},
		&ucli.BoolFlag{Name: "strict", EnvVars: []string{envStrict}, Usage: "fail the job as a system failure (the runner retries) when siblings cannot be resolved"},
		&ucli.StringFlag{Name: "cache-dir", EnvVars: []string{envCacheDir}, Usage: "`DIR` for pipeline job lists shared by concurrent jobs (default: the user's cache directory)"},
		&ucli.DurationFlag{Name: "cache-ttl", EnvVars: []string{envCacheTTL}, Value: 10 * time.Second, Usage: "how long a cached job list is trusted"},
		&ucli.DurationFlag{Name: "resolve-timeout", EnvVars: []string{envResolveTimeout}, Value: 30 * time.Second, Usage: "longest time resolution may delay a job's start"},
		&ucli.DurationFlag{Name: "kill-grace", EnvVars: []string{envKillGrace}, Value: 5 * time.Minute, Usage: "after a cancel's SIGTERM, SIGKILL what is left of the job's script after `DURATION`; keep it below the runner's graceful_kill_timeout (10m by default)"},
		serverFlag,
		&ucli.StringFlag{Name: "wrap", Usage: "delegate the stage to an existing custom-executor driver `EXEC` (its arguments after --)"},
	}
}

func settingsFrom(c *ucli.Context) Settings {
	s := Settings{
		APITokenFile:   c.String("api-token-file"),
		Strict:         c.Bool("strict"),
		CacheDir:       c.String("cache-dir"),
		CacheTTL:       c.Duration("cache-ttl"),
		ResolveTimeout: c.Duration("resolve-timeout"),
		KillGrace:      c.Duration("kill-grace"),
		Server:         c.String("server"),
	}
	if w := c.String("wrap"); w != "" {
		s.Wrap = append([]string{w}, c.Args().Slice()...)
	}
	return s
}

// readTokenFile reads a token from a file and says, without the token, what
// is wrong with it.
func readTokenFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	tok := strings.TrimSpace(string(b))
	maskSecret(tok)
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("token file %s must hold exactly one token", path)
	}
	return tok, nil
}

// caPEM returns CA certificates from CI_SERVER_TLS_CA_FILE, which reaches a
// driver as the file's content (docs/gitlab.md, "Environment of a stage")
// and a job as a path.
func caPEM(v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("CI_SERVER_TLS_CA_FILE: %w", err)
	}
	return b, nil
}

// clientLogger adapts logrus to gitlab.Logger without the package knowing
// logrus.
type clientLogger interface {
	Debugf(format string, args ...any)
	Warnf(format string, args ...any)
}

func newClient(apiURL string, cred gitlab.Credential, ca []byte, log clientLogger) (*gitlab.Client, error) {
	maskSecret(cred.Token)
	if apiURL == "" {
		return nil, errors.New("no GitLab API URL (CI_API_V4_URL)")
	}
	return gitlab.New(gitlab.Options{BaseURL: apiURL, Credential: cred, CAPEM: ca, Logger: log})
}

// cache returns the host cache of pipeline job lists, or nil when the TTL
// is zero (caching off) or no cache directory can be found.
func (s Settings) cache() *hooks.Cache {
	if s.CacheTTL <= 0 {
		return nil
	}
	dir := s.CacheDir
	if dir == "" {
		d, err := hooks.DefaultCacheDir()
		if err != nil {
			return nil
		}
		dir = d
	}
	return &hooks.Cache{Dir: dir, TTL: s.CacheTTL}
}
