// Command report runs every benchmark of the project several times and
// writes BENCHMARKS.md: each figure's median over the runs with its range,
// its target and a verdict, the machine, and how to reproduce.
// bench/run.sh runs it from the repository root:
//
//	go run ./bench/report -runs 3 -out BENCHMARKS.md
//
// The programs that write a large file take -runs themselves, so that the
// file is written once: bench/downloadbench -vs-curl (one download against
// curl, cold page cache), bench/downloadbench (memory while extracting,
// parallel ranges) and bench/remotezip (one file out of a big archive).
// bench/stages (start-up of every stage, resolution, config, the listing
// cache), bench/serve (a fleet's burst, for one pipeline and for 50) and
// the extraction benchmarks of artifacts/extract run once per run. Each
// program hands over its figures as JSON (-json); go test reports in the
// standard benchmark format. Every temporary file is made under one
// directory that is removed at the end, however a program ends.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

func main() {
	runs := flag.Int("runs", 3, "runs of every benchmark; the tables show medians over them")
	out := flag.String("out", "BENCHMARKS.md", "the file to write")
	smoke := flag.Bool("smoke", false, "tiny sizes and few repetitions, to check that every benchmark runs and "+
		"reports (about a minute; the figures mean nothing, and the file says so)")
	only := flag.String("only", "", "\"stages\": run only bench/stages and regenerate only its sections (start-up, "+
		"resolve and config, the listing cache) in -out, keeping the other sections of the file as they are")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench/report: ")
	if *runs < 1 {
		log.Fatal("-runs must be at least 1")
	}
	if _, err := os.Stat(filepath.Join("cmd", "pipeline-artifacts")); err != nil {
		log.Fatal("run from the repository root (bash bench/run.sh does)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *only != "" && *only != "stages" {
		log.Fatalf("-only takes \"stages\", not %q", *only)
	}
	s := session{started: time.Now(), machine: figures.ReadMachine(), runs: *runs, smoke: *smoke}
	if *only != "" {
		old, err := os.ReadFile(*out)
		if err != nil {
			log.Fatalf("-only regenerates sections of an existing %s: %v", *out, err)
		}
		s.kept = keptSections(string(old))
	}
	p := fullSize
	if *smoke {
		p = smokeSize
	}
	s.res = runAll(ctx, *runs, p, *only != "")
	s.took = time.Since(s.started)
	if ctx.Err() != nil {
		stop()
		log.Fatalf("interrupted: %s is left as it was", *out)
	}
	if err := os.WriteFile(*out, s.markdown(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s in %s", *out, s.took.Round(time.Second))
	for _, f := range s.res.Figures {
		if f.Missed() {
			log.Printf("missed: %s: %s (target %s)", f.Name, f.Format(f.Median()), f.Target.Text)
		}
	}
	if len(s.res.Errors) > 0 {
		stop()
		log.Fatalf("%d benchmark(s) failed; %s lists them", len(s.res.Errors), *out)
	}
}

// session is one run of the report: what it measured, where and when.
type session struct {
	started time.Time
	took    time.Duration
	machine figures.Machine
	runs    int
	smoke   bool
	res     figures.Result
	kept    map[string]string // with -only: the sections not run, by title, as the file had them
}

// sizes are the extra arguments of each benchmark program: none for the
// real benchmark, tiny sizes for a smoke run.
type sizes struct {
	download, remotezip, stages, serveOne, serveMany, extract []string
}

var (
	fullSize = sizes{
		serveOne:  []string{"-jobs", "1000", "-callers", "500"},
		serveMany: []string{"-pipelines", "50", "-jobs", "1000", "-callers", "10"},
		extract:   []string{"-benchtime", "5x"},
	}
	smokeSize = sizes{
		download:  []string{"-size", fmt.Sprint(64 << 20)},
		remotezip: []string{"-size", fmt.Sprint(64 << 20), "-entries", "2000"},
		stages:    []string{"-pairs", "10", "-resolve-runs", "2", "-config-runs", "3", "-fanout", "4"},
		serveOne:  []string{"-jobs", "200", "-callers", "50"},
		serveMany: []string{"-pipelines", "5", "-jobs", "200", "-callers", "10"},
		extract:   []string{"-benchtime", "1x"},
	}
)

// runAll builds the benchmark programs and runs every benchmark runs
// times; a benchmark that fails is recorded, and the others go on.
func runAll(ctx context.Context, runs int, p sizes, stagesOnly bool) figures.Result {
	var c collector
	work, err := os.MkdirTemp("", "bench-report-")
	if err != nil {
		c.res.Errors = append(c.res.Errors, err.Error())
		return c.res
	}
	defer os.RemoveAll(work)
	tmp := filepath.Join(work, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		c.res.Errors = append(c.res.Errors, err.Error())
		return c.res
	}
	c.env = append(os.Environ(), "TMPDIR="+tmp)
	bin := func(name string) string { return filepath.Join(work, name) }
	log.Print("building the benchmark programs and pipeline-artifacts…")
	for _, name := range []string{"stages", "downloadbench", "remotezip", "serve"} {
		if err := goBuild(ctx, bin(name), "./bench/"+name); err != nil {
			c.res.Errors = append(c.res.Errors, err.Error())
			return c.res
		}
	}
	binary := bin("pipeline-artifacts")
	if err := buildBinary(ctx, binary); err != nil {
		c.res.Errors = append(c.res.Errors, err.Error())
		return c.res
	}
	n := fmt.Sprint(runs)
	if stagesOnly {
		for i := range runs {
			if ctx.Err() != nil {
				break
			}
			log.Printf("run %d of %d: bench/stages…", i+1, runs)
			c.add(ctx, bin("stages"), append([]string{"-json"}, p.stages...)...)
		}
		return c.result()
	}
	if _, err := exec.LookPath("curl"); err != nil {
		c.res.Skip(curlSkipped, "skipped: curl is not installed (apt-get install -y curl)")
	} else {
		log.Printf("one download against curl (bench/downloadbench -vs-curl), %s…", plural(runs, "run"))
		c.add(ctx, bin("downloadbench"), append([]string{"-vs-curl", "-json", "-runs", n}, p.download...)...)
	}
	log.Printf("memory and parallel ranges (bench/downloadbench), %s…", plural(runs, "run"))
	c.add(ctx, bin("downloadbench"), append([]string{"-json", "-runs", n}, p.download...)...)
	log.Printf("one file out of a big archive (bench/remotezip), %s…", plural(runs, "run"))
	c.add(ctx, bin("remotezip"), append([]string{"-json", "-runs", n}, p.remotezip...)...)
	for i := range runs {
		if ctx.Err() != nil {
			break
		}
		log.Printf("run %d of %d: bench/stages…", i+1, runs)
		c.add(ctx, bin("stages"), append([]string{"-json"}, p.stages...)...)
		log.Printf("run %d of %d: bench/serve, one pipeline, then many…", i+1, runs)
		c.add(ctx, bin("serve"), append([]string{"-json", "-binary", binary}, p.serveOne...)...)
		c.add(ctx, bin("serve"), append([]string{"-json", "-binary", binary}, p.serveMany...)...)
		log.Printf("run %d of %d: extraction (go test -bench)…", i+1, runs)
		c.merge("extraction", extractBench(ctx, c.env, p.extract))
	}
	return c.result()
}

// curlSkipped stands for the comparison with curl when there is no curl.
var curlSkipped = figures.Figure{Key: "curl.ours.ratio", Section: figures.SectionCurl,
	Name: "ours, defaults ÷ `curl -sSf -o FILE` (wall time)", Unit: "×", Digits: 2, Target: figures.AtMost(1.10, "≤ 1.10×")}

// collector gathers the programs' figures run by run, and the notes of
// each program's last run.
type collector struct {
	env   []string // every program's environment: TMPDIR is the report's
	res   figures.Result
	notes map[string][]string
	order []string // programs with notes, in the order they first had them
}

// add runs a benchmark program whose stdout is a figures.Result; its
// stderr (progress) passes through. A failed program's figures still count.
func (c *collector) add(ctx context.Context, bin string, args ...string) {
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = c.env, &stdout, os.Stderr
	runErr := cmd.Run()
	var res figures.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || runErr != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), errors.Join(runErr, err)))
	}
	c.merge(filepath.Base(bin)+" "+strings.Join(args, " "), res)
}

func (c *collector) merge(program string, res figures.Result) {
	if len(res.Notes) > 0 {
		if c.notes == nil {
			c.notes = map[string][]string{}
		}
		if _, ok := c.notes[program]; !ok {
			c.order = append(c.order, program)
		}
		c.notes[program] = res.Notes
		res.Notes = nil
	}
	c.res.Merge(res)
}

// result is every figure, with the notes of every program's last run.
func (c *collector) result() figures.Result {
	for _, p := range c.order {
		c.res.Notes = append(c.res.Notes, c.notes[p]...)
	}
	return c.res
}

func goBuild(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// buildBinary builds pipeline-artifacts as README.md installs it.
func buildBinary(ctx context.Context, out string) error {
	cmd := figures.BuildBinary(ctx, out)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/pipeline-artifacts: %w", err)
	}
	return nil
}
