// Command stages benchmarks the custom-executor stages of the real
// pipeline-artifacts binary, the way gitlab-runner calls them, against the
// in-repo fake GitLab on loopback. Run it from the repository root:
//
//	go run ./bench/stages        # a markdown table
//	go run ./bench/stages -json  # the figures for bench/report
//
// It builds the binary (without -race), then measures: the run stage against
// the floor of any Go wrapper (a minimal one that only runs bash) and what
// its cost is made of, resolving a 1,000-job pipeline at 50 ms per
// request, the config stage's median on loopback (API, payload only, cache
// hit), and how many pipeline-jobs listings GitLab sees when many config
// stages of one pipeline start at once. One run takes well under a minute
// on 2 cores once the build cache is warm; bench/run.sh repeats it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// params are the run counts; the defaults keep one run under a minute.
type params struct {
	pairs       int // run-stage runs of each kind
	resolveRuns int
	configRuns  int // config-stage runs of each kind
	fanout      int // config stages started at once
}

// bench is one benchmark run in a scratch directory.
type bench struct {
	params
	root, tmp, binary string
	driver            runnersim.Custom
	// environ is the runner process's environment, without settings of
	// ours that would skew the figures.
	environ []string
	rep     figures.Result
}

func main() {
	var p params
	flag.IntVar(&p.pairs, "pairs", 200, "run-stage runs of each kind (interleaved)")
	flag.IntVar(&p.resolveRuns, "resolve-runs", 10, "listings of the 1,000-job pipeline")
	flag.IntVar(&p.configRuns, "config-runs", 30, "config-stage runs of each kind (interleaved)")
	flag.IntVar(&p.fanout, "fanout", 24, "config stages of one pipeline started at once")
	asJSON := flag.Bool("json", false, "print the figures as JSON (for bench/report) instead of a table")
	flag.Parse()
	if p.pairs < 1 || p.resolveRuns < 1 || p.configRuns < 1 || p.fanout < 1 || p.fanout >= configJobs {
		fmt.Fprintf(os.Stderr, "bench/stages: run counts must be at least 1, and -fanout below %d\n", configJobs)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, p, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "bench/stages:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, p params, asJSON bool) error {
	b := &bench{params: p, environ: runnerEnviron()}
	if err := b.setup(ctx); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	sections := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"run stage", b.runStage},
		{"resolve", b.resolve},
		{"config stage", b.configStage},
		{"fan-out", b.fanOut},
	}
	var errs []error
	for _, s := range sections {
		fmt.Fprintf(os.Stderr, "bench/stages: %s…\n", s.name)
		if err := s.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
			b.rep.Errors = append(b.rep.Errors, fmt.Sprintf("bench/stages: %s: %v", s.name, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if asJSON {
		errs = append(errs, b.rep.WriteJSON(os.Stdout))
	} else {
		b.printTable()
	}
	return errors.Join(errs...)
}

// printTable prints the machine, the figures and the notes for a person.
func (b *bench) printTable() {
	fmt.Printf("machine: %s\n\n", figures.ReadMachine())
	figures.WriteTable(os.Stdout, b.rep.Figures)
	fmt.Println()
	for _, n := range b.rep.Notes {
		fmt.Println("- " + n)
	}
}

// setup builds the binary and registers it as examples/config.toml's
// custom executor.
func (b *bench) setup(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join("cmd", "pipeline-artifacts")); err != nil {
		return errors.New("run from the repository root (bash bench/run.sh does)")
	}
	var err error
	if b.root, err = os.Getwd(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "pa-bench-stages"); err != nil {
		return err
	}
	b.binary = filepath.Join(b.tmp, "bin", "pipeline-artifacts")
	fmt.Fprintln(os.Stderr, "bench/stages: building pipeline-artifacts…")
	build := figures.BuildBinary(ctx, b.binary)
	build.Dir, build.Stdout, build.Stderr = b.root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(b.tmp)
		return fmt.Errorf("go build: %w", err)
	}
	if b.driver, err = runnersim.LoadDriver(filepath.Join(b.root, "examples", "config.toml"), b.binary, nil); err != nil {
		os.RemoveAll(b.tmp)
		return err
	}
	return nil
}

// runnerEnviron is our environment without PIPELINE_ARTIFACTS_* settings,
// which would change what the stages do.
func runnerEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIPELINE_ARTIFACTS_") {
			env = append(env, kv)
		}
	}
	return env
}
