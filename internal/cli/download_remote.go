package cli

import ucli "github.com/urfave/cli/v2"

// Selecting artifacts outside this job's manifest: another pipeline (by id
// or by commit) and another project, as far as the token may read them.
func remoteFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "pipeline", Usage: "look JOB_NAME up in pipeline `ID` (e.g. a parent's or an earlier one) instead of this job's siblings"},
		&ucli.StringFlag{Name: "sha", Usage: "look JOB_NAME up in the newest pipeline for `COMMIT`"},
		&ucli.StringFlag{Name: "project", Usage: "another project's `ID` or path, for --job-id, --pipeline and --sha (the job-token allowlist decides); with a private token, the project of a runner-route --url"},
		serverFlag,
	}
}
