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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := cli.Main(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
