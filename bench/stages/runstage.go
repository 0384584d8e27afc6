package main

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// runStage compares `pipeline-artifacts run <script> build_script` with
// `bash <script>`, and times what the difference is made of: exec alone,
// an empty Go program, and the binary starting without running a script.
func (b *bench) runStage(ctx context.Context) error {
	dir := filepath.Join(b.tmp, "run")
	trivial, sized, err := writeScripts(dir)
	if err != nil {
		return err
	}
	emptyGo, err := b.buildGo(ctx, "emptygo", emptyGoSource)
	if err != nil {
		return err
	}
	var floors [3]string // bare, nethttp, promclient: see bench/floors
	for i, name := range []string{"bare", "nethttp", "promclient"} {
		if floors[i], err = b.buildFloor(ctx, name); err != nil {
			return err
		}
	}
	env := append(slices.Clone(b.environ), stageVars(dir)...)
	cmd := func(name string, args ...string) func() *exec.Cmd {
		return func() *exec.Cmd {
			c := exec.CommandContext(ctx, name, args...)
			c.Dir, c.Env = dir, env
			return c
		}
	}
	runArgs := func(script string) []string { return append(slices.Clone(b.driver.RunArgs), script, "build_script") }
	// reportRunStage reads the medians in this order.
	kinds := []kind{
		{name: "bash <script>", cmd: cmd("bash", trivial)},
		{name: "pipeline-artifacts run", cmd: cmd(b.driver.RunExec, runArgs(trivial)...)},
		{name: "true", cmd: cmd("true")},
		{name: "empty Go program", cmd: cmd(emptyGo)},
		{name: "pipeline-artifacts var-name", cmd: cmd(b.binary, "var-name", "x")},
		{name: "bash <runner-sized script>", cmd: cmd("bash", sized)},
		{name: "pipeline-artifacts run <runner-sized script>", cmd: cmd(b.driver.RunExec, runArgs(sized)...)},
		{name: "floor: minimal Go wrapper <script>", cmd: cmd(floors[0], trivial)},
		{name: "floor with net/http linked <script>", cmd: cmd(floors[1], trivial)},
		{name: "floor with net/http and the Prometheus client linked <script>", cmd: cmd(floors[2], trivial)},
	}
	m, err := measure(kinds, b.pairs, 10)
	if err != nil {
		return err
	}
	pkgInit, perPkg, err := b.initTime(ctx, env, dir)
	if err != nil {
		return err
	}
	b.reportRunStage(m, pkgInit)
	b.reportOurInit(perPkg)
	return nil
}

