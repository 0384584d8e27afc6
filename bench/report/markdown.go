package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// area is one section of BENCHMARKS.md: the figures of one issue.
type area struct {
	issue        int
	title, intro string
	after        func(io.Writer, *figures.Result) // more text after the table
}

var areas = []area{
	{2, "Issue 2 — the spine: run stage, resolution, config",
		"The custom-executor stages of the built binary, called the way gitlab-runner calls them " +
			"(`examples/config.toml`), against the in-repo fake GitLab on loopback (`go run ./bench/stages`). " +
			"For `config` on a 100-job pipeline the issue asks for the median only.", runStageText},
	{3, "Issue 3 — the downloader",
		"`pipeline-artifacts download` against a loopback HTTP server in one process (`bash bench/download.sh`), " +
			"and extraction against Info-ZIP's `unzip` (`go test -run '^$' -bench 'Zip10k|Unzip10k' -benchtime 5x " +
			"./artifacts/extract/`).", nil},
	{4, "Issue 4 — one listing per pipeline per host",
		"The host cache of pipeline job lists, in the same `go run ./bench/stages` run as issue 2.", nil},
}

// markdown renders BENCHMARKS.md.
func (s session) markdown() []byte {
	var w bytes.Buffer
	s.header(&w)
	for _, a := range areas {
		fmt.Fprintf(&w, "## %s\n\n%s\n\n", a.title, a.intro)
		figures.WriteTable(&w, s.issueFigures(a.issue))
		if a.after != nil {
			a.after(&w, &s.res)
		}
		fmt.Fprintln(&w)
	}
	w.WriteString(method)
	writeList(&w, "## Notes from the last run", s.res.Notes)
	writeList(&w, "## Benchmarks that failed", s.res.Errors)
	return w.Bytes()
}

func (s session) issueFigures(issue int) []figures.Figure {
	var out []figures.Figure
	for _, f := range s.res.Figures {
		if f.Issue == issue {
			out = append(out, f)
		}
	}
	return out
}

// header writes the title, the missed targets, the machine and how to
// reproduce.
func (s session) header(w io.Writer) {
	fmt.Fprintf(w, "# Benchmarks\n\nWritten by `bash bench/run.sh`; do not edit by hand, run it again. Every figure "+
		"is the median over %s of the whole benchmark, with the lowest and the highest run beside it; the "+
		"verdict judges the median against the issue's target and counts the single runs that met it.\n\n",
		plural(s.runs, "run"))
	var missed []string
	for _, f := range s.res.Figures {
		if f.Missed() {
			missed = append(missed, fmt.Sprintf("%s — %s against %s", f.Name, f.Format(f.Median()), f.Target.Text))
		}
	}
	if len(missed) == 0 {
		missed = []string{"none"}
	}
	fmt.Fprintf(w, "**Targets missed (median):**\n\n- %s\n\n", strings.Join(missed, "\n- "))
	s.machineTable(w)
	fmt.Fprintf(w, reproduce, plural(s.runs, "run"), s.took.Round(time.Second))
}

func (s session) machineTable(w io.Writer) {
	m := s.machine
	busy := ""
	if load, err := strconv.ParseFloat(strings.Fields(m.Load)[0], 64); err == nil && load >= 0.5*float64(m.CPUs) {
		busy = " — other work was running: timings are slower and noisier than on an idle machine"
	}
	rows := [][2]string{
		{"CPUs (nproc)", fmt.Sprint(m.CPUs)}, {"CPU", m.Model}, {"memory", m.Memory}, {"kernel", m.Kernel},
		{"Go", m.Go}, {"load average at start (1, 5, 15 min)", m.Load + busy},
		{"load average at end", figures.LoadAverage()},
		{"date", s.started.UTC().Format("2006-01-02 15:04 UTC")}, {"commit", commit()},
		{"runs", fmt.Sprint(s.runs)}, {"took", s.took.Round(time.Second).String()},
	}
	fmt.Fprintln(w, "## Machine\n\n| | |\n|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |\n", r[0], r[1])
	}
	fmt.Fprintln(w)
}

// commit names the checked-out commit, and says so when the working tree
// differs from it.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

const reproduce = "## Reproduce\n\n" +
	"```sh\n" +
	"bash bench/run.sh          # 3 runs by default; this one was %s and took %s\n" +
	"RUNS=5 bash bench/run.sh   # more runs\n" +
	"```\n\n" +
	"It needs Go, bash, curl and unzip (without curl or unzip the comparison against it is skipped; " +
	"`apt-get install -y curl unzip`), and about 2 GiB free under `$TMPDIR`. Everything runs on loopback. " +
	"Each benchmark also runs alone and prints one table: `go run ./bench/stages`, `bash bench/download.sh` " +
	"(`-runs N`, medians), and the `go test -bench` line above.\n\n"

const method = "## How the figures are taken\n\n" +
	"- **Run stage**: `pipeline-artifacts run <script> build_script` with the runner's stage variables, " +
	"against `bash <script>` on the same script (`true`), 200 runs of each after 10 warm-up rounds, interleaved " +
	"in rotating order with `true`, an empty Go program and `pipeline-artifacts var-name x`; one run's figure " +
	"is the median of its 200. The runner-sized script exports 100 variables, like a generated `build_script`.\n" +
	"- **Resolve**: the client's pipeline-jobs listing against the fake GitLab delaying every request by 50 ms, " +
	"10 pages of 100 jobs, a new client per listing as every `config` process has; median of 10 listings.\n" +
	"- **Config**: the `config` stage of the built binary with a job payload (`JOB_RESPONSE_FILE`) and " +
	"`CUSTOM_ENV_*` as the runner composes them, 30 runs of each kind interleaved; median of 30.\n" +
	"- **Fan-out**: 24 `config` processes of one pipeline started at once with one shared cache directory; " +
	"the fake GitLab counts the pipeline-jobs listings it serves.\n" +
	"- **Download**: one loopback server (Go `net/http`, the 1 GiB zip sent with sendfile); `curl -sSf -o` " +
	"and `download --parallel 1 -o`, alternating which goes first; peak RSS is the download process's " +
	"`ru_maxrss`; under the cap every response is paced to 25 MB/s.\n" +
	"- **Extraction**: `BenchmarkExtractZip10k` and `BenchmarkUnzip10k` " +
	"(`artifacts/extract/extract_bench_test.go`) on the same zip of 10,000 deflated text files of 1–7 KiB in " +
	"100 directories, 5 extractions each per run into a fresh directory, removal outside the timer.\n" +
	"- **Ratios** are taken within one run, whose two sides ran seconds apart, and their median over the " +
	"runs is shown — not the ratio of the medians.\n\n"

func writeList(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "%s\n\n", title)
	for _, l := range lines {
		fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(strings.TrimSpace(l), "\n", "\n  "))
	}
	fmt.Fprintln(w)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
