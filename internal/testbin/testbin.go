// Package testbin builds the pipeline-artifacts binary once for every test
// package that drives it like the runner does. The build lands in a
// directory under os.TempDir named by a hash of the module's sources and the
// build flags, so a second package (or a second run with nothing changed)
// reuses it; a file lock makes concurrent packages wait for the one build in
// flight instead of building too.
package testbin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Name is the binary's file name.
const Name = "pipeline-artifacts"

// Path returns the binary built with `go build flags… ./cmd/pipeline-artifacts`,
// building it first when no build of the same sources and flags exists. The
// binary is shared: callers must not modify or remove it.
func Path(flags ...string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	key, err := sourceKey(root, flags)
	if err != nil {
		return "", err
	}
	base := filepath.Join(os.TempDir(), "pipeline-artifacts-testbin")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", err
	}
	dir := filepath.Join(base, key)
	bin := filepath.Join(dir, Name+exeSuffix())
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return "", fmt.Errorf("testbin: lock: %w", err)
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := build(root, dir, flags); err != nil {
		return "", err
	}
	prune(base, key)
	return bin, nil
}

// build compiles into a fresh directory and renames it into place, so that
// a build killed half-way never leaves a binary to be reused.
func build(root, dir string, flags []string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	args := append(append([]string{"build"}, flags...), "-o", filepath.Join(tmp, Name+exeSuffix()), "./cmd/pipeline-artifacts")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testbin: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another package's build got there first.
		if _, serr := os.Stat(filepath.Join(dir, Name+exeSuffix())); serr == nil {
			return nil
		}
		return err
	}
	return nil
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// moduleRoot walks up from the working directory (a test's package
// directory) to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testbin: no go.mod above the working directory")
		}
		dir = parent
	}
}

// sourceKey hashes what the binary is made of: every non-test Go file of
// the module, go.mod, go.sum, the flags and the toolchain.
func sourceKey(root string, flags []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s %q\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, flags)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) && name != "go.mod" && name != "go.sum" {
			return nil
		}
		return hashFile(h, root, path)
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func hashFile(h io.Writer, root, path string) error {
	rel, _ := filepath.Rel(root, path)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
	_, err = io.Copy(h, f)
	return err
}

// prune removes builds of other sources unused for a day, so that the
// temporary directory does not fill up with old binaries.
func prune(base, keep string) {
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".lock")
		if name == keep {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
			_ = os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
}
