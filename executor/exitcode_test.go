package executor_test

import (
	"os"
	"path/filepath"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
)

func TestWriteBuildExitCode(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{name: "A new file gets the code", setup: func(*testing.T, string) {}},
		{name: "An existing file is replaced", setup: func(t *testing.T, path string) {
			writeFile(t, path, "a much longer previous content\n")
		}},
		{name: "A symlink planted by the job is replaced, not followed", setup: func(t *testing.T, path string) {
			target := filepath.Join(filepath.Dir(path), "target")
			writeFile(t, target, "keep")
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { checkFile(t, target, "keep") })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "build_exit_code")
			tt.setup(t, path)
			if err := executor.WriteBuildExitCode(path, 3); err != nil {
				t.Fatal(err)
			}
			checkFile(t, path, "3\n")
		})
	}
}

func TestWriteBuildExitCodeWithoutPath(t *testing.T) {
	if err := executor.WriteBuildExitCode("", 3); err != nil {
		t.Errorf("WriteBuildExitCode with an empty path = %v, want nil", err)
	}
}

func TestWriteBuildExitCodeReportsFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "build_exit_code")
	if err := executor.WriteBuildExitCode(path, 3); err == nil {
		t.Error("WriteBuildExitCode into a missing directory succeeded")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", filepath.Base(path), got, want)
	}
}
