package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// EnvOptions configure the job-side hook.
type EnvOptions struct {
	Format           string
	PrivateTokenFile string
	Timeout          time.Duration
	Server           string // a pipeline-artifacts serve to ask first (--server)
	Environ          []string
	Stdout, Stderr   io.Writer
}

func envCommand(s streams) *ucli.Command {
	return &ucli.Command{
		Name:  "env",
		Usage: "job-side hook for any executor: print the siblings' variables as shell exports",
		Description: `Resolves the job's siblings with its own CI_* variables and CI_JOB_TOKEN and prints
ARTIFACT_URL_<N>, ARTIFACT_JOB_ID_<N>, ARTIFACT_URLS_<G> and PIPELINE_ARTIFACTS_MANIFEST.

   In config.toml (docker, kubernetes, shell executors):
     pre_build_script = 'eval "$(pipeline-artifacts env)"'
   PowerShell:
     pre_build_script = 'pipeline-artifacts env --format powershell | Out-String | Invoke-Expression'

   Where GitLab refuses the job token for listing pipeline jobs (older versions), set a masked
   CI/CD variable PIPELINE_ARTIFACTS_PRIVATE_TOKEN holding a read_api token, or use the custom executor.
   A GitLab that does not answer never breaks the job: a warning goes to stderr, nothing to eval.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "format", Value: hooks.DefaultFormat, Usage: "output format: " + strings.Join(hooks.Formats(), ", ")},
			&ucli.StringFlag{Name: "private-token-file", Usage: "`FILE` with a read_api token (else $" + envPrivateToken + ")"},
			&ucli.DurationFlag{Name: "timeout", Value: 30 * time.Second, EnvVars: []string{envResolveTimeout}, Usage: "longest time resolution may delay the job"},
			serverFlag,
		},
		Action: func(c *ucli.Context) error {
			return runEnv(c.Context, EnvOptions{
				Format: c.String("format"), PrivateTokenFile: c.String("private-token-file"), Timeout: c.Duration("timeout"),
				Server: c.String("server"), Environ: s.environ(), Stdout: s.stdout, Stderr: s.stderr,
			})
		},
	}
}

func runEnv(ctx context.Context, o EnvOptions) error {
	if !validFormat(o.Format) {
		return usagef("unknown --format %q (valid: %s)", o.Format, strings.Join(hooks.Formats(), ", "))
	}
	log := logrus.WithField("command", "env")
	if vars, ok := envFromServer(ctx, o, log); ok {
		return hooks.Render(o.Stdout, o.Format, vars)
	}
	vars := map[string]string{}
	res, err := resolveJob(ctx, o, log)
	if err != nil {
		log.Warnf("pipeline-artifacts: %v; no sibling variables", err)
	} else if vars, err = jobManifest(o.Environ, res); err != nil {
		log.Warnf("pipeline-artifacts: %v", err)
	}
	return hooks.Render(o.Stdout, o.Format, vars)
}

func validFormat(f string) bool {
	for _, v := range hooks.Formats() {
		if v == f {
			return true
		}
	}
	return false
}

// resolveJob resolves siblings from inside a job: its CI_* variables, its
// job token, then a private token the project provides.
func resolveJob(ctx context.Context, o EnvOptions, log *logrus.Entry) (*hooks.Resolution, error) {
	get := func(k string) string { return envValue(o.Environ, k) }
	t := hooks.Target{APIURL: get("CI_API_V4_URL"), ProjectID: get("CI_PROJECT_ID")}
	t.PipelineID, _ = strconv.ParseInt(get("CI_PIPELINE_ID"), 10, 64)
	t.JobID, _ = strconv.ParseInt(get("CI_JOB_ID"), 10, 64)
	setRelated(&t, get)
	if t.APIURL == "" || t.PipelineID == 0 {
		return nil, fmt.Errorf("not inside a GitLab CI job (CI_API_V4_URL / CI_PIPELINE_ID unset)")
	}
	sources, err := jobSources(o, t, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	res := hooks.Resolve(ctx, t, nil, sources, nil)
	report(res, start, log, "Give the project a masked CI/CD variable "+envPrivateToken+" holding a read_api token, or run the job on the pipeline-artifacts custom executor")
	return res, nil
}

func jobSources(o EnvOptions, t hooks.Target, log *logrus.Entry) ([]hooks.Source, error) {
	ca, err := caPEM(envValue(o.Environ, "CI_SERVER_TLS_CA_FILE"))
	if err != nil {
		return nil, err
	}
	creds := []hooks.Source{}
	add := func(name string, cred gitlab.Credential) error {
		if cred.Token == "" {
			return nil
		}
		c, err := newClient(t.APIURL, cred, ca, log)
		if err == nil {
			src := hooks.Source{Name: name, Lister: c, SameProjectOnly: cred.Kind == gitlab.PrivateToken}
			if cred.Kind == gitlab.JobToken {
				src.Self = c // GET /job confirms the pipeline id (see hooks.Resolve)
			}
			creds = append(creds, src)
		}
		return err
	}
	if err := add("job token", gitlab.Credential{Kind: gitlab.JobToken, Token: envValue(o.Environ, "CI_JOB_TOKEN")}); err != nil {
		return nil, err
	}
	tok, err := privateToken(o.PrivateTokenFile, o.Environ)
	if err != nil {
		return nil, err
	}
	return creds, add("private token", gitlab.Credential{Kind: gitlab.PrivateToken, Token: tok})
}

// privateToken reads --private-token-file, else PIPELINE_ARTIFACTS_PRIVATE_TOKEN.
func privateToken(file string, environ []string) (string, error) {
	if file != "" {
		return readTokenFile(file)
	}
	return strings.TrimSpace(envValue(environ, envPrivateToken)), nil
}

// jobManifest writes the manifest where the job can read it: a new private
// directory (0700, unguessable name) under the job's temporary directory, so
// that another user of a shared host cannot plant or swap it.
func jobManifest(environ []string, res *hooks.Resolution) (map[string]string, error) {
	dir, err := os.MkdirTemp(envValue(environ, "TMPDIR"), fmt.Sprintf("pipeline-artifacts-%d-", res.JobID))
	if err != nil {
		return hooks.Variables(res.Siblings, ""), fmt.Errorf("manifest: %w", err)
	}
	path := filepath.Join(dir, "manifest.json")
	if err := hooks.WriteManifest(path, res.Manifest()); err != nil {
		return hooks.Variables(res.Siblings, ""), fmt.Errorf("manifest: %w", err)
	}
	return hooks.Variables(res.Siblings, path), nil
}
