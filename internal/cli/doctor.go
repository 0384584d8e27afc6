package cli

import ucli "github.com/urfave/cli/v2"

func doctorCommand(s streams) *ucli.Command {
	return &ucli.Command{Name: "doctor", Usage: "check a runner host's setup (not yet built)", Hidden: true}
}
