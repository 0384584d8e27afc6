package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
// environment and streams, forwarding SIGTERM and SIGINT to it as they come.
func runInner(ctx context.Context, o StageOptions, argv []string, stdout *bytes.Buffer) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Environ, nil, unmasked(o.Stdout), unmasked(o.Stderr)
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("inner driver: %w", err)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			return err
		}
	}
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

// wrapConfig runs the inner config and merges its JSON: every key of the
// inner driver's is kept, our variables join its job_env (its own values
// win: it may know better), and driver names both.
func wrapConfig(ctx context.Context, o StageOptions, ours executor.ConfigOutput) (map[string]any, error) {
	var out bytes.Buffer
	if err := runInner(ctx, o, o.Wrap, &out); err != nil {
		return nil, fmt.Errorf("inner config: %w", err)
	}
	merged := map[string]any{}
	if s := bytes.TrimSpace(out.Bytes()); len(s) > 0 {
		if err := json.Unmarshal(s, &merged); err != nil {
			return nil, fmt.Errorf("inner config printed no JSON object: %w", err)
		}
	}
	jobEnv := map[string]any{}
	for k, v := range ours.JobEnv {
		jobEnv[k] = v
	}
	if inner, ok := merged["job_env"].(map[string]any); ok {
		maps.Copy(jobEnv, inner)
	}
	merged["job_env"] = jobEnv
	merged["driver"] = wrappedDriver(merged["driver"])
	return merged, nil
}

func wrappedDriver(inner any) map[string]any {
	d := map[string]any{"name": driverName, "version": version}
	if m, ok := inner.(map[string]any); ok && m["name"] != nil {
		d["name"] = fmt.Sprintf("%v + %s", m["name"], driverName)
		if m["version"] != nil {
			d["version"] = fmt.Sprintf("%v + %s", m["version"], version)
		}
	}
	return d
}

// runWrapped hands the inner run a copy of the script with our variables
// written into it. The runner appended <script> <stage> after the inner
// driver's own arguments.
func runWrapped(ctx context.Context, o StageOptions, se *executor.StageEnv) error {
	argv := o.Wrap
	if len(argv) < 3 {
		return systemFailure(se, errors.New("--wrap run wants the inner driver, its arguments, then <script> <stage>"))
	}
	script := argv[len(argv)-2]
	vars := ourVariables(o.Environ)
	manifest, _ := os.ReadFile(vars[hooks.ManifestVar])
	injected := filepath.Join(filepath.Dir(script), "with-siblings-"+filepath.Base(script))
	if err := executor.InjectVariables(script, injected, vars, hooks.ManifestVar, manifestOrNil(manifest)); err != nil {
		return systemFailure(se, err)
	}
	defer os.Remove(injected)
	inner := append(append([]string(nil), argv[:len(argv)-2]...), injected, argv[len(argv)-1])
	return passThrough(se, runInner(ctx, o, inner, nil))
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
