package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// hookScript is a pre_build_script that uses the env hook and then shows what
// the job got. set -e makes a failing `env` or an `eval` of output that is
// not valid shell fail the script, so reaching "evaled" proves neither
// happened.
const hookScript = `set -e
out="$("$PA_BINARY" env)"
eval "$out"
echo evaled
echo "build=${ARTIFACT_URL_BUILD:-}"
echo "tests=${ARTIFACT_URLS_TEST:-}"
echo "manifest=${PIPELINE_ARTIFACTS_MANIFEST:-}"`

// runHook runs hookScript in bash with the deploy job's CI_* variables plus
// extra, the way a docker or shell runner runs a pre_build_script. It fails
// the test if bash does not exit 0.
func runHook(t *testing.T, p runnersim.Seed, tmp string, extra ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "bash", "-c", hookScript)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0", "TMPDIR=" + tmp, "PA_BINARY=" + binary}
	for k, v := range p.DeployJob("").Variables {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, extra...)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the hook broke the job: %v\nstdout: %s\nstderr: %s", err, out, errb.String())
	}
	return string(out), errb.String()
}

var warningLine = regexp.MustCompile(`(?m)^.*WARNING.*$`)

// TestEnvHookOnGitLab17_9 runs the env hook where GitLab (before 18.0)
// refuses the job token on a pipeline's job listing, on every edition. With
// a masked PIPELINE_ARTIFACTS_PRIVATE_TOKEN (a read_api personal token) the
// job gets every sibling; without one, the job still starts: exit 0, output
// that evals, and exactly one warning that says the listing was refused and
// what to do about it.
func TestEnvHookOnGitLab17_9(t *testing.T) {
	const private = "glpat-HOOK-private-read-api-token"
	for _, e := range []gitlabtest.Edition{gitlabtest.CE, gitlabtest.EEFree, gitlabtest.EEPremium} {
		prof := gitlabtest.Profile{Edition: e, Version: gitlabtest.Version17_9}
		t.Run(prof.String(), func(t *testing.T) {
			p := newPipeline(t, gitlabtest.WithProfile(prof))
			p.GL.AddToken(private, projectID)
			t.Run("a private token lists every sibling", func(t *testing.T) {
				out, stderr := runHook(t, p, t.TempDir(), "PIPELINE_ARTIFACTS_PRIVATE_TOKEN="+private)
				for _, want := range []string{"evaled", "build=" + p.GL.APIURL() + "/jobs/", "tests=" + p.GL.APIURL() + "/jobs/", "manifest=/"} {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\nstdout: %s\nstderr: %s", want, out, stderr)
					}
				}
				if w := warningLine.FindAllString(stderr, -1); len(w) > 0 {
					t.Errorf("warnings though every sibling was listed:\n%s", strings.Join(w, "\n"))
				}
				if strings.Contains(out+stderr, private) || strings.Contains(out+stderr, jobToken) {
					t.Error("a token was printed")
				}
			})
			t.Run("without one the job starts with one warning", func(t *testing.T) {
				out, stderr := runHook(t, p, t.TempDir())
				if !strings.Contains(out, "evaled\nbuild=\ntests=\n") {
					t.Errorf("want nothing listed and the output evaluated:\n%s", out)
				}
				w := warningLine.FindAllString(stderr, -1)
				if len(w) != 1 {
					t.Fatalf("want exactly one warning line, got %d:\n%s", len(w), stderr)
				}
				for _, want := range []string{"siblings not listed", "404 Project Not Found", "PIPELINE_ARTIFACTS_PRIVATE_TOKEN", "custom executor"} {
					if !strings.Contains(w[0], want) {
						t.Errorf("the warning does not say %q:\n%s", want, w[0])
					}
				}
				if strings.Contains(out+stderr, jobToken) {
					t.Error("the job token was printed")
				}
			})
		})
	}
}

// TestEnvHookWritesTheManifestIntoAFreshPrivateDirectory: on a shared host
// (the shell executor) another user must not be able to plant or swap the
// manifest, so every run of the hook makes a new directory of mode 0700
// under TMPDIR, and the manifest in it is 0600.
func TestEnvHookWritesTheManifestIntoAFreshPrivateDirectory(t *testing.T) {
	p := newPipeline(t)
	tmp := t.TempDir()
	var dirs []string
	for range 2 {
		out, _ := runHook(t, p, tmp)
		_, path, ok := strings.Cut(out, "manifest=")
		path = strings.TrimSpace(path)
		if !ok || path == "" {
			t.Fatalf("no manifest:\n%s", out)
		}
		dir := filepath.Dir(path)
		if filepath.Dir(dir) != tmp {
			t.Errorf("manifest directory %s is not directly under TMPDIR %s", dir, tmp)
		}
		checkMode(t, dir, os.ModeDir|0o700)
		checkMode(t, path, 0o600)
		dirs = append(dirs, dir)
	}
	if dirs[0] == dirs[1] {
		t.Errorf("two runs wrote into the same directory %s", dirs[0])
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
	}
}
