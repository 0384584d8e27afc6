//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSSMiB is a finished process's peak resident set: getrusage's
// ru_maxrss is KiB on Linux and the BSDs, bytes on macOS (getrusage(2)).
func peakRSSMiB(ps *os.ProcessState) float64 {
	rss := float64(ps.SysUsage().(*syscall.Rusage).Maxrss)
	if runtime.GOOS == "darwin" {
		rss /= 1024
	}
	return rss / 1024
}

// syncDisks writes every dirty page out.
func syncDisks() { syscall.Sync() }