func (b *bench) reportRunStage(m []time.Duration, pkgInit time.Duration) {
	bash, run, exe, goEmpty, start, sizedBash, sizedRun, floor := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
	floorHTTP, floorProm := m[8], m[9]
	n := fmt.Sprintf(" (median of %d)", b.pairs)
	b.addMS(figures.SectionStartup, "run.bash", "run stage: `bash <script>`, the script is `true`"+n, bash)
	b.addMS(figures.SectionStartup, "run.run", "run stage: `pipeline-artifacts run <script> build_script`, same script"+n, run)
	b.addMS(figures.SectionStartup, "run.floor", "run stage: the floor, a minimal Go wrapper (exec bash on the script, wait, pass the status)"+n, floor)
	b.addRatio(figures.SectionStartup, "run.floorratio", "run stage: ratio run / floor", run, floor,
		nil)
	b.addRatio(figures.SectionStartup, "run.ratio", "run stage: ratio run / bash (for reference; no wrapper process can approach 1×)", run, bash, nil)
	b.addMS(figures.SectionStartup, "run.overhead", "run stage: overhead per stage (run − bash)", run-bash)
	b.addMS(figures.SectionStartup, "run.floorhttp", "run stage, floors: the floor with net/http linked, unused (any driver that can reach GitLab)"+n, floorHTTP)
	b.addRatio(figures.SectionStartup, "run.floorhttp.ratio", "run stage, floors: ratio floor with net/http / floor", floorHTTP, floor, nil)
	b.addMS(figures.SectionStartup, "run.floorprom", "run stage, floors: the floor with net/http and the Prometheus Go client linked, unused (what `serve` links)"+n, floorProm)
	b.addRatio(figures.SectionStartup, "run.floorprom.ratio", "run stage, floors: ratio floor with net/http and the Prometheus client / floor", floorProm, floor, nil)
	b.addMS(figures.SectionStartup, "run.true", "run stage, breakdown: exec of `true` (any wrapper pays this)"+n, exe)
	b.addMS(figures.SectionStartup, "run.emptygo", "run stage, breakdown: an empty Go program (`func main() {}`)"+n, goEmpty)
	b.addMS(figures.SectionStartup, "run.startup", "run stage, breakdown: binary start-up (`pipeline-artifacts var-name x`: start, parse flags, exit, no child)"+n, start)
	b.addMS(figures.SectionStartup, "run.init", fmt.Sprintf("run stage, breakdown: package init, part of the start-up (GODEBUG=inittrace=1, median of %d)", initRuns), pkgInit)
	b.addMS(figures.SectionStartup, "run.rest", "run stage, breakdown: rest (run − start-up − bash: fork/exec of bash from Go, signals, exit code)", run-start-bash)
	b.addRatio(figures.SectionStartup, "run.sized.ratio", "run stage: ratio with a runner-sized script (100 exports)", sizedRun, sizedBash, nil)
	b.addMS(figures.SectionStartup, "run.sized.overhead", "run stage: overhead per stage with the runner-sized script", sizedRun-sizedBash)
	b.rep.Note("run stage, the binary: %s.", describeBinary(b.binary))
}

// describeBinary gives the binary's size and whether it needs the dynamic
// loader (a cgo build), both of which add to every stage's start-up.
func describeBinary(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	linking := "statically linked"
	if f, err := elf.Open(path); err == nil {
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				linking = "dynamically linked (cgo: the loader and libc start first)"
			}
		}
	}
	return fmt.Sprintf("%.1f MB, %s", float64(st.Size())/1e6, linking)
}

// writeScripts writes the trivial stage script and one the size of the
// runner's generated build_script for a job with 100 variables.
func writeScripts(dir string) (trivial, sized string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	trivial = filepath.Join(dir, "trivial")
	if err := os.WriteFile(trivial, []byte("#!/usr/bin/env bash\ntrue\n"), 0o700); err != nil {
		return "", "", err
	}
	var s strings.Builder
	s.WriteString("#!/usr/bin/env bash\n\ntrap exit 1 TERM\n\n")
	for i := range 100 {
		fmt.Fprintf(&s, "export CI_BENCH_VAR_%03d='%s'\n", i, strings.Repeat("v", 60))
	}
	s.WriteString("set -eo pipefail\ntrue\n")
	sized = filepath.Join(dir, "sized")
	return trivial, sized, os.WriteFile(sized, []byte(s.String()), 0o700)
}

// stageVars are what the runner sets for every stage executable.
func stageVars(dir string) []string {
	return []string{
		"TMPDIR=" + dir,
		"BUILD_FAILURE_EXIT_CODE=1",
		"SYSTEM_FAILURE_EXIT_CODE=2",
		"BUILD_EXIT_CODE_FILE=" + filepath.Join(dir, "build_exit_code"),
	}
}

// emptyGoSource is `func main() {}`: what any Go process costs to start.
const emptyGoSource = "package main\n\nfunc main() {}\n"

// buildFloor builds ./bench/floors/name like our binary.
func (b *bench) buildFloor(ctx context.Context, name string) (string, error) {
	bin := filepath.Join(b.tmp, "floor-"+name)
	build := figures.BuildPackage(ctx, bin, "./bench/floors/"+name)
	build.Dir = b.root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build floor %s: %w\n%s", name, err, out)
	}
	return bin, nil
}

