package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestDownloadToAFileTakesTheUmask: the archive saved with -o FILE gets mode
// 0666 &^ umask, like a file made by curl -o or a shell redirection — the
// temporary .part file it is renamed from is created with 0666, not with
// os.CreateTemp's 0600. The umask is set in the child process, as a job's
// shell does.
func TestDownloadToAFileTakesTheUmask(t *testing.T) {
	t.Parallel()
	archive := gitlabtest.MakeZip(t, map[string]string{"dist/version.txt": versionText})
	f := newDLFixture(t, gitlabtest.Profile{Edition: gitlabtest.CE, Version: gitlabtest.Version19_2}, archive)
	cases := []struct {
		umask string
		want  os.FileMode
	}{
		{"022", 0o644},
		{"027", 0o640},
		{"077", 0o600},
		{"002", 0o664},
	}
	for _, c := range cases {
		t.Run("umask "+c.umask, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "a.zip")
			cmd := exec.CommandContext(t.Context(), "sh", "-c", `umask "$1"; shift; exec "$@"`, "sh", c.umask,
				binary, "download", "-q", "--job-id", fmt.Sprint(f.build.ID), "-o", out)
			cmd.Env = f.env
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode(); got != c.want {
				t.Errorf("with umask %s the file has mode %v, want %v", c.umask, got, c.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || strings.HasSuffix(entries[0].Name(), ".part") {
				t.Errorf("the directory holds %v, want only a.zip", entries)
			}
		})
	}
}

// TestOneFileToAFileTakesTheUmask: one file of the archive saved with
// --path F -o FILE keeps its permission bits from the archive, through the
// umask, as extraction does.
func TestOneFileToAFileTakesTheUmask(t *testing.T) {
	t.Parallel()
	archive := gitlabtest.MakeZip(t, map[string]string{"dist/version.txt": versionText})
	f := newDLFixture(t, gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_0}, archive)
	for _, c := range []struct {
		umask string
		want  os.FileMode
	}{{"022", 0o644}, {"077", 0o600}} {
		t.Run("umask "+c.umask, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "version.txt")
			cmd := exec.CommandContext(t.Context(), "sh", "-c", `umask "$1"; shift; exec "$@"`, "sh", c.umask,
				binary, "download", "-q", "--job-id", fmt.Sprint(f.build.ID), "--path", "dist/version.txt", "-o", out)
			cmd.Env = f.env
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode(); got != c.want {
				t.Errorf("with umask %s the file has mode %v, want %v", c.umask, got, c.want)
			}
		})
	}
}
