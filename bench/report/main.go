// Command report runs every benchmark of the project several times and
// writes BENCHMARKS.md: each figure's median over the runs with its range,
// the target and a verdict, the machine, and how to reproduce.
// bench/run.sh runs it from the repository root:
//
//	go run ./bench/report -runs 3 -out BENCHMARKS.md
//
// The benchmarks are bench/downloadbench (issue 3), which takes -runs itself
// so that its 1 GiB zip is written once, then bench/stages (issues 2 and 4)
// and the extraction benchmarks of artifacts/extract (issue 3), once per
// run. Each hands over its figures as JSON (-json); go test
// reports in the standard benchmark format.
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
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

func main() {
	runs := flag.Int("runs", 3, "runs of every benchmark; the tables show medians over them")
	out := flag.String("out", "BENCHMARKS.md", "the file to write")
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
	s := session{started: time.Now(), machine: figures.ReadMachine(), runs: *runs}
	s.res = runAll(ctx, *runs)
	s.took = time.Since(s.started)
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
	res     figures.Result
}

// runAll builds the benchmark programs and runs every benchmark runs
// times; a benchmark that fails is recorded, and the others go on.
func runAll(ctx context.Context, runs int) figures.Result {
	var res figures.Result
	bin, err := os.MkdirTemp("", "bench-report-")
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		return res
	}
	defer os.RemoveAll(bin)
	stages, download := filepath.Join(bin, "stages"), filepath.Join(bin, "downloadbench")
	for _, p := range [][2]string{{stages, "./bench/stages"}, {download, "./bench/downloadbench"}} {
		if err := goBuild(ctx, p[0], p[1]); err != nil {
			res.Errors = append(res.Errors, err.Error())
			return res
		}
	}
	log.Printf("bench/downloadbench, %s…", plural(runs, "run"))
	res.Merge(runJSON(ctx, download, "-json", "-runs", fmt.Sprint(runs)))
	for i := range runs {
		log.Printf("run %d of %d: bench/stages…", i+1, runs)
		res.Merge(runJSON(ctx, stages, "-json"))
		log.Printf("run %d of %d: extraction (go test -bench)…", i+1, runs)
		res.Merge(extractBench(ctx))
		if ctx.Err() != nil {
			break
		}
	}
	return res
}

func goBuild(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// runJSON runs a benchmark program whose stdout is a figures.Result; its
// stderr (progress) passes through. A failed program's figures still count.
func runJSON(ctx context.Context, bin string, args ...string) figures.Result {
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	runErr := cmd.Run()
	var res figures.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || runErr != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", filepath.Base(bin), errors.Join(runErr, err)))
	}
	return res
}
