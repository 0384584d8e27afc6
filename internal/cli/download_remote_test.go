package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

func TestDownloadFromAnotherPipeline(t *testing.T) {
	const earlier, sha = 90, "c0ffee"
	setup := func(t *testing.T) (*dlFixture, *gitlabtest.FakeJob) {
		f := newDLFixture(t)
		f.srv.AddPipeline(dlProject, earlier, gitlabtest.WithSHA(sha))
		old := f.srv.AddJob(dlProject, earlier, gitlabtest.JobSpec{Name: "build", Artifact: gitlabtest.MakeZip(t, map[string]string{"version.txt": "from the earlier pipeline"})})
		return f, old
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"--pipeline looks the name up in that pipeline", []string{"build", "--pipeline", fmt.Sprint(earlier)}, 0, "from the earlier pipeline"},
		{"--sha finds the newest pipeline for the commit", []string{"build", "--sha", sha}, 0, "from the earlier pipeline"},
		{"a commit without a pipeline is not found", []string{"build", "--sha", "deadbeef"}, 3, ""},
		{"a name missing from that pipeline is not found", []string{"nope", "--pipeline", fmt.Sprint(earlier)}, 3, ""},
		{"--pipeline and --sha exclude each other", []string{"build", "--pipeline", "1", "--sha", sha}, 2, ""},
		{"--pipeline needs a job name", []string{"--pipeline", "1", "--job-id", "5"}, 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := setup(t)
			code, _, stderr := f.run(t, append(tc.args, "-q", "--dest", f.dir)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			if tc.want == "" {
				return
			}
			if b, err := os.ReadFile(filepath.Join(f.dir, "version.txt")); err != nil || string(b) != tc.want {
				t.Errorf("version.txt = %q, %v", b, err)
			}
		})
	}
}
