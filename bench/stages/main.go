// Command stages benchmarks the custom-executor stages of the real
// pipeline-artifacts binary, the way gitlab-runner calls them, against the
// in-repo fake GitLab on loopback:
//
//	go run ./bench/stages
//
// It builds the binary (without -race), then measures the speed targets of
// issue 2 ("Speed") and issue 4 ("Measured") and prints one markdown table:
// the run stage's overhead over bash, resolving a 1,000-job pipeline at 50 ms
// per request, the config stage's median on loopback (API, payload only,
// cache hit), and how many pipeline-jobs listings GitLab sees when many
// config stages of one pipeline start at once. One run takes well under a
// minute on 2 cores once the build cache is warm.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

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
	rep     report
}

func main() {
	var p params
	flag.IntVar(&p.pairs, "pairs", 200, "run-stage runs of each kind (interleaved)")
	flag.IntVar(&p.resolveRuns, "resolve-runs", 10, "listings of the 1,000-job pipeline")
	flag.IntVar(&p.configRuns, "config-runs", 30, "config-stage runs of each kind (interleaved)")
	flag.IntVar(&p.fanout, "fanout", 24, "config stages of one pipeline started at once")
	flag.Parse()
	if p.pairs < 1 || p.resolveRuns < 1 || p.configRuns < 1 || p.fanout < 1 || p.fanout >= configJobs {
		fmt.Fprintf(os.Stderr, "bench/stages: run counts must be at least 1, and -fanout below %d\n", configJobs)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, p); err != nil {
		fmt.Fprintln(os.Stderr, "bench/stages:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, p params) error {
	b := &bench{params: p, environ: runnerEnviron()}
	if err := b.setup(ctx); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	fmt.Println(machine())
	fmt.Println()
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
			b.rep.add(s.name, "error (see stderr)", "", "ERROR")
		}
		if ctx.Err() != nil {
			break
		}
	}
	b.rep.print(os.Stdout)
	return errors.Join(errs...)
}

// setup builds the binary and registers it as examples/config.toml's
// custom executor.
func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.root, err = repoRoot(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "pa-bench-stages"); err != nil {
		return err
	}
	b.binary = filepath.Join(b.tmp, "bin", "pipeline-artifacts")
	fmt.Fprintln(os.Stderr, "bench/stages: building pipeline-artifacts…")
	build := exec.CommandContext(ctx, "go", "build", "-o", b.binary, "./cmd/pipeline-artifacts")
	build.Dir, build.Stdout, build.Stderr = b.root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(b.tmp)
		return fmt.Errorf("go build: %w", err)
	}
	runners, err := runnersim.LoadConfig(filepath.Join(b.root, "examples", "config.toml"),
		map[string]string{"/usr/local/bin/pipeline-artifacts": b.binary})
	if err != nil || len(runners) == 0 {
		os.RemoveAll(b.tmp)
		return errors.Join(errors.New("examples/config.toml has no custom runner"), err)
	}
	b.driver = runners[0].Custom
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

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark from inside the pipeline-artifacts repository")
		}
		dir = parent
	}
}

// machine describes where the figures were taken.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load := "?"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return fmt.Sprintf("machine: %d CPUs (nproc), %s, %s %s/%s; load average %s",
		runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}
