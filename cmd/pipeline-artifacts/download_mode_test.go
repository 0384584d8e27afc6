package main_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// TestNoArchiveMakesAWorldWritableFile: under umask 000 (the docker
// executor's default), an archive's 0777 file, 0777 directory and 1777
// directory (its sticky bit is dropped, which without this would leave a
// directory where anyone may replace anyone's files) come out without the
// world-write bit, through --dest and through --path.
func TestNoArchiveMakesAWorldWritableFile(t *testing.T) {
	t.Parallel()
	archive := zipWithModes(t, map[string]os.FileMode{
		"bin/tool": 0o777, "open/": os.ModeDir | 0o777, "tmp/": os.ModeDir | os.ModeSticky | 0o777, "tmp/x": 0o666,
	})
	f := newDLFixture(t, gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_0}, archive)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "sh", "-c", `umask 000; exec "$@"`, "sh", binary, "download", "-q", "--job-id", fmt.Sprint(f.build.ID))
		cmd.Args = append(cmd.Args, args...)
		cmd.Env = f.env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
	}
	dest := filepath.Join(t.TempDir(), "dest")
	run("--dest", dest)
	one := filepath.Join(t.TempDir(), "tool")
	run("--path", "bin/tool", "-o", one)
	want := map[string]os.FileMode{"bin/tool": 0o775, "open": os.ModeDir | 0o775, "tmp": os.ModeDir | 0o775, "tmp/x": 0o664}
	for name, mode := range want {
		if fi, err := os.Stat(filepath.Join(dest, name)); err != nil || fi.Mode() != mode {
			t.Errorf("--dest: %s has mode %v (%v), want %v", name, fi.Mode(), err, mode)
		}
	}
	if fi, err := os.Stat(one); err != nil || fi.Mode() != 0o775 {
		t.Errorf("--path: the file has mode %v (%v), want -rwxrwxr-x", fi.Mode(), err)
	}
}

func zipWithModes(t *testing.T, entries map[string]os.FileMode) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		h := &zip.FileHeader{Name: name, Method: zip.Store}
		h.SetMode(entries[name])
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(name, "/") {
			if _, err := io.WriteString(w, "#!/bin/sh\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
