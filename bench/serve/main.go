// Command serve measures `pipeline-artifacts serve` under a fleet's start-up
// burst, on loopback: many jobs call GET /v1/env at once, each with its own
// job token, against a fake GitLab. It prints p50/p99 latency, the service's
// peak RSS, and what GitLab saw.
//
//	go run ./bench/serve                      # 1 pipeline of 1,000 jobs, 500 callers
//	go run ./bench/serve -pipelines 50 -callers 10
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
	"strings"
	"sync"
	"syscall"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const projectID = 42

func main() {
	pipelines := flag.Int("pipelines", 1, "pipelines asking at once")
	jobs := flag.Int("jobs", 1000, "jobs per pipeline")
	callers := flag.Int("callers", 500, "jobs per pipeline that call /v1/env at once")
	binary := flag.String("binary", "", "pipeline-artifacts to run (default: go build ./cmd/pipeline-artifacts)")
	flag.Parse()
	if err := run(*pipelines, *jobs, *callers, *binary); err != nil {
		fmt.Fprintln(os.Stderr, "bench/serve:", err)
		os.Exit(1)
	}
}

func run(pipelines, jobs, callers int, binary string) error {
	if callers > jobs {
		return errors.New("-callers must not exceed -jobs")
	}
	if binary == "" {
		dir, err := os.MkdirTemp("", "bench-serve")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "pipeline-artifacts")
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/pipeline-artifacts").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	gl, stop, err := startGitLab()
	if err != nil {
		return err
	}
	defer stop()
	tokens := seed(gl, pipelines, jobs, callers)
	svc, err := startService(binary, gl.URL)
	if err != nil {
		return err
	}
	defer svc.stop()
	lat, wall, failed := burst(svc.url, tokens)
	slices.Sort(lat)
	fmt.Printf("pipelines=%d jobs/pipeline=%d concurrent callers=%d\n", pipelines, jobs, len(tokens))
	fmt.Printf("latency p50=%s p99=%s max=%s wall=%s failed=%d\n", pct(lat, 50), pct(lat, 99), lat[len(lat)-1], wall.Round(time.Millisecond), failed)
	fmt.Printf("service peak RSS=%s CPU=%s (the rest of the wall time is the fake GitLab and the callers on the same cores)\n",
		peakRSS(svc.cmd.Process.Pid), cpuTime(svc.cmd.Process.Pid))
	fmt.Printf("GitLab saw: %d job-list pages, %d bridges calls, %d token checks (GET /job)\n",
		gl.Count(gitlabtest.RouteJobs), gl.Count(gitlabtest.RouteBridges), gl.Count(gitlabtest.RouteJob))
	return nil
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

// peakRSS reads the process's high-water mark (Linux /proc; "unknown" elsewhere).
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// cpuTime reads the process's user+system CPU time (Linux /proc; "unknown"
// elsewhere). USER_HZ is 100 on every Linux the bench runs on.
func cpuTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "unknown"
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 13 {
		return "unknown"
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return (time.Duration(utime+stime) * 10 * time.Millisecond).String()
}
