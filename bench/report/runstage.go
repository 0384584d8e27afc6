package main

import (
	"fmt"
	"io"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// runStageText explains the run stage's cost against the floor of any Go
// wrapper, from the breakdown that bench/stages measures, in medians.
func runStageText(w io.Writer, r *figures.Result) {
	m := map[string]float64{}
	for _, key := range []string{"run.bash", "run.run", "run.floor", "run.floorratio", "run.true", "run.emptygo",
		"run.startup", "run.init", "run.rest"} {
		f, ok := r.Get(key)
		if !ok {
			return
		}
		m[key] = f.Median()
	}
	const target = 1.20
	fmt.Fprintf(w, "\n### The run stage against the floor\n\n"+
		"A job calls `run` 4 to 9 times (at least `prepare_script`, `get_sources`, `build_script`, "+
		"`cleanup_file_variables`). Any wrapper written in Go pays for a Go process to start and for bash to start: "+
		"the floor — a Go program that only execs bash on the script, waits and passes the status on — takes "+
		"%.2f ms here (bash alone %.2f ms, an empty Go program %.2f ms, exec of `true` %.2f ms). `run` takes "+
		"%.2f ms: **%.2f× the floor** (target ≤ %.2f×), %.2f ms more per stage, %.1f–%.1f ms per job. "+
		"Where our time goes (medians): the binary starting, parsing its flags and exiting without running "+
		"anything takes %.2f ms, of which %.2f ms is package initialisation; the rest (fork/exec of bash from Go, "+
		"signals, the exit code) %.2f ms.\n",
		m["run.floor"], m["run.bash"], m["run.emptygo"], m["run.true"],
		m["run.run"], m["run.floorratio"], target, m["run.run"]-m["run.floor"],
		4*(m["run.run"]-m["run.floor"]), 9*(m["run.run"]-m["run.floor"]),
		m["run.startup"], m["run.init"], m["run.rest"])
}
