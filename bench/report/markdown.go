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

// area is one section of BENCHMARKS.md: the figures of one section key,
// each beside its peer and against its goal.
type area struct {
	section      string
	title, intro string
	after        func(io.Writer, *figures.Result) // more text after the table
}

var areas = []area{
	{figures.SectionStartup, "Start-up of every stage: `run` against the floors",
		"The `run` stage of the built binary, called the way gitlab-runner calls it (`examples/config.toml`), " +
			"against the floors of any stage driver written in Go — a minimal Go program that only runs bash on the " +
			"script, waits and passes the exit status on; the same with net/http linked; the same with the " +
			"Prometheus Go client linked as well — beside bare bash and an empty Go program " +
			"(`go run ./bench/stages`). These figures are information, with no target: " + whyNoRunTarget +
			" The one target here is that none of our packages does work at package initialisation.", runStageText},
	{figures.SectionResolve, "Resolving a pipeline; the config stage",
		"Listing a 1,000-job pipeline's jobs at 50 ms per request, and the `config` stage of the built binary on " +
			"loopback against the in-repo fake GitLab, in the same `go run ./bench/stages` run. The target is what " +
			"the code can reach on this machine, measured in the same run: the two round trips a listing needs " +
			"(the first page, then the other nine at once) plus the same listing without latency, which is the " +
			"fake's rendering and the client's decoding on these cores; the wall time may be at most 1.10× that. " +
			"The round trips and the `config` times are information.", nil},
	{figures.SectionListing, "One listing per pipeline per host",
		"The host cache of pipeline job lists, in the same `go run ./bench/stages` run: many `config` stages of " +
			"one pipeline started at once, and a cache hit against the payload-only path. The hit's target is what " +
			"this machine reaches for the same output in the same run: the payload-only path with all 99 siblings " +
			"declared, which writes the same variables without the API or the cache; a hit may cost at most 1.10× " +
			"that (one cache file read, and the noise of medians on 2 shared cores). Against the payload-only " +
			"path with 3 siblings, which writes a 33rd of the output, the ratio is information.", nil},
	{figures.SectionServe, "`serve`: a fleet's start-up burst",
		"`pipeline-artifacts serve` against the in-repo fake GitLab on loopback (`go run ./bench/serve`): 500 jobs " +
			"of one 1,000-job pipeline call `GET /v1/env` at once, each with its own job token; then 50 pipelines of " +
			"1,000 jobs, 10 callers each (`-pipelines 50 -callers 10`, 500 calls). The goal: GitLab sees one listing " +
			"per pipeline (10 pages of 100 jobs) and one token check per distinct job. Latency and memory have no " +
			"target; the fake GitLab and the callers share the cores with the service.", nil},
	{figures.SectionCurl, "One download against curl",
		"`pipeline-artifacts download` and curl fetching the same 1 GiB file from a Go server that sends it with " +
			"sendfile (`http.ServeContent` on an `*os.File`, as GitLab Workhorse and object stores do), each saving " +
			"it to a file; before every run the served file is dropped from the page cache, and curl and ours " +
			"alternate which goes first (`bash bench/download-vs-curl.sh`). The goal: the default download within " +
			"1.10× of curl's wall time, and with the SHA-256 checked (GitLab's ETag) within 1.10× of " +
			"`curl -o FILE && sha256sum FILE`. The ratios are taken within each run.", curlCPUText},
	{figures.SectionDownload, "Download: memory while extracting, parallel ranges",
		"`pipeline-artifacts download` against a loopback server in one process (`bash bench/download.sh`): peak " +
			"memory while downloading and extracting a 1 GiB zip, and 8 ranged streams against one when every " +
			"connection is capped at 25 MB/s, as object stores often cap them. The single stream with a warm page " +
			"cache is for reference; the comparison with curl that counts is the one above.", nil},
	{figures.SectionRemoteZip, "One file out of a big archive",
		"`download NAME --path FILE` reads one small file out of a 1 GiB zip of 10,000 small and 16 large entries " +
			"with HTTP Range requests (`artifacts/remotezip` through the real GitLab client), against the whole " +
			"archive with one plain GET, from a loopback server that answers Range requests with " +
			"`http.ServeContent` (`go run ./bench/remotezip`). The goal: at most 1% of the archive moved, and at " +
			"most 2 MiB.", nil},
	{figures.SectionExtract, "Extraction",
		"Extracting a zip of 10,000 files against Info-ZIP's `unzip` (`go test -run '^$' -bench " +
			"'Zip10k|Unzip10k' -benchtime 5x ./artifacts/extract/`).", nil},
}

