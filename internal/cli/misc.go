package cli

import (
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
)

func varNameCommand(s streams) *ucli.Command {
	return &ucli.Command{
		Name:      "var-name",
		Usage:     "print the variable suffix each job name maps to (ARTIFACT_URL_<suffix>)",
		ArgsUsage: "NAME...",
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return usagef("var-name wants at least one job name")
			}
			return hooks.WriteVarNames(s.stdout, c.Args().Slice())
		},
	}
}

func versionCommand(s streams) *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print version, commit and Go version",
		Action: func(*ucli.Context) error {
			_, err := fmt.Fprintf(s.stdout, "pipeline-artifacts %s %s %s/%s\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
