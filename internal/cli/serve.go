package cli

import (
	"context"
	"io"
	"net"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"
	// GitLab's certificate must verify in a FROM-scratch image without
	// /etc/ssl: Mozilla's roots are the fallback when the system has none.

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/serve"
)

// ServeOptions configure the fleet service.
type ServeOptions struct {
	Config serve.Config
	Listen serve.Listen
	// APITokenFile and CAFile are read at start; their content goes into Config.
	APITokenFile, CAFile string
	LogFormat            string
	Stderr               io.Writer
}

const envServePrefix = "PIPELINE_ARTIFACTS_"

func serveCommand(s streams) *ucli.Command {
	env := func(name string) []string { return []string{envServePrefix + name} }
	return &ucli.Command{
		Name:  "serve",
		Usage: "HTTP service for a runner fleet: every job asks with its CI_JOB_TOKEN, each pipeline is listed once per TTL",
		Description: `Routes: GET /v1/env (?format=sh|dotenv|json|powershell), GET /api/v4/projects/:id/pipelines/:pipeline_id/artifacts?job=NAME
   (and .../artifacts/*path?job=NAME), /healthz, /readyz, /metrics.

   Job hook without our binary in the image:
     pre_build_script = 'eval "$(curl -fsS -H "JOB-TOKEN: $CI_JOB_TOKEN" https://pa.example.internal/v1/env)"'`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", EnvVars: env("LISTEN"), Usage: "`ADDR` to listen on (host:port)"},
			&ucli.StringFlag{Name: "gitlab-url", Required: true, EnvVars: env("GITLAB_URL"), Usage: "the GitLab instance, e.g. https://gitlab.example.com"},
			&ucli.StringFlag{Name: "public-url", EnvVars: env("PUBLIC_URL"), Usage: "GitLab's `URL` as jobs reach it, for the URLs in their variables and redirects (default: --gitlab-url)"},
			&ucli.StringFlag{Name: "api-token-file", EnvVars: env("API_TOKEN_FILE"), Usage: "`FILE` with a read_api token, for listings GitLab refuses to job tokens (before 18.0; trigger jobs on 18.x); never leaves the service"},
			&ucli.StringFlag{Name: "ca-file", EnvVars: env("CA_FILE"), Usage: "PEM `FILE` with extra CAs for GitLab's certificate"},
			&ucli.DurationFlag{Name: "cache-ttl", Value: 10 * time.Second, EnvVars: env("CACHE_TTL"), Usage: "how long a pipeline listing is reused for every job that asks"},
			&ucli.DurationFlag{Name: "token-ttl", Value: 10 * time.Second, EnvVars: env("TOKEN_TTL"), Usage: "how long a job token check is reused"},
			&ucli.IntFlag{Name: "max-pipelines", Value: 2000, EnvVars: env("MAX_PIPELINES"), Usage: "pipeline listings kept in memory"},
			&ucli.Float64Flag{Name: "rate-limit", Value: 5, EnvVars: env("RATE_LIMIT"), Usage: "requests per second per job token"},
			&ucli.IntFlag{Name: "rate-burst", Value: 20, EnvVars: env("RATE_BURST"), Usage: "burst per job token"},
			&ucli.BoolFlag{Name: "redirect-artifacts", EnvVars: env("REDIRECT_ARTIFACTS"), Usage: "answer archive requests with a redirect to GitLab instead of streaming them through the service"},
			&ucli.StringFlag{Name: "tls-cert", EnvVars: env("TLS_CERT"), Usage: "`FILE` with the service's certificate (PEM)"},
			&ucli.StringFlag{Name: "tls-key", EnvVars: env("TLS_KEY"), Usage: "`FILE` with the service's private key (PEM)"},
			&ucli.DurationFlag{Name: "shutdown-timeout", Value: 30 * time.Second, EnvVars: env("SHUTDOWN_TIMEOUT"), Usage: "how long requests may finish after SIGTERM"},
			&ucli.StringFlag{Name: "log-format", Value: "json", EnvVars: env("LOG_FORMAT"), Usage: "json or text"},
		},
		Action: func(c *ucli.Context) error {
			return runServe(c.Context, ServeOptions{
				Config: serve.Config{
					GitLabURL: c.String("gitlab-url"), PublicURL: c.String("public-url"), CacheTTL: c.Duration("cache-ttl"), TokenTTL: c.Duration("token-ttl"),
					MaxPipelines: c.Int("max-pipelines"), RatePerToken: c.Float64("rate-limit"), Burst: c.Int("rate-burst"),
					RedirectArtifacts: c.Bool("redirect-artifacts"),
				},
				Listen: serve.Listen{Addr: c.String("listen"), TLSCert: c.String("tls-cert"), TLSKey: c.String("tls-key"),
					ShutdownTimeout: c.Duration("shutdown-timeout")},
				APITokenFile: c.String("api-token-file"), CAFile: c.String("ca-file"),
				LogFormat: c.String("log-format"), Stderr: s.stderr,
			})
		},
	}
}

func runServe(ctx context.Context, o ServeOptions) error {
	log, err := serveLogger(o.LogFormat, o.Stderr)
	if err != nil {
		return err
	}
	if o.Config.APIToken, err = readTokenFile(o.APITokenFile); err != nil {
		return err
	}
	if o.CAFile != "" {
		if o.Config.CAPEM, err = os.ReadFile(o.CAFile); err != nil {
			return usagef("--ca-file: %v", err)
		}
	}
	o.Config.Log = log
	svc, err := serve.New(o.Config)
	if err != nil {
		return usagef("%v", err)
	}
	o.Listen.OnListen = func(a net.Addr) {
		log.WithFields(logrus.Fields{"addr": a.String(), "gitlab": o.Config.GitLabURL}).Info("listening")
	}
	err = svc.Run(ctx, o.Listen)
	log.Info("stopped")
	return err
}

// serveLogger writes structured lines through the masking register: a
// token that reaches a message is printed as [MASKED].
func serveLogger(format string, w io.Writer) (*logrus.Entry, error) {
	l := logrus.New()
	l.SetOutput(secret.Writer{W: w})
	switch format {
	case "json":
		l.SetFormatter(&logrus.JSONFormatter{})
	case "text":
		l.SetFormatter(&logrus.TextFormatter{DisableColors: true, FullTimestamp: true})
	default:
		return nil, usagef("unknown --log-format %q (json, text)", format)
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		l.SetLevel(logrus.DebugLevel)
	}
	return logrus.NewEntry(l).WithField("service", "pipeline-artifacts"), nil
}
