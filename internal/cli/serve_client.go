package cli

import (
	"context"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/serve"
)

const envServer = "PIPELINE_ARTIFACTS_SERVER"

// serverFlag is --server on env, download and the stage subcommands.
var serverFlag = &ucli.StringFlag{Name: "server", EnvVars: []string{envServer},
	Usage: "`URL` of a pipeline-artifacts serve to resolve through; falls back to listing GitLab when it does not answer"}

// envFromServer asks the service for the job's resolution and writes the
// manifest as env does; ok is false when there is no --server or it did not
// answer, and the caller resolves itself.
func envFromServer(ctx context.Context, o EnvOptions, log *logrus.Entry) (map[string]string, bool) {
	get := func(k string) string { return envValue(o.Environ, k) }
	res, ok := resolveViaServer(ctx, o.Server, o.Timeout, get, log)
	if !ok {
		return nil, false
	}
	vars, err := jobManifest(o.Environ, res)
	if err != nil {
		log.Warnf("pipeline-artifacts: %v", err)
	}
	return vars, true
}

// resolveViaServer resolves through --server; ok is false when there is
// none or it did not answer in time.
func resolveViaServer(ctx context.Context, server string, timeout time.Duration, get func(string) string, log *logrus.Entry) (*hooks.Resolution, bool) {
	if server == "" {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	m, err := serve.FetchManifest(ctx, serverClient(server, get("CI_JOB_TOKEN"), get, log))
	if err != nil {
		log.Warnf("pipeline-artifacts: %v; listing GitLab directly", err)
		return nil, false
	}
	res := serve.Resolution(m, get("CI_API_V4_URL"))
	report(res, start, log, "")
	return res, true
}

// serverClient is a serve.Client for a job: its token, and the parent
// pipeline its variables name.
func serverClient(server, jobToken string, get func(string) string, log *logrus.Entry) serve.Client {
	maskSecret(jobToken)
	c := serve.Client{Server: server, JobToken: jobToken, Logger: log}
	for _, k := range []string{"CI_UPSTREAM_PIPELINE_ID", "PIPELINE_ARTIFACTS_PARENT_PIPELINE_ID"} {
		if id, err := strconv.ParseInt(get(k), 10, 64); err == nil && id > 0 {
			c.ParentPipelineID = id
			break
		}
	}
	if ca, err := caPEM(get("CI_SERVER_TLS_CA_FILE")); err == nil {
		c.CAPEM = ca
	}
	return c
}
