package cli

import (
	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/download"
)

func listCommand(s streams) *ucli.Command {
	flags := append([]ucli.Flag{
		&ucli.StringFlag{Name: "job-id", Usage: "list the artifacts of job `ID` of this project (needs CI_API_V4_URL)"},
		&ucli.StringFlag{Name: "url", Usage: "list the archive at `URL`, an ARTIFACT_URL_* value"},
		&ucli.BoolFlag{Name: "json", DisableDefaultText: true, Usage: "print the entries as one JSON object on stdout"},
		&ucli.StringFlag{Name: "private-token-file", Usage: "`FILE` with a token sent as PRIVATE-TOKEN (else $" + envPrivateToken + ", else CI_JOB_TOKEN)"},
		&ucli.StringFlag{Name: "ca-file", Usage: "trust the CA certificates in `FILE` (PEM) besides the system's (default: $CI_SERVER_TLS_CA_FILE)"},
	}, remoteFlags()...)
	return &ucli.Command{
		Name:      "list",
		Usage:     "list the files of a sibling job's artifacts archive, reading only its central directory",
		UsageText: "pipeline-artifacts list [JOB_NAME] [--job-id ID | --url URL | --pipeline ID | --sha COMMIT] [--project ID] [--json]",
		Description: `Prints one line per entry of the archive: mode, size in bytes, name (quoted when it is not plain
text). Only the archive's tail is read, by HTTP Range requests, with the same credentials and
routes as download. Exit status as for download.`,
		Flags: flags,
		Action: func(c *ucli.Context) error {
			args, err := lateFlags(c, flags, c.Args().Slice())
			if err != nil {
				return err
			}
			o, err := downloadSetup(c, s, args)
			if err != nil {
				return err
			}
			l, err := download.List(c.Context, o)
			if err != nil {
				return exitFor(err)
			}
			if c.Bool("json") {
				return writeJSON(s.stdout, l)
			}
			return l.Write(s.stdout)
		},
	}
}
