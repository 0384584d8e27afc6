//go:build unix

package hooks

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The umask is process-wide, so this test must not run in parallel.
func TestWriteManifestModeIgnoresUmask(t *testing.T) {
	tests := []struct {
		name  string
		umask int
	}{
		{"a permissive umask does not widen the mode", 0},
		{"a restrictive umask does not narrow the mode", 0o277},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := syscall.Umask(tt.umask)
			defer syscall.Umask(old)
			path := filepath.Join(t.TempDir(), "manifest.json")
			if err := WriteManifest(path, Manifest{}); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if mode := fi.Mode().Perm(); mode != 0o600 {
				t.Errorf("mode = %#o, want 0600", mode)
			}
		})
	}
}

func TestWriteManifestReplacesASymlinkInsteadOfFollowingIt(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.json")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(path, Manifest{}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); string(data) != "keep" {
		t.Errorf("the symlink's target was overwritten: %q", data)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("manifest is not a regular file: %v, %v", fi, err)
	}
}
