package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
)

// driverName is what the runner prints in "Using Custom executor with driver …".
const driverName = "pipeline-artifacts"

// StageOptions are what every custom-executor stage gets.
type StageOptions struct {
	Settings
	Environ        []string
	Stdout, Stderr io.Writer
}

func stageOptions(c *ucli.Context, s streams) StageOptions {
	return StageOptions{Settings: settingsFrom(c), Environ: s.environ(), Stdout: s.stdout, Stderr: s.stderr}
}

func stageCommand(name, usage, argsUsage string, s streams, run func(context.Context, StageOptions, []string) error) *ucli.Command {
	return &ucli.Command{
		Name: name, Usage: usage, ArgsUsage: argsUsage, Flags: settingsFlags(),
		Action: func(c *ucli.Context) error {
			opts := stageOptions(c, s)
			args := c.Args().Slice()
			if len(opts.Wrap) > 0 {
				args = nil
			}
			return run(c.Context, opts, args)
		},
	}
}

func configCommand(s streams) *ucli.Command {
	return stageCommand("config", "custom-executor config_exec: print the driver JSON with every sibling's variables", "", s,
		func(ctx context.Context, o StageOptions, _ []string) error { return runConfig(ctx, o) })
}

func prepareCommand(s streams) *ucli.Command {
	return stageCommand("prepare", "custom-executor prepare_exec: check what the job needs", "", s,
		func(ctx context.Context, o StageOptions, _ []string) error { return runPrepare(ctx, o) })
}

func runCommand(s streams) *ucli.Command {
	return stageCommand("run", "custom-executor run_exec: run a stage script with the siblings' variables", "<script> <stage>", s,
		func(ctx context.Context, o StageOptions, args []string) error { return runRun(ctx, o, args) })
}

func cleanupCommand(s streams) *ucli.Command {
	return stageCommand("cleanup", "custom-executor cleanup_exec: remove what we created (never fails the job)", "", s,
		func(ctx context.Context, o StageOptions, _ []string) error { return runCleanup(ctx, o) })
}

// loadStage reads the runner's stage environment; a broken one is a system
// failure with the runner's code (or the default 2).
func loadStage(o StageOptions) (*executor.StageEnv, error) {
	se, err := executor.LoadStageEnv(o.Environ)
	if err != nil {
		return se, &stageExit{code: se.SystemFailureExitCode, err: fmt.Errorf("stage environment: %w", err)}
	}
	return se, nil
}

func systemFailure(se *executor.StageEnv, err error) error {
	return &stageExit{code: se.SystemFailureExitCode, err: err}
}

// manifestPath is inside the runner's per-job directory, which the runner
// deletes after cleanup; config may run three times and overwrites it.
func manifestPath(se *executor.StageEnv) string {
	return filepath.Join(se.TmpDir, "pipeline-artifacts", "manifest.json")
}

func runConfig(ctx context.Context, o StageOptions) error {
	se, err := loadStage(o)
	if err != nil {
		return err
	}
	log := logrus.WithField("stage", "config")
	res, err := resolveStage(ctx, se, o.Settings, log)
	if err != nil {
		return systemFailure(se, err)
	}
	if ctx.Err() != nil { // SIGTERM: the runner is cancelling the job
		return systemFailure(se, fmt.Errorf("config interrupted: %w", context.Cause(ctx)))
	}
	vars, err := writeManifest(se, res)
	if err != nil {
		return systemFailure(se, err)
	}
	out := executor.ConfigOutput{Driver: executor.DriverInfo{Name: driverName, Version: version}, JobEnv: vars}
	if len(o.Wrap) == 0 {
		return executor.WriteConfig(o.Stdout, out)
	}
	merged, err := wrapConfig(ctx, o, out)
	if err != nil {
		return systemFailure(se, err)
	}
	return json.NewEncoder(o.Stdout).Encode(merged)
}

func writeManifest(se *executor.StageEnv, res *hooks.Resolution) (map[string]string, error) {
	if se.TmpDir == "" {
		return hooks.Variables(res.Siblings, ""), nil
	}
	path := manifestPath(se)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := hooks.WriteManifest(path, res.Manifest()); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return hooks.Variables(res.Siblings, path), nil
}

func runPrepare(ctx context.Context, o StageOptions) error {
	se, err := loadStage(o)
	if err != nil {
		return err
	}
	if len(o.Wrap) > 0 {
		return passThrough(se, runInner(ctx, o, o.Wrap, nil))
	}
	if _, err := exec.LookPath("bash"); err != nil {
		return systemFailure(se, errors.New("bash is not on PATH: the run stage needs it"))
	}
	if _, err := exec.LookPath("gitlab-runner"); err != nil {
		logrus.Warn("gitlab-runner is not on the PATH jobs see: artifact upload and download stages will be skipped")
	}
	if m := envValue(o.Environ, hooks.ManifestVar); m != "" {
		if _, err := os.Stat(m); err != nil {
			return systemFailure(se, fmt.Errorf("manifest from the config stage is missing: %w", err))
		}
	}
	return nil
}

func runRun(ctx context.Context, o StageOptions, args []string) error {
	se, err := loadStage(o)
	if err != nil {
		return err
	}
	if len(o.Wrap) > 0 {
		return runWrapped(ctx, o, se)
	}
	if len(args) != 2 {
		return systemFailure(se, fmt.Errorf("run wants <script> <stage>, got %d arguments", len(args)))
	}
	sigs, stop := stageSignals()
	defer stop()
	err = executor.RunScript(context.WithoutCancel(ctx), executor.RunOptions{
		Script: args[0], Env: executor.JobEnvironment(o.Environ, nil, isOurSetting),
		Stdout: unmasked(o.Stdout), Stderr: unmasked(o.Stderr), Signals: sigs, GracePeriod: o.KillGrace,
	})
	return scriptOutcome(se, err)
}

// scriptOutcome maps a script's result to the stage's exit status: the
// script's own failure is the job's (its code into BUILD_EXIT_CODE_FILE),
// anything else is ours.
func scriptOutcome(se *executor.StageEnv, err error) error {
	var script *executor.ScriptError
	if err == nil {
		return nil
	}
	if errors.As(err, &script) {
		if werr := executor.WriteBuildExitCode(se.BuildExitCodeFile, script.ExitCode); werr != nil {
			return systemFailure(se, werr)
		}
		return &stageExit{code: se.BuildFailureExitCode, err: errPrinted}
	}
	return systemFailure(se, err)
}

func runCleanup(ctx context.Context, o StageOptions) error {
	se, _ := executor.LoadStageEnv(o.Environ)
	if len(o.Wrap) > 0 {
		if err := runInner(ctx, o, o.Wrap, nil); err != nil {
			logrus.Warnf("inner cleanup: %v", err)
		}
	}
	if se.TmpDir != "" {
		if err := os.RemoveAll(filepath.Dir(manifestPath(se))); err != nil {
			logrus.Warnf("cleanup: %v", err)
		}
	}
	return nil
}

// isOurSetting reports variables of the runner host's that configure us and
// must not reach a job: they could point a script at the admin token.
func isOurSetting(key string) bool {
	return strings.HasPrefix(key, "PIPELINE_ARTIFACTS_") && key != hooks.ManifestVar
}

func envValue(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
