package dist_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const version = "v1.2.3-repro"

// platforms are two of the ten make dist builds: enough to show that the
// loop names, stamps and lists every file, without building all ten twice.
const platforms = "linux/amd64 windows/amd64"

// TestMakeDistIsReproducibleStaticAndStamped clones the repository twice, at
// two different paths, runs make dist in each (the second with an empty build
// cache) and compares the bytes; then checks what a user gets from one.
func TestMakeDistIsReproducibleStaticAndStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binaries twice")
	}
	for _, tool := range []string{"make", "git", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: make dist needs it", tool)
		}
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Run(); err != nil {
		t.Skip("not a git checkout: make dist stamps the commit from git: ", err)
	}

	a := makeDist(t, clone(t, root, "first"), "")
	b := makeDist(t, clone(t, root, "second-at-another-path"), t.TempDir())

	names := []string{"SHA256SUMS", "pipeline-artifacts-linux-amd64", "pipeline-artifacts-windows-amd64.exe"}
	for _, name := range names {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of the same commit and version", name)
		}
	}

	t.Run("SHA256SUMS lists every binary and sha256sum -c accepts it", func(t *testing.T) {
		check := exec.Command("sha256sum", "-c", "--strict", "SHA256SUMS")
		check.Dir = a
		out, err := check.CombinedOutput()
		if err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), ": OK"); n != len(names)-1 {
			t.Errorf("sha256sum -c checked %d files, want %d:\n%s", n, len(names)-1, out)
		}
	})

	t.Run("the linux binary is static", func(t *testing.T) {
		f, err := elf.Open(filepath.Join(a, "pipeline-artifacts-linux-amd64"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("it asks for a dynamic loader (PT_INTERP)")
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("it needs shared libraries: %v", libs)
		}
	})

	t.Run("version prints the version, the commit and the Go version on its first line", func(t *testing.T) {
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			t.Skip("the linux/amd64 binary runs only on linux/amd64")
		}
		out, err := exec.Command(filepath.Join(a, "pipeline-artifacts-linux-amd64"), "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		commit, err := exec.Command("git", "-C", root, "log", "-1", "--format=%h", "--", ".", ":(exclude)templates").Output()
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(out), "\n")
		for _, want := range []string{version, strings.TrimSpace(string(commit)), runtime.Version()} {
			if !strings.Contains(first, want) {
				t.Errorf("first line %q lacks %q", first, want)
			}
		}
	})
}

// clone makes a fresh clone of the repository's HEAD in a directory of its own.
func clone(t *testing.T, root, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("git", "clone", "-q", "--no-hardlinks", root, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	return dir
}

// makeDist runs make dist in dir and returns its dist/. A non-empty gocache
// is an empty build cache for this build alone.
func makeDist(t *testing.T, dir, gocache string) string {
	t.Helper()
	cmd := exec.Command("make", "dist", "VERSION="+version, "PLATFORMS="+platforms)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if gocache != "" {
		cmd.Env = append(cmd.Env, "GOCACHE="+gocache)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist in %s: %v\n%s", dir, err, out)
	}
	return filepath.Join(dir, "dist")
}
