//go:build unix

package main_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// runnerScript is the job script the way gitlab-runner's bash shell writes a
// user-script stage: the exports, pre_build_script, then script, all handed to
// one eval (shells/bash.go, Finish; ../shared/reference/runner-19.md §2).
//
//	19.x default:                (trap 'exit 1' TERM; eval '<script>') < /dev/null
//	FF_USE_LEGACY_BASH_EVAL, 17.9: : | eval '<script>'
func runnerScript(wrapper, body string) string {
	quoted := "'" + strings.ReplaceAll(body, "'", `'\''`) + "'"
	inner := ": | eval " + quoted
	if wrapper == "19.x" {
		inner = "(trap 'exit 1' TERM; eval " + quoted + ") < /dev/null"
	}
	return "#!/usr/bin/env bash\ntrap exit 1 TERM\n" + inner + "\nexit 0\n"
}

const wrappedBody = `export PA_BINARY=` + "%BIN%" + `
eval "$("$PA_BINARY" env)"
echo "script: build=${ARTIFACT_URL_BUILD:-}"
echo "script: manifest=${PIPELINE_ARTIFACTS_MANIFEST:-}"
`

// TestEnvHookUnderEachRunnerBashWrapper runs the hook and the script through
// real bash under both wrappers: the exports reach script.
func TestEnvHookUnderEachRunnerBashWrapper(t *testing.T) {
	p := newPipeline(t)
	for _, wrapper := range []string{"19.x", "legacy"} {
		t.Run("the "+wrapper+" eval wrapper carries the hook's exports into script", func(t *testing.T) {
			cmd := exec.Command("bash", "-c", runnerScript(wrapper, strings.ReplaceAll(wrappedBody, "%BIN%", binary)))
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "TMPDIR=" + t.TempDir()}
			for k, v := range p.DeployJob("").Variables {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "script: build="+p.GL.APIURL()+"/jobs/") || strings.Contains(string(out), "manifest=\n") {
				t.Errorf("script did not get the variables:\n%s", out)
			}
		})
	}
}

// TestEnvHookNeverReadsStandardInput gives the hook a stdin with data in it:
// the script after the hook still reads every byte.
func TestEnvHookNeverReadsStandardInput(t *testing.T) {
	p := newPipeline(t)
	cmd := exec.Command("bash", "-c", `eval "$("$PA_BINARY" env)"; read -r line; echo "stdin=$line build=${ARTIFACT_URL_BUILD:+set}"`)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "TMPDIR=" + t.TempDir(), "PA_BINARY=" + binary}
	for k, v := range p.DeployJob("").Variables {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader("SENTINEL\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "stdin=SENTINEL build=set") {
		t.Errorf("the hook consumed standard input, or resolved nothing:\n%s", out)
	}
}

// TestSIGTERMDuringTheHookEndsTheJobWithExit1 stalls the hook on a GitLab
// that accepts and never answers, then sends SIGTERM to the job's process
// group as the runner's kill loop does: under the 19.x wrapper the job exits
// 1 and its script never runs.
func TestSIGTERMDuringTheHookEndsTheJobWithExit1(t *testing.T) {
	p := newPipeline(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	body := strings.ReplaceAll(wrappedBody, "%BIN%", binary) + "echo SCRIPT-RAN\n"
	cmd := exec.Command("bash", "-c", runnerScript("19.x", body))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "TMPDIR=" + t.TempDir()}
	for k, v := range p.DeployJob("").Variables {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "CI_API_V4_URL=http://"+ln.Addr().String()+"/api/v4")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	conn := <-accepted // the hook is now waiting on GitLab
	defer conn.Close()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("job ended with %v, want exit 1\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "SCRIPT-RAN") || strings.Contains(out.String(), "script: ") {
		t.Errorf("the script ran after SIGTERM:\n%s", out.String())
	}
}

// TestEnvHookInOneScriptLegacyStep runs pre_build_script, the script lines
// and post_build_script the way FF_SCRIPT_TO_STEP_MIGRATION hands them to
// step-runner: one builtin://script_legacy step whose commands run "in the
// same shell session, preserving environment and state"
// (common/build_step_dispatch.go and functions/script_legacy/script_legacy.go
// @v19.3.0, ../shared/reference/runner-19.md §3).
func TestEnvHookInOneScriptLegacyStep(t *testing.T) {
	p := newPipeline(t)
	commands := []string{
		`eval "$("$PA_BINARY" env)"`,                   // pre_build_script
		`echo "script: build=${ARTIFACT_URL_BUILD:-}"`, // script
		`echo "post: build=${ARTIFACT_URL_BUILD:-}"`,   // post_build_script
	}
	cmd := exec.Command("bash", "-e", "-c", strings.Join(commands, "\n"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "TMPDIR=" + t.TempDir(), "PA_BINARY=" + binary}
	for k, v := range p.DeployJob("").Variables {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"script: build=" + p.GL.APIURL() + "/jobs/", "post: build=" + p.GL.APIURL() + "/jobs/"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the step's output lacks %q:\n%s", want, out)
		}
	}
}
