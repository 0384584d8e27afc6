package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// stageByName returns the custom-executor stage called name, which the
// runner starts several times a job with nothing but positional arguments,
// or nil. A switch, not a map: a map would be built at every process's
// start, stage or not.
func stageByName(name string) func(streams) *ucli.Command {
	switch name {
	case "config":
		return configCommand
	case "prepare":
		return prepareCommand
	case "run":
		return runCommand
	case "cleanup":
		return cleanupCommand
	}
	return nil
}

// runStageDirectly runs a stage invoked the way the runner invokes it,
// `pipeline-artifacts <stage> [positional…]`, without building the whole
// app: urfave/cli's set-up of every command, flag and help text costs more
// than a trivial script takes to run, and a job pays it at every stage. It
// reports false, having done nothing, for anything else.
func runStageDirectly(ctx context.Context, args []string, stdout, stderr io.Writer) (ran bool, err error) {
	if len(args) < 2 || stageByName(args[1]) == nil {
		return false, nil
	}
	cmd := stageByName(args[1])(streams{stdout: stdout, stderr: stderr, environ: os.Environ})
	return runDirectly(ctx, cmd, args, stdout, stderr)
}

// runDirectly runs cmd, named by args[1], as newApp's app would: the root's
// --debug and cmd's flags applied from the environment by urfave/cli's own
// Apply, logging set up as the app's Before does, then cmd's action. It
// declines (ran false) whenever urfave/cli could do anything but that: a
// flag or "--" on the command line, a help request, or an environment value
// that does not parse, which urfave/cli reports with the usage text.
func runDirectly(ctx context.Context, cmd *ucli.Command, args []string, stdout, stderr io.Writer) (ran bool, err error) {
	if !positionalOnly(args[2:]) {
		return false, nil
	}
	debug := *debugFlag // Apply records what it read in the flag itself
	root, ok := applyFlags([]ucli.Flag{&debug}, nil)
	if !ok {
		return false, nil
	}
	set, ok := applyFlags(cmd.Flags, args[2:])
	if !ok {
		return false, nil
	}
	app := &ucli.App{Name: "pipeline-artifacts", Writer: stdout, ErrWriter: stderr}
	rootCtx := ucli.NewContext(app, root, &ucli.Context{Context: ctx})
	setupLogging(stderr, rootCtx.Bool("debug"))
	c := ucli.NewContext(app, set, rootCtx)
	c.Command = cmd
	return true, cmd.Action(c)
}

// positionalOnly reports arguments urfave/cli would pass to a stage as they
// are: no flag, no "--", and no help subcommand first.
func positionalOnly(args []string) bool {
	if len(args) > 0 && (args[0] == "help" || args[0] == "h") {
		return false
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return false
		}
	}
	return true
}

// applyFlags applies flags to a new flag set, which reads their environment
// variables, and parses args; false if any value does not parse.
func applyFlags(flags []ucli.Flag, args []string) (*flag.FlagSet, bool) {
	set := flag.NewFlagSet("", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range flags {
		if f.Apply(set) != nil {
			return nil, false
		}
	}
	return set, set.Parse(args) == nil
}
