package cli

// Placeholder: the download command is being written (issue 3); this file is
// replaced whole by it.

import ucli "github.com/urfave/cli/v2"

func downloadCommand(s streams) *ucli.Command {
	return &ucli.Command{Name: "download", Usage: "download a sibling's artifacts (not yet built)", Hidden: true}
}
