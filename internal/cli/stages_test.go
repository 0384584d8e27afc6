package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

const stageJobToken = "glcbt-stage-unit-test-token"

// stage is one custom-executor stage's world: the seed pipeline on a fake
// GitLab, the runner's stage environment in a temporary directory, and
// buffers for the stage's streams.
type stage struct {
	seed           runnersim.Seed
	tmp            string
	opts           StageOptions
	stdout, stderr *bytes.Buffer
}

func newStage(t *testing.T, gl ...gitlabtest.Option) *stage {
	t.Helper()
	seed := runnersim.NewSeed(t, stageJobToken, gl...)
	tmp := t.TempDir()
	env, err := runnersim.StageEnv(tmp, seed.DeployJob("true"))
	if err != nil {
		t.Fatal(err)
	}
	env = append(env, "PATH="+os.Getenv("PATH"))
	s := &stage{seed: seed, tmp: tmp, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	s.opts = StageOptions{
		Settings: Settings{ResolveTimeout: 10 * time.Second, KillGrace: time.Minute},
		Environ:  env, Stdout: s.stdout, Stderr: s.stderr,
	}
	return s
}

// withJobEnv adds what config printed as job_env, as the runner does for
// the later stages.
func (s *stage) withJobEnv(t *testing.T, jobEnv map[string]string) {
	t.Helper()
	for k, v := range jobEnv {
		s.opts.Environ = append(s.opts.Environ, k+"="+v)
	}
}

func (s *stage) script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(s.tmp, "script.sh")
	if err := os.WriteFile(p, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func configJSON(t *testing.T, out []byte) executor.ConfigOutput {
	t.Helper()
	var c executor.ConfigOutput
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("config printed no JSON: %v\n%s", err, out)
	}
	return c
}

func TestRunConfigPrintsEverySiblingAndWritesTheManifest(t *testing.T) {
	s := newStage(t)
	if err := runConfig(t.Context(), s.opts); err != nil {
		t.Fatal(err)
	}
	c := configJSON(t, s.stdout.Bytes())
	if c.Driver.Name != driverName {
		t.Errorf("driver %+v", c.Driver)
	}
	for _, k := range []string{"ARTIFACT_URL_BUILD", "ARTIFACT_URL_TEST_1_2", "PIPELINE_ARTIFACTS_MANIFEST"} {
		if c.JobEnv[k] == "" {
			t.Errorf("job_env lacks %s: %v", k, c.JobEnv)
		}
	}
	if _, err := os.Stat(c.JobEnv["PIPELINE_ARTIFACTS_MANIFEST"]); err != nil {
		t.Errorf("manifest: %v", err)
	}
	if strings.Contains(s.stdout.String(), stageJobToken) {
		t.Error("config printed the job token")
	}
}

func TestRunConfigFailures(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, s *stage)
		wantCode int
	}{
		{"an older GitLab without an admin token still gives the declared dependency", func(*testing.T, *stage) {}, 0},
		{"--strict makes an unlisted pipeline a system failure", func(_ *testing.T, s *stage) { s.opts.Strict = true }, 2},
		{"a broken stage environment is a system failure", func(_ *testing.T, s *stage) {
			s.opts.Environ = append(s.opts.Environ, "SYSTEM_FAILURE_EXIT_CODE=nope")
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStage(t, gitlabtest.OlderGitLab())
			tt.setup(t, s)
			err := runConfig(t.Context(), s.opts)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", got, err, tt.wantCode)
			}
			if tt.wantCode == 0 && configJSON(t, s.stdout.Bytes()).JobEnv["ARTIFACT_URL_BUILD"] == "" {
				t.Errorf("no ARTIFACT_URL_BUILD from the payload's dependencies:\n%s", s.stdout.String())
			}
		})
	}
}

func TestRunRun(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		args     func(script string) []string
		wantCode int
		wantFile string // BUILD_EXIT_CODE_FILE's content, "" for none
		wantOut  string
	}{
		{name: "a passing script passes and sees the siblings' variables", body: `echo "url=$ARTIFACT_URL_BUILD setting=${PIPELINE_ARTIFACTS_API_TOKEN_FILE-unset}"`,
			wantOut: "/jobs/1000/artifacts setting=unset"},
		{name: "a failing script is the job's failure with its own code in the file", body: "exit 7", wantCode: 1, wantFile: "7"},
		{name: "a run without <script> <stage> is a system failure", args: func(string) []string { return nil }, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStage(t)
			if err := runConfig(t.Context(), s.opts); err != nil {
				t.Fatal(err)
			}
			s.withJobEnv(t, configJSON(t, s.stdout.Bytes()).JobEnv)
			s.opts.Environ = append(s.opts.Environ, "PIPELINE_ARTIFACTS_API_TOKEN_FILE=/etc/secret")
			s.stdout.Reset()
			script := s.script(t, tt.body+"\n")
			args := []string{script, "build_script"}
			if tt.args != nil {
				args = tt.args(script)
			}
			err := runRun(t.Context(), s.opts, args)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", got, err, tt.wantCode)
			}
			if !strings.Contains(s.stdout.String(), tt.wantOut) {
				t.Errorf("stdout %q lacks %q", s.stdout.String(), tt.wantOut)
			}
			got, _ := os.ReadFile(filepath.Join(s.tmp, "build_exit_code"))
			if strings.TrimSpace(string(got)) != tt.wantFile {
				t.Errorf("BUILD_EXIT_CODE_FILE holds %q, want %q", got, tt.wantFile)
			}
		})
	}
}

