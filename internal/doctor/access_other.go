//go:build !unix

package doctor

import (
	"io/fs"
	"os"
	"path/filepath"
)

// writable tries what a job would do: create a file in dir.
func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".pipeline-artifacts-doctor-*")
	if err != nil {
		return false
	}
	f.Close()
	_ = os.Remove(f.Name())
	return true
}

// executable: without mode bits, a file found under an executable name is.
func executable(fs.FileInfo) bool { return true }

// executableNames adds the extensions Windows runs (PATHEXT).
func executableNames(path string) []string {
	names := []string{path}
	for _, ext := range filepath.SplitList(os.Getenv("PATHEXT")) {
		names = append(names, path+ext)
	}
	return names
}
