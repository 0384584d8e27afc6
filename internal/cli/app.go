// Package cli is the command line of pipeline-artifacts: urfave/cli flags and
// environment fallbacks into Options structs, logging set-up, and the one
// table that turns errors into exit codes. Nothing below it exits or
// configures logrus.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/joblog"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// Set by the linker: -ldflags "-X .../internal/cli.version=v1.2.3 -X .../internal/cli.commit=abc".
var (
	version = "dev"
	commit  = ""
)

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	gitlab.Version = version
	if len(args) == 2 && args[1] == "--version" {
		args = []string{args[0], "version"} // the same line as the version command
	}
	stdout, out := masking(stdout)
	stderr, _ = masking(stderr)
	ran, err := runStageDirectly(ctx, args, stdout, stderr)
	if !ran {
		app := newApp(stdout, stderr)
		binaryStdout(app.Commands, out)
		err = app.RunContext(ctx, args)
	}
	if err != nil && !errors.Is(err, errPrinted) {
		// A server's error body may quote a token back: mask the line here,
		// not only in the stream, so that it never depends on one place.
		// It may quote a server's text too: one line, no control character.
		fmt.Fprintf(stderr, "pipeline-artifacts: %s\n", joblog.OneLine(secret.Mask(err.Error())))
	}
	return exitCode(err)
}

func newApp(stdout, stderr io.Writer) *ucli.App {
	s := streams{stdout: stdout, stderr: stderr, environ: os.Environ}
	return &ucli.App{
		Name:            "pipeline-artifacts",
		Usage:           "give every GitLab CI job its sibling jobs' artifact URLs, and fetch them reliably",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideVersion:     true,
		ExitErrHandler:  func(*ucli.Context, error) {}, // exit codes are mapped in exitCode, once
		CommandNotFound: func(c *ucli.Context, name string) { fmt.Fprintf(stderr, "unknown command %q\n", name) },
		Flags:           []ucli.Flag{debugFlag},
		Before:          func(c *ucli.Context) error { setupLogging(stderr, c.Bool("debug")); return nil },
		Commands: []*ucli.Command{
			configCommand(s), prepareCommand(s), runCommand(s), cleanupCommand(s),
			envCommand(s), downloadCommand(s), listCommand(s), varNameCommand(s), doctorCommand(s), versionCommand(s),
			serveCommand(s),
		},
	}
}

var debugFlag = &ucli.BoolFlag{Name: "debug", Usage: "log details (tokens stay masked)", EnvVars: []string{"PIPELINE_ARTIFACTS_DEBUG"}}

func versionString() string {
	v := version
	if commit != "" {
		v += " (" + commit + ")"
	} else if bi, ok := debug.ReadBuildInfo(); ok {
		// Built without ldflags (go install, go build): the module version
		// and the VCS stamp Go records are the next best thing.
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "+modified"
			}
		}
		if rev != "" {
			v += " (" + rev + dirty + ")"
		}
	}
	return v
}

// setupLogging sends logs to stderr without timestamps: in a job log the
// runner adds its own.
func setupLogging(stderr io.Writer, debug bool) {
	logrus.SetOutput(stderr)
	logrus.SetFormatter(&jobLogFormatter{})
	logrus.SetLevel(logrus.InfoLevel)
	if debug {
		logrus.SetLevel(logrus.DebugLevel)
	}
}
