//go:build unix

package doctor

import (
	"io/fs"
	"syscall"
)

// writable asks the kernel whether we may create entries in dir (W_OK|X_OK).
func writable(dir string) bool { return syscall.Access(dir, 2|1) == nil }

func executable(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o111 != 0 }

func executableNames(path string) []string { return []string{path} }
