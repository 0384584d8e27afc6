//go:build !linux

package artifacts

import "os"

// withWriteback is a no-op where sync_file_range does not exist.
func withWriteback(f *os.File) File { return f }