// markdown renders BENCHMARKS.md.
func (s session) markdown() []byte {
	var w bytes.Buffer
	s.header(&w)
	for _, a := range areas {
		if old, ok := s.kept[a.title]; ok && !stagesSection(a.section) {
			w.WriteString(old)
			continue
		}
		fmt.Fprintf(&w, "## %s\n\n%s\n\n", a.title, a.intro)
		figures.WriteTable(&w, s.sectionFigures(a.section))
		if a.after != nil {
			a.after(&w, &s.res)
		}
		fmt.Fprintln(&w)
	}
	w.WriteString(method)
	writeList(&w, "## Notes from the last run", append(s.res.Notes, keptNotes(s.kept)...))
	writeList(&w, "## Benchmarks that failed", s.res.Errors)
	return w.Bytes()
}

func (s session) sectionFigures(section string) []figures.Figure {
	var out []figures.Figure
	for _, f := range s.res.Figures {
		if f.Section == section {
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
		"verdict judges the median against the figure's target and counts the single runs that met it.\n\n",
		plural(s.runs, "run"))
	if s.smoke {
		fmt.Fprint(w, "**SMOKE RUN** (`-smoke`): tiny sizes and few repetitions, to check that every benchmark runs "+
			"and reports. The figures mean nothing; run `bash bench/run.sh` for real ones.\n\n")
	}
	if s.kept != nil {
		fmt.Fprintf(w, "**Regenerated in part** (`-only stages`): only the sections of `go run ./bench/stages` "+
			"(start-up, resolving and config, the listing cache) were run on %s; the other sections, and their "+
			"notes, are kept as the last full run wrote them (its date and commit are not the ones below).\n\n",
			s.started.UTC().Format("2006-01-02 15:04 UTC"))
	}
	missed := keptMissed(s.kept)
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
	"RUNS=1 bash bench/run.sh   # about 5–6 minutes on 2 idle cores\n" +
	"RUNS=5 bash bench/run.sh   # more runs\n" +
	"```\n\n" +
	"It needs Go, bash, curl, sha256sum and unzip (without curl or unzip the comparison against it is skipped; " +
	"`apt-get install -y curl unzip`), Linux for the cold page cache, and about 3.5 GiB free under `$TMPDIR` " +
	"(the 1 GiB files are removed at the end). Everything runs on loopback. Each benchmark also runs alone and " +
	"prints one table: `go run ./bench/stages`, `go run ./bench/serve` (`-pipelines 50 -callers 10`), " +
	"`bash bench/download-vs-curl.sh`, `bash bench/download.sh`, `go run ./bench/remotezip` (these three take " +
	"`-size BYTES -runs N`), and the `go test -bench` line of the extraction.\n\n"

const method = "## How the figures are taken\n\n" +
	"- **Run stage**: `pipeline-artifacts run <script> build_script` with the runner's stage variables, " +
	"against the floor (a minimal Go wrapper that runs `bash <script>`) and `bash <script>` on the same script " +
	"(`true`), 200 runs of each after 10 warm-up rounds, interleaved in rotating order with `true`, an empty Go " +
	"program and `pipeline-artifacts var-name x`; one run's figure is the median of its 200. Every Go program is " +
	"built the same way (static, stripped). The runner-sized script exports 100 variables, like a generated " +
	"`build_script`.\n" +
	"- **Resolve**: the client's pipeline-jobs listing against the fake GitLab delaying every request by 50 ms, " +
	"10 pages of 100 jobs, a new client per listing as every `config` process has; median of 10 listings.\n" +
	"- **Config**: the `config` stage of the built binary with a job payload (`JOB_RESPONSE_FILE`) and " +
	"`CUSTOM_ENV_*` as the runner composes them, 30 runs of each kind interleaved; median of 30.\n" +
	"- **Fan-out**: 24 `config` processes of one pipeline started at once with one shared cache directory; " +
	"the fake GitLab counts the pipeline-jobs listings it serves.\n" +
	"- **serve**: the service started fresh for each burst with `--cache-ttl 5m`; every caller sends one " +
	"`GET /v1/env` with its own job token, all released at once; latency is to the last byte of the answer; " +
	"peak RSS is the service's `VmHWM`, CPU time its user + system time, both from `/proc`.\n" +
	"- **Against curl**: one 1 GiB file of incompressible bytes; before every run the output file is removed " +
	"and the served file is written out and dropped from the page cache (`posix_fadvise(POSIX_FADV_DONTNEED)`, " +
	"which needs no root and leaves other processes' pages alone); wall time from start to exit, user and " +
	"system time of the client processes (`curl` plus `sha256sum` for the verified pair).\n" +
	"- **Memory, parallel ranges**: one loopback server (Go `net/http`, the 1 GiB zip sent with sendfile); peak " +
	"RSS is the download process's `ru_maxrss`; under the cap every response is paced to 25 MB/s, and every run writes a new file (as a job does: replacing the last run's 1 GiB file would make ext4 flush it before the rename).\n" +
	"- **One file out of a big archive**: bytes are the response bodies the server sent, counted in the server; " +
	"time is from opening the archive to the file's last byte, through a real GitLab client.\n" +
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
