package component_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// shell is how a job image's sh runs the job script: dash (debian, ubuntu)
// or busybox (alpine), with the runner's set -e.
type shell struct {
	name string
	argv []string
	// tool returns what to link into the job's PATH for a command name.
	tool func(t testing.TB, name string) string
}

func shells(t testing.TB) []shell {
	hostTool := func(t testing.TB, name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("%s is not installed: %v", name, err)
		}
		return p
	}
	var out []shell
	if dash, err := exec.LookPath("dash"); err == nil {
		out = append(out, shell{"dash", []string{dash, "-e"}, hostTool})
	}
	if bb, err := exec.LookPath("busybox"); err == nil {
		out = append(out, shell{"busybox sh", []string{bb, "sh", "-e"}, func(t testing.TB, name string) string {
			if name == "curl" {
				return hostTool(t, name) // busybox has no curl applet
			}
			return bb
		}})
	}
	if len(out) == 0 {
		t.Skip("neither dash nor busybox is installed (.ci/run installs busybox)")
	}
	return out
}

// baseTools are what every image has and the before_script uses.
var baseTools = []string{"uname", "sha256sum", "mkdir", "rm", "chmod", "mv", "timeout"}

// scripts holds each consumer repository's expanded job, so that a second
// run (or a benchmark loop) does not time gitlab-ci-local.
var scripts sync.Map // dir → [2][]string

func expandedOnce(t testing.TB, dir string) (before, script []string) {
	if v, ok := scripts.Load(dir); ok {
		s := v.([2][]string)
		return s[0], s[1]
	}
	before, script = expanded(t, dir)
	scripts.Store(dir, [2][]string{before, script})
	return before, script
}

// run runs the expanded job (before_script, then script) as the runner would:
// one shell, the job's variables, a PATH holding only the given tools.
func (w *world) run(t testing.TB, sh shell, dir, projectDir string, tools []string, onPath bool) (stdout, stderr string, code int) {
	t.Helper()
	before, script := expandedOnce(t, dir)
	bin := t.TempDir()
	for _, name := range append(append([]string(nil), baseTools...), tools...) {
		if err := os.Symlink(sh.tool(t, name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	if onPath {
		if err := os.Symlink(w.bin, filepath.Join(bin, "pipeline-artifacts")); err != nil {
			t.Fatal(err)
		}
	}
	job := filepath.Join(t.TempDir(), "job.sh")
	if err := os.WriteFile(job, []byte(strings.Join(append(before, script...), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh.argv[0], append(sh.argv[1:], job)...)
	cmd.Dir = projectDir
	cmd.Env = []string{"PATH=" + bin, "HOME=" + t.TempDir()}
	for k, v := range w.jobEnv(projectDir) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(o.String()+e.String(), jobToken) {
		t.Errorf("the job log holds the job token")
	}
	return o.String(), e.String(), code
}

func TestTheComponentGivesAJobItsSiblings(t *testing.T) {
	needTools(t, "gitlab-ci-local", "git", "node")
	w := newWorld(t)
	for _, sh := range shells(t) {
		for _, tc := range []struct {
			name      string
			inputs    map[string]any
			tools     []string
			onPath    bool
			code      int
			stderr    string // a line the job log must hold
			siblings  bool   // ARTIFACT_URL_BUILD is set in script
			downloads int    // binary downloads that reach the registry
		}{
			{name: "with curl it fetches the release through its permalink, verifies it and exports the siblings",
				tools: []string{"curl"}, siblings: true, downloads: 1},
			{name: "with only wget it does the same",
				tools: []string{"wget"}, siblings: true, downloads: 1},
			{name: "with a mirror URL it fetches from the mirror",
				inputs: map[string]any{"binaries_url": w.mirror(version)}, tools: []string{"curl"}, siblings: true, downloads: 1},
			{name: "with the binary on PATH it downloads nothing",
				tools: []string{"curl"}, onPath: true, siblings: true},
			{name: "with neither curl nor wget the job runs on without the variables",
				stderr: "neither curl nor wget is in the job image"},
			{name: "with neither curl nor wget a strict job fails",
				inputs: map[string]any{"strict": true}, code: 1, stderr: "neither curl nor wget is in the job image"},
			{name: "with the registry down the job runs on without the variables",
				inputs: map[string]any{"binaries_url": w.down}, tools: []string{"curl"}, stderr: "could not download " + w.down},
			{name: "with the registry down a strict job fails",
				inputs: map[string]any{"binaries_url": w.down, "strict": true}, tools: []string{"wget"}, code: 1, stderr: "could not download"},
			{name: "with a tampered binary the file is deleted, never run, and the job fails",
				inputs: map[string]any{"binaries_url": w.mirror("tampered")}, tools: []string{"curl"}, code: 1, stderr: "SHA-256 mismatch", downloads: 1},
			{name: "with a tampered binary and wget the job fails the same way",
				inputs: map[string]any{"binaries_url": w.mirror("tampered")}, tools: []string{"wget"}, code: 1, stderr: "SHA-256 mismatch", downloads: 1},
		} {
			t.Run(sh.name+"/"+tc.name, func(t *testing.T) {
				inputs := tc.inputs
				if inputs == nil {
					inputs = map[string]any{}
				}
				dir := w.repo(t, inputs, w.digest)
				project := t.TempDir()
				before := w.downloads()
				stdout, stderr, code := w.run(t, sh, dir, project, tc.tools, tc.onPath)
				if code != tc.code {
					t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
				}
				if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
					t.Errorf("the job log lacks %q:\n%s", tc.stderr, stderr)
				}
				if got := strings.Contains(stdout, "ARTIFACT_URL_BUILD=http"); got != tc.siblings {
					t.Errorf("ARTIFACT_URL_BUILD set: %v, want %v\nstdout:\n%s\nstderr:\n%s", got, tc.siblings, stdout, stderr)
				}
				if n := w.downloads() - before; n != tc.downloads {
					t.Errorf("%d downloads of the binary reached the registry, want %d", n, tc.downloads)
				}
				if tc.code != 0 && strings.Contains(stdout, "ARTIFACT_URL_BUILD=") {
					t.Errorf("the job's script ran after the before_script failed:\n%s", stdout)
				}
				if tc.stderr == "SHA-256 mismatch" {
					left, _ := filepath.Glob(filepath.Join(project, ".pipeline-artifacts", version, "*"))
					if len(left) != 0 {
						t.Errorf("the tampered binary was left behind: %v", left)
					}
				}
				if tc.downloads == 1 && tc.code == 0 {
					// The next job of the runner finds the verified binary in
					// the cache and downloads nothing.
					stdout, stderr, code := w.run(t, sh, dir, project, tc.tools, false)
					if code != 0 || !strings.Contains(stdout, "ARTIFACT_URL_BUILD=http") {
						t.Errorf("second job: exit %d\n%s\n%s", code, stdout, stderr)
					}
					if n := w.downloads() - before; n != 1 {
						t.Errorf("the second job downloaded again (%d downloads in all)", n)
					}
				}
			})
		}
	}
}
