package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
)

// runInner runs an inner custom-executor driver with the stage's own
// environment and streams (stdout into out when given), supervised by
// executor.RunCommand.
func runInner(ctx context.Context, o StageOptions, argv []string, out io.Writer) error {
	sigs, stop := stageSignals()
	defer stop()
	if out == nil {
		out = unmasked(o.Stdout)
	}
	return executor.RunCommand(ctx, executor.CommandOptions{
		Args: argv, Env: o.Environ, Stdout: out, Stderr: unmasked(o.Stderr),
		Signals: sigs, GracePeriod: o.KillGrace,
	})
}

// stageSignals delivers the signals a stage forwards to what it runs: the
// runner's SIGTERM on cancel, SIGINT at a terminal.
func stageSignals() (<-chan os.Signal, func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	return sigs, func() { signal.Stop(sigs) }
}

// passThrough keeps an inner driver's exit status: the runner reads it with
// the same BUILD_FAILURE/SYSTEM_FAILURE meaning it has for us.
func passThrough(se *executor.StageEnv, err error) error {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() > 0:
		return &stageExit{code: ee.ExitCode(), err: errPrinted}
	}
	return systemFailure(se, err)
}

// wrapConfig runs the inner config and merges its JSON with ours.
func wrapConfig(ctx context.Context, o StageOptions, ours executor.ConfigOutput) (map[string]any, error) {
	var out bytes.Buffer
	if err := runInner(ctx, o, o.Wrap, &out); err != nil {
		return nil, fmt.Errorf("inner config: %w", err)
	}
	return executor.MergeConfig(out.Bytes(), ours)
}

// runWrapped hands the inner run a copy of the script with our variables
// written into it.
func runWrapped(ctx context.Context, o StageOptions, se *executor.StageEnv) error {
	script, with, err := executor.InnerRunArgs(o.Wrap)
	if err != nil {
		return systemFailure(se, err)
	}
	vars := ourVariables(o.Environ)
	manifest, _ := os.ReadFile(vars[hooks.ManifestVar])
	injected := filepath.Join(filepath.Dir(script), "with-siblings-"+filepath.Base(script))
	if err := executor.InjectVariables(script, injected, vars, hooks.ManifestVar, manifestOrNil(manifest)); err != nil {
		return systemFailure(se, err)
	}
	defer os.Remove(injected)
	return passThrough(se, runInner(ctx, o, with(injected), nil))
}

func manifestOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// ourVariables picks the config stage's job_env out of the stage environment.
func ourVariables(environ []string) map[string]string {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if hooks.IsOurVariable(k) {
			vars[k] = v
		}
	}
	return vars
}
