// Command pipeline-artifacts gives every GitLab CI job its sibling jobs'
// artifact URLs: as a custom-executor driver, a pre_build_script hook, and a
// retrying downloader. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/cli"
)

func main() {
	// The notification is never stopped: stopping it would restore the
	// default action, and a SIGTERM landing between that and os.Exit would
	// kill a stage that had finished, so the runner would see a signal
	// instead of the stage's status.
	ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	os.Exit(cli.Main(ctx, os.Args, os.Stdout, os.Stderr))
}
