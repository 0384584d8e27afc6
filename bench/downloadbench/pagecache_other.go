//go:build !linux

package main

import (
	"errors"
	"runtime"
)

// errNoEvict is why -vs-curl does not run here: it needs posix_fadvise and
// mincore as Linux has them to start every run with a cold page cache.
var errNoEvict = errors.New("dropping a file from the page cache is unsupported on " + runtime.GOOS + " (Linux only)")

func evict(string) error { return errNoEvict }

func resident(string) (float64, error) { return 0, errNoEvict }
