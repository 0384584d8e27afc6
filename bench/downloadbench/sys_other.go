//go:build !unix

package main

import (
	"math"
	"os"
)

// peakRSSMiB is unknown here: Windows reports no ru_maxrss (NaN).
func peakRSSMiB(*os.ProcessState) float64 { return math.NaN() }

// syncDisks does nothing here: no sync(2).
func syncDisks() {}
