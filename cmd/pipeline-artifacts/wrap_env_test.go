package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

func wrappedDriver(t *testing.T) runnersim.Custom {
	t.Helper()
	inner, _ := filepath.Abs("../../examples/wrap/inner-driver.sh")
	c, err := runnersim.LoadDriver("../../examples/wrap/config.toml", binary, map[string]string{"/opt/inner-driver/inner-driver.sh": inner})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEndToEndWrappedDriverJobSeesTheVariables(t *testing.T) {
	p := newPipeline(t)
	job := p.DeployJob(`echo "url=$ARTIFACT_URL_BUILD"; echo "inner=${INNER_DRIVER:-unset}"; jq -r '.siblings[0].name' "$PIPELINE_ARTIFACTS_MANIFEST" 2>/dev/null || grep -o '"name":"build"' "$PIPELINE_ARTIFACTS_MANIFEST"; echo "leak=${CUSTOM_ENV_CI_JOB_ID:-none}"`)
	res, err := wrappedDriver(t).RunJob(t.Context(), job)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "success" {
		t.Fatalf("status %s; log:\n%s", res.Status, res.Log())
	}
	out := res.Stage("run:build_script").Stdout
	for _, want := range []string{"url=" + p.GL.APIURL() + "/jobs/", "build", "leak=none"} {
		if !strings.Contains(out, want) {
			t.Errorf("job output lacks %q:\n%s", want, out)
		}
	}
	if d, _ := res.Config["driver"].(map[string]any); d["name"] != "inner-vm + pipeline-artifacts" || res.Config["hostname"] != "vm-01" {
		t.Errorf("merged config %v", res.Config)
	}
	if res.JobEnv["INNER_DRIVER"] != "yes" || res.JobEnv["ARTIFACT_URL_BUILD"] == "" {
		t.Errorf("merged job_env %v", res.JobEnv)
	}
	if !strings.Contains(res.Log(), "inner-vm: removing the VM") {
		t.Error("cleanup was not delegated")
	}
}

func TestEndToEndWrappedDriverKeepsExitCodes(t *testing.T) {
	p := newPipeline(t)
	res, err := wrappedDriver(t).RunJob(t.Context(), p.DeployJob("exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "script_failure" || res.ExitCode != 3 {
		t.Fatalf("status %s exit %d, want script_failure 3; log:\n%s", res.Status, res.ExitCode, res.Log())
	}
}

// TestEnvHookForOtherExecutors runs `eval "$(pipeline-artifacts env)"` the
// way a pre_build_script does, with a job's CI_* variables.
func TestEnvHookForOtherExecutors(t *testing.T) {
	p := newPipeline(t)
	vars := p.DeployJob("").Variables
	run := func(t *testing.T, extra ...string) (string, string) {
		cmd := exec.Command("bash", "-c", `eval "$(`+binary+` env)"; echo "url=$ARTIFACT_URL_BUILD"; echo "group=$ARTIFACT_URLS_TEST"; test -s "$PIPELINE_ARTIFACTS_MANIFEST" && echo manifest-ok`)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "TMPDIR=" + t.TempDir()}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, extra...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		return string(out), stderr.String()
	}
	t.Run("current GitLab exports every sibling", func(t *testing.T) {
		out, _ := run(t)
		for _, want := range []string{"url=" + p.GL.APIURL() + "/jobs/", "group=" + p.GL.APIURL(), "manifest-ok"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("an unreachable GitLab warns and breaks nothing", func(t *testing.T) {
		out, stderr := run(t, "CI_API_V4_URL=http://127.0.0.1:1/api/v4", "PIPELINE_ARTIFACTS_RESOLVE_TIMEOUT=1s")
		if !strings.Contains(out, "url=\n") || !strings.Contains(stderr, "WARNING") {
			t.Errorf("stdout %q stderr %q", out, stderr)
		}
	})
}