// innerDriver writes a custom-executor driver that prints a config of its
// own and runs the script it is given with sh.
func innerDriver(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inner-driver")
	body := `#!/bin/sh
case "$1" in
config) echo '{"builds_dir":"/builds","driver":{"name":"inner","version":"9"},"job_env":{"INNER":"yes"}}' ;;
prepare|cleanup) exit "${INNER_EXIT:-0}" ;;
run) exec sh "$2" ;;
esac
`
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWrappedStages(t *testing.T) {
	s := newStage(t)
	driver := innerDriver(t)
	s.opts.Wrap = []string{driver, "config"}
	if err := runConfig(t.Context(), s.opts); err != nil {
		t.Fatal(err)
	}
	var merged struct {
		BuildsDir string            `json:"builds_dir"`
		Driver    map[string]string `json:"driver"`
		JobEnv    map[string]string `json:"job_env"`
	}
	if err := json.Unmarshal(s.stdout.Bytes(), &merged); err != nil {
		t.Fatalf("%v\n%s", err, s.stdout.String())
	}
	if merged.BuildsDir != "/builds" || merged.Driver["name"] != "inner + "+driverName || merged.JobEnv["INNER"] != "yes" || merged.JobEnv["ARTIFACT_URL_BUILD"] == "" {
		t.Fatalf("merged config %+v", merged)
	}
	s.withJobEnv(t, merged.JobEnv)

	t.Run("run hands the inner driver a script that exports our variables", func(t *testing.T) {
		s.stdout.Reset()
		script := s.script(t, "echo \"inner sees $ARTIFACT_URL_BUILD\"\nexit 5\n")
		o := s.opts
		o.Wrap = []string{driver, "run", script, "build_script"}
		err := runRun(t.Context(), o, nil)
		if got := exitCode(err); got != 5 {
			t.Errorf("exit %d (%v), want the inner driver's 5", got, err)
		}
		if !strings.Contains(s.stdout.String(), "inner sees http") {
			t.Errorf("the wrapped script did not see ARTIFACT_URL_BUILD: %q", s.stdout.String())
		}
		if _, err := os.Stat(filepath.Join(s.tmp, "with-siblings-script.sh")); !os.IsNotExist(err) {
			t.Errorf("the injected copy was left behind: %v", err)
		}
	})
	t.Run("prepare keeps the inner driver's exit status", func(t *testing.T) {
		o := s.opts
		o.Wrap = []string{driver, "prepare"}
		o.Environ = append(o.Environ, "INNER_EXIT=3")
		if got := exitCode(runPrepare(t.Context(), o)); got != 3 {
			t.Errorf("exit %d, want 3", got)
		}
	})
	t.Run("cleanup never fails the job and removes the manifest", func(t *testing.T) {
		o := s.opts
		o.Wrap = []string{driver, "cleanup"}
		o.Environ = append(o.Environ, "INNER_EXIT=4")
		if err := runCleanup(t.Context(), o); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if _, err := os.Stat(merged.JobEnv["PIPELINE_ARTIFACTS_MANIFEST"]); !os.IsNotExist(err) {
			t.Errorf("manifest still there: %v", err)
		}
	})
	t.Run("a wrapped run without <script> <stage> is a system failure", func(t *testing.T) {
		o := s.opts
		o.Wrap = []string{driver}
		if got := exitCode(runRun(t.Context(), o, nil)); got != 2 {
			t.Errorf("exit %d, want 2", got)
		}
	})
}

func TestRunEnv(t *testing.T) {
	seed := runnersim.NewSeed(t, stageJobToken)
	job := seed.DeployJob("true")
	var environ []string
	for k, v := range job.Variables {
		environ = append(environ, k+"="+v)
	}
	environ = append(environ, "TMPDIR="+t.TempDir())
	tests := []struct {
		name     string
		o        EnvOptions
		wantCode int
		want     string
	}{
		{"a job gets shell exports of every sibling", EnvOptions{Format: "sh", Environ: environ}, 0, "export ARTIFACT_URL_TEST_1_2="},
		{"dotenv is one of the formats", EnvOptions{Format: "dotenv", Environ: environ}, 0, "ARTIFACT_URL_BUILD="},
		{"outside a job nothing is printed and nothing fails", EnvOptions{Format: "sh", Environ: []string{"TMPDIR=" + t.TempDir()}}, 0, ""},
		{"an unknown format is a usage error", EnvOptions{Format: "yaml", Environ: environ}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			tt.o.Stdout, tt.o.Stderr, tt.o.Timeout = &stdout, &stderr, 10*time.Second
			err := runEnv(t.Context(), tt.o)
			if got := exitCode(err); got != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", got, err, tt.wantCode)
			}
			if !strings.Contains(stdout.String(), tt.want) || (tt.want == "" && strings.Contains(stdout.String(), "ARTIFACT_URL")) {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.want)
			}
			if strings.Contains(stdout.String(), stageJobToken) {
				t.Error("env printed the job token")
			}
		})
	}
}
