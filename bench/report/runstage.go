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
	extra, more := m["run.run"]-m["run.floor"], "more"
	if extra < 0 {
		extra, more = -extra, "less"
	}
	fmt.Fprintf(w, "\n### The run stage against the floor\n\n"+
		"A job calls `run` 4 to 9 times (at least `prepare_script`, `get_sources`, `build_script` and "+
		"`cleanup_file_variables`). Any stage driver written in Go pays for a Go process to start and then for "+
		"bash to start. The floor is exactly that: a Go program that only runs bash on the script, waits and "+
		"passes the exit status on. It takes %.2f ms here; for scale, bash alone takes %.2f ms, an empty Go "+
		"program %.2f ms and exec of `true` %.2f ms.\n\n"+
		"`run` takes %.2f ms: %.2f× the floor, %.2f ms %s than the floor per stage, %.1f–%.1f ms per job. "+
		"There is no target for it: %s\n\n"+
		"Where `run`'s time goes (medians): the binary starting, parsing its flags and exiting without running "+
		"anything takes %.2f ms, of which %.2f ms is package initialisation; the rest beyond bash itself "+
		"(fork/exec of bash from Go, signal handling, the exit code) %s.\n",
		m["run.floor"], m["run.bash"], m["run.emptygo"], m["run.true"],
		m["run.run"], m["run.floorratio"], extra, more, 4*extra, 9*extra, whyNoRunTarget,
		m["run.startup"], m["run.init"], rest(m["run.rest"]))
	floorsText(w, r, m["run.floor"], m["run.run"])
	initText(w, r)
}

// whyNoRunTarget is why the run stage's figures carry no target (issue 16).
const whyNoRunTarget = "with the real gitlab-runner 17.9.3 running the same three-job pipeline on this machine, each job " +
	"took 0.28–0.44 s under our custom executor (sibling resolution included) against 0.67–0.96 s under the " +
	"runner's own shell executor, so a stage's start-up is not what a user feels; the decision is one binary " +
	"(admins install one file) with the Prometheus Go client kept (the one gitlab-runner and Workhorse use)."

// initText is the GODEBUG=inittrace=1 line for our packages.
func initText(w io.Writer, r *figures.Result) {
	n, ok1 := r.Get("run.init.ours")
	d, ok2 := r.Get("run.init.oursms")
	all, ok3 := r.Get("run.init")
	if !ok1 || !ok2 || !ok3 {
		return
	}
	fmt.Fprintf(w, "\nPackage initialisation of ours (`GODEBUG=inittrace=1 pipeline-artifacts var-name x`; every "+
		"command of the one binary runs the same initialisation): **%.0f of our packages** do work at init, "+
		"%.3f ms of the binary's %.2f ms (medians). No regular expression, map or closure of ours is built before "+
		"a stage asks for it; the rest is the standard library and the linked modules (the costliest are in the "+
		"notes at the end).\n", n.Median(), d.Median(), all.Median())
}

// floorsText says what linking alone costs every stage: the floor wrapper
// with net/http, and with the Prometheus client as well, both unused.
func floorsText(w io.Writer, r *figures.Result, floor, run float64) {
	h, ok1 := r.Get("run.floorhttp")
	p, ok2 := r.Get("run.floorprom")
	if !ok1 || !ok2 || floor <= 0 {
		return
	}
	fh, fp := h.Median(), p.Median()
	fmt.Fprintf(w, "\nWhat linking alone costs, before a driver does any work of its own: the same floor wrapper with "+
		"net/http linked and unused — any driver that can also reach GitLab links it, with crypto/tls and "+
		"crypto/x509 — takes %.2f ms (%.2f× the floor); with the Prometheus Go client linked as well, as `serve` "+
		"links it, %.2f ms (%.2f×). Go runs every linked package's initialisation in every process and has no "+
		"lazy form of it, so one binary that is the stage driver, the downloader and the service starts at the "+
		"second figure at best; `run` is %.2f ms above it.\n", fh, fh/floor, fp, fp/floor, run-fp)
}

// rest words the remainder of run's time, which noise can make negative
// when it is small.
func rest(ms float64) string {
	if ms < 0 {
		return fmt.Sprintf("is lost in the noise (%.2f ms)", ms)
	}
	return fmt.Sprintf("takes %.2f ms", ms)
}
