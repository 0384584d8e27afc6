package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"
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
// reaches every kind alike. It returns each kind's wall times.
func measure(kinds []kind, runs, warmup int) ([][]time.Duration, error) {
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
	return times, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// report is the printed table, plus notes that explain a figure.
type report struct {
	rows  [][4]string
	notes []string
}

func (r *report) add(figure, value, target, verdict string) {
	r.rows = append(r.rows, [4]string{figure, value, target, verdict})
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *report) print(w io.Writer) {
	fmt.Fprintln(w, "| figure | value | target | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, row := range r.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", row[0], row[1], row[2], row[3])
	}
	if len(r.notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range r.notes {
		fmt.Fprintln(w, "- "+n)
	}
}