// buildGo builds a one-file Go program the way the README builds ours
// (static, stripped), so that the comparison is like for like.
func (b *bench) buildGo(ctx context.Context, name, source string) (string, error) {
	dir := filepath.Join(b.tmp, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{"go.mod": "module " + name + "\n\ngo 1.26\n", "main.go": source}
	for file, body := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o600); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, name)
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s", "-o", bin, ".")
	build.Dir, build.Env = dir, append(os.Environ(), "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", name, err, out)
	}
	return bin, nil
}

// initRuns is how many traced start-ups initTime takes the median of.
const initRuns = 21

// initLine is one line of GODEBUG=inittrace=1.
var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock`)

// initTime runs the binary with GODEBUG=inittrace=1 and returns how long
// package initialisation takes before main, and each package's init times;
// it notes which packages cost most.
func (b *bench) initTime(ctx context.Context, env []string, dir string) (time.Duration, map[string][]time.Duration, error) {
	var totals []time.Duration
	perPkg := map[string][]time.Duration{}
	for range initRuns {
		c := exec.CommandContext(ctx, b.binary, "var-name", "x")
		c.Dir, c.Env = dir, append(slices.Clone(env), "GODEBUG=inittrace=1")
		out, err := c.CombinedOutput()
		if err != nil {
			return 0, nil, fmt.Errorf("inittrace: %w\n%s", err, out)
		}
		totals = append(totals, parseInit(string(out), perPkg))
	}
	b.rep.Note("run stage, package init of the binary: %d packages, %s of init work; costliest: %s.",
		len(perPkg), ms(figures.Median(totals)), costliest(perPkg, 4))
	return figures.Median(totals), perPkg, nil
}

// reportOurInit reports which of our packages do work at package init,
// which none may: a stage pays for every linked package's init.
func (b *bench) reportOurInit(perPkg map[string][]time.Duration) {
	ours := onlyOurs(perPkg)
	var oursTime time.Duration
	for _, ds := range ours {
		oursTime += figures.Median(ds)
	}
	if len(ours) > 0 {
		b.rep.Note("run stage, package init of ours: %s.", costliest(ours, len(ours)))
	}
	n := fmt.Sprintf(" (GODEBUG=inittrace=1, median of %d)", initRuns)
	b.rep.Add(figures.Figure{Key: "run.init.ours", Section: figures.SectionStartup,
		Name:   "run stage, breakdown: packages of ours that do work at package init" + n,
		Target: figures.Exactly(0, "0")}, float64(len(ours)))
	b.addMS(figures.SectionStartup, "run.init.oursms", "run stage, breakdown: package init of ours"+n, oursTime)
}

// parseInit returns the run's total init time and adds each package's to
// perPkg. The @ offsets are not used: tracing itself delays them.
func parseInit(out string, perPkg map[string][]time.Duration) (total time.Duration) {
	for line := range strings.Lines(out) {
		m := initLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		clock := msDuration(m[2])
		total += clock
		perPkg[m[1]] = append(perPkg[m[1]], clock)
	}
	return total
}

func msDuration(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

// costliest names the n packages with the largest median init time.
func costliest(perPkg map[string][]time.Duration, n int) string {
	type pkg struct {
		name string
		d    time.Duration
	}
	var all []pkg
	for name, ds := range perPkg {
		all = append(all, pkg{name, figures.Median(ds)})
	}
	slices.SortFunc(all, func(a, b pkg) int { return int(b.d - a.d) })
	var parts []string
	for _, p := range all[:min(n, len(all))] {
		parts = append(parts, fmt.Sprintf("%s %s", p.name, ms(p.d)))
	}
	return strings.Join(parts, ", ")
}

// ourModule is the module whose packages must do no work at package init.
const ourModule = "gitlab.com/pipeline-artifacts/pipeline-artifacts"

func onlyOurs(perPkg map[string][]time.Duration) map[string][]time.Duration {
	out := map[string][]time.Duration{}
	for name, ds := range perPkg {
		if strings.HasPrefix(name, ourModule+"/") || name == ourModule {
			out[name] = ds
		}
	}
	return out
}
