// Command serve measures `pipeline-artifacts serve` under a fleet's start-up
// burst, on loopback: many jobs call GET /v1/env at once, each with its own
// job token, against a fake GitLab. It prints p50/p99 latency, the service's
// peak RSS, and what GitLab saw: the goal is one listing of each pipeline
// (10 pages of 100 jobs) and one token check per distinct job, however many
// calls come at once. Run it from the repository root:
//
//	go run ./bench/serve                           # 1 pipeline of 1,000 jobs, 500 callers
//	go run ./bench/serve -pipelines 50 -callers 10 # 50 pipelines, 500 callers in all
//	go run ./bench/serve -json                     # the figures for bench/report
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const projectID = 42

func main() {
	pipelines := flag.Int("pipelines", 1, "pipelines asking at once")
	jobs := flag.Int("jobs", 1000, "jobs per pipeline")
	callers := flag.Int("callers", 500, "jobs per pipeline that call /v1/env at once")
	binary := flag.String("binary", "", "pipeline-artifacts to run (default: build ./cmd/pipeline-artifacts as README.md installs it)")
	asJSON := flag.Bool("json", false, "print the figures as JSON (for bench/report) instead of a table")
	flag.Parse()
	rep, err := run(*pipelines, *jobs, *callers, *binary)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/serve:", err)
		rep.Errors = append(rep.Errors, "bench/serve: "+err.Error())
	}
	if *asJSON {
		if err := rep.WriteJSON(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench/serve:", err)
		}
	} else {
		figures.WriteTable(os.Stdout, rep.Figures)
	}
	if len(rep.Errors) > 0 || slices.ContainsFunc(rep.Figures, figures.Figure.Missed) {
		os.Exit(1)
	}
}

func run(pipelines, jobs, callers int, binary string) (figures.Result, error) {
	if pipelines < 1 || callers < 1 || callers > jobs {
		return figures.Result{}, errors.New("-pipelines and -callers must be at least 1, and -callers must not exceed -jobs")
	}
	if binary == "" {
		dir, err := os.MkdirTemp("", "bench-serve")
		if err != nil {
			return figures.Result{}, err
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "pipeline-artifacts")
		fmt.Fprintln(os.Stderr, "bench/serve: building pipeline-artifacts…")
		build := figures.BuildBinary(context.Background(), binary)
		if out, err := build.CombinedOutput(); err != nil {
			return figures.Result{}, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	gl, stop, err := startGitLab()
	if err != nil {
		return figures.Result{}, err
	}
	defer stop()
	tokens := seed(gl, pipelines, jobs, callers)
	svc, err := startService(binary, gl.URL)
	if err != nil {
		return figures.Result{}, err
	}
	defer svc.stop()
	lat, wall, failed := burst(svc.url, tokens)
	slices.Sort(lat)
	m := measured{pipelines: pipelines, jobs: jobs, calls: len(tokens), lat: lat, wall: wall, failed: failed,
		rssKiB: peakRSSKiB(svc.cmd.Process.Pid), cpu: cpuTime(svc.cmd.Process.Pid),
		pages: gl.Count(gitlabtest.RouteJobs), bridges: gl.Count(gitlabtest.RouteBridges), checks: gl.Count(gitlabtest.RouteJob)}
	fmt.Fprintf(os.Stderr, "bench/serve: %d pipeline(s) of %d jobs, %d calls at once: p50 %s, p99 %s, %d failed; "+
		"GitLab saw %d job-list pages, %d bridges listings, %d token checks\n",
		pipelines, jobs, len(tokens), pct(lat, 50), pct(lat, 99), failed, m.pages, m.bridges, m.checks)
	return m.figures(), nil
}

func startGitLab() (*gitlabtest.Server, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	gl := gitlabtest.New()
	gl.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: gl, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return gl, func() { gl.Close(); _ = srv.Close() }, nil
}

// seed adds the pipelines; the first callers jobs of each run and ask.
func seed(gl *gitlabtest.Server, pipelines, jobs, callers int) []string {
	gl.AddProject(projectID)
	var tokens []string
	for p := range pipelines {
		pid := int64(7001 + p)
		gl.AddPipeline(projectID, pid)
		for i := range jobs {
			spec := gitlabtest.JobSpec{Name: fmt.Sprintf("job %04d", i)}
			if i < callers {
				spec.Token = fmt.Sprintf("glcbt-bench-%d-%04d", pid, i)
				tokens = append(tokens, spec.Token)
			}
			gl.AddJob(projectID, pid, spec)
		}
	}
	return tokens
}

type service struct {
	url string
	cmd *exec.Cmd
}

func startService(binary, gitlabURL string) (*service, error) {
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--gitlab-url", gitlabURL, "--cache-ttl", "5m", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return &service{url: "http://" + line.Addr, cmd: cmd}, nil
		}
	}
	_ = cmd.Process.Kill()
	return nil, errors.New("serve exited before listening")
}

func (s *service) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// burst sends one GET /v1/env per token, all at once, and returns each
// call's latency (to the last byte).
func burst(url string, tokens []string) ([]time.Duration, time.Duration, int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(tokens)}, Timeout: 2 * time.Minute}
	lat := make([]time.Duration, len(tokens))
	var failed int
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tok := range tokens {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			ok := call(client, url, tok)
			lat[i] = time.Since(t0)
			if !ok {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	return lat, time.Since(t0), failed
}

func call(client *http.Client, url, token string) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/v1/env", nil)
	if err != nil {
		return false
	}
	req.Header.Set("JOB-TOKEN", token)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100].Round(100 * time.Microsecond)
}

// peakRSSKiB reads the process's high-water mark from Linux /proc; it is
// -1 where there is none.
func peakRSSKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			if kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
				return kib
			}
		}
	}
	return -1
}

// cpuTime reads the process's user+system CPU time from Linux /proc; it is
// -1 where there is none. USER_HZ is 100 on every Linux the bench runs on.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
