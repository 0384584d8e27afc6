package figures

import (
	"context"
	"os"
	"os/exec"
)

// BuildBinary returns the command that builds pipeline-artifacts into out
// exactly as README.md tells admins to install it, so that what is
// measured is what runs on their runner hosts. Run it from the repo root.
func BuildBinary(ctx context.Context, out string) *exec.Cmd {
	return BuildPackage(ctx, out, "./cmd/pipeline-artifacts")
}

// BuildPackage builds the main package pkg of this module the same way as
// BuildBinary builds ours, so that programs compared with it are built
// like for like. Run it from the repo root.
func BuildPackage(ctx context.Context, out, pkg string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags=-s",
		"-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd
}
