package release_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTheProjectPipelineIsValidForGitLab checks .gitlab-ci.yml with
// gitlab-ci-local, which validates against GitLab's own CI JSON schema and
// evaluates rules as GitLab does: the release jobs exist on a tag only, and
// a broken copy is refused (so a pass means something).
func TestTheProjectPipelineIsValidForGitLab(t *testing.T) {
	for _, tool := range []string{"gitlab-ci-local", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs gitlab-ci-local 4.56.2 with npm): %v", tool, err)
		}
	}
	text, err := os.ReadFile("../../.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	releaseJobs := []string{"check-component", "upload", "release", "container-image"}
	for _, tc := range []struct {
		name    string
		yaml    string
		args    []string
		ok      bool
		present []string
		absent  []string
	}{
		{name: "a branch pipeline tests, checks and builds dist", yaml: string(text), args: []string{"--list"}, ok: true,
			present: []string{"test", "static-checks", "dist"}, absent: releaseJobs},
		{name: "a tag pipeline also publishes", yaml: string(text), args: []string{"--list", "--variable", "CI_COMMIT_TAG=1.2.3"}, ok: true,
			present: releaseJobs},
		{name: "the expanded pipeline passes GitLab's schema", yaml: string(text), args: []string{"--preview"}, ok: true},
		{name: "a job with a key GitLab does not know is refused", yaml: string(text) + "\nbroken:\n  script: [true]\n  artifact: {paths: [x]}\n", args: []string{"--preview"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"init", "-q", "-b", "main"},
				{"remote", "add", "origin", "https://gitlab.example.com/pipeline-artifacts/pipeline-artifacts.git"},
				{"add", "."},
				{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "pipeline"},
			} {
				if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			cmd := exec.Command("gitlab-ci-local", tc.args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if (err == nil) != tc.ok {
				t.Fatalf("gitlab-ci-local %v: err %v, want ok=%v\n%s", tc.args, err, tc.ok, out)
			}
			jobs := map[string]bool{}
			for _, line := range strings.Split(string(out), "\n") {
				if f := strings.Fields(line); len(f) > 0 {
					jobs[f[0]] = true
				}
			}
			for _, j := range tc.present {
				if !jobs[j] {
					t.Errorf("job %s is missing:\n%s", j, out)
				}
			}
			for _, j := range tc.absent {
				if jobs[j] {
					t.Errorf("job %s runs where it should not:\n%s", j, out)
				}
			}
		})
	}
}
