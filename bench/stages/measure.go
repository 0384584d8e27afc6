package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// kind is one way of running a process whose wall time is measured.
type kind struct {
	name string
	cmd  func() *exec.Cmd
	// check, when set, inspects each run's output; without it the output
	// goes to /dev/null, so no pipe adds to the figure.
	check func(stdout, stderr []byte) error
}

// once runs k and returns its wall time from start to reaped.
func (k kind) once() (time.Duration, error) {
	cmd := k.cmd()
	var stdout, stderr bytes.Buffer
	if k.check != nil {
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
	}
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w%s", k.name, err, k.diagnose(stderr.Bytes()))
	}
	if k.check != nil {
		if err := k.check(stdout.Bytes(), stderr.Bytes()); err != nil {
			return 0, fmt.Errorf("%s: %w", k.name, err)
		}
	}
	return took, nil
}

// diagnose returns a failed run's stderr, running it again to get it when
// the timed run discarded it.
func (k kind) diagnose(stderr []byte) string {
	if k.check == nil {
		stderr, _ = k.cmd().CombinedOutput()
	}
	if len(stderr) == 0 {
		return ""
	}
	return "\n" + strings.TrimSpace(string(stderr))
}

// measure runs every kind runs times after warmup rounds, interleaved and
// in rotating order, so that drift (CPU frequency, page cache, a neighbour)
// reaches every kind alike. It returns each kind's median wall time.
func measure(kinds []kind, runs, warmup int) ([]time.Duration, error) {
	times := make([][]time.Duration, len(kinds))
	for round := range warmup + runs {
		for j := range kinds {
			i := (round + j) % len(kinds)
			took, err := kinds[i].once()
			if err != nil {
				return nil, err
			}
			if round >= warmup {
				times[i] = append(times[i], took)
			}
		}
	}
	medians := make([]time.Duration, len(kinds))
	for i, t := range times {
		medians[i] = figures.Median(t)
	}
	return medians, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// addMS records a duration, in milliseconds.
func (b *bench) addMS(section, key, name string, d time.Duration) {
	b.rep.Add(figures.Figure{Key: key, Section: section, Name: name, Unit: "ms", Digits: 2}, msFloat(d))
}

// addRatio records x / y.
func (b *bench) addRatio(section, key, name string, x, y time.Duration, target *figures.Target) {
	b.rep.Add(figures.Figure{Key: key, Section: section, Name: name, Unit: "×", Digits: 2, Target: target}, float64(x)/float64(y))
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
