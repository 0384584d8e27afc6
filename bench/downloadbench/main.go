// Command downloadbench measures `pipeline-artifacts download` against one
// loopback server in one run (issue 3's speed and memory targets):
//
//   - single-stream throughput of a 1 GiB artifact (a file the server sends
//     with sendfile), against curl's;
//   - peak RSS while downloading and extracting a 1 GiB zip;
//   - parallel ranges (8 streams) against one stream, with every
//     connection capped at 25 MB/s, as object stores often do.
//
// It builds the binary, serves generated data (a 1 MiB pseudo-random block
// repeated, so nothing compresses and the server needs no 1 GiB of memory;
// the zip is written once to a temporary directory) and prints the figures.
// Run it with bench/download.sh; it is not part of go test.
package main

import (
	"archive/zip"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	size := flag.Int64("size", 1<<30, "bytes of the artifact")
	capRate := flag.Int("cap", 25_000_000, "bytes per second per connection for the throttled runs")
	runs := flag.Int("runs", 3, "runs of each unthrottled measurement (the best counts)")
	flag.Parse()
	log.SetFlags(0)
	work, err := os.MkdirTemp("", "downloadbench-")
	check(err)
	defer os.RemoveAll(work)
	bin := build(work)
	zipPath := writeZip(work, *size)
	base := serve(*size, zipPath, *capRate)
	b := &bench{bin: bin, work: work, base: base, runs: *runs}
	b.throughput(*size)
	b.memory()
	b.parallel(*size)
	b.report()
}

type bench struct {
	bin, work, base string
	runs            int
	lines           []string
	failed          bool
}

func (b *bench) throughput(size int64) {
	// The zip is a file, which the server sends with sendfile: the
	// client, not the server, is what this measures.
	url := b.base + "/api/v4/projects/1/jobs/2/artifacts"
	out := filepath.Join(b.work, "out.bin")
	curl := b.best(func() time.Duration { return timed(exec.Command("curl", "-sSf", "-o", out, url)) })
	ours := b.best(func() time.Duration {
		return timed(b.cmd("download", "--url", url, "-o", out, "--parallel", "1", "-q"))
	})
	par := b.best(func() time.Duration { return timed(b.cmd("download", "--url", url, "-o", out, "-q")) })
	b.add("single stream, %s: curl %s, ours %s → %.2f× curl (target ≥ 1.0×)", human(size), rate(size, curl), rate(size, ours), curl.Seconds()/ours.Seconds())
	b.target(curl.Seconds()/ours.Seconds() >= 1.0)
	b.add("default (8 ranged streams) on loopback: %s", rate(size, par))
}

func (b *bench) memory() {
	dest := filepath.Join(b.work, "dest")
	cmd := b.cmd("download", "--url", b.base+"/api/v4/projects/1/jobs/2/artifacts", "--dest", dest, "-q")
	d := timed(cmd)
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	b.add("download + extract of a 1 GiB zip in %s: peak RSS %.1f MiB (target ≤ 40 MiB)", d.Round(time.Millisecond), float64(rss)/1024)
	b.target(rss <= 40*1024)
	check(os.RemoveAll(dest))
}

func (b *bench) parallel(size int64) {
	url := b.base + "/throttled/api/v4/projects/1/jobs/1/artifacts"
	out := filepath.Join(b.work, "out.bin")
	one := timed(b.cmd("download", "--url", url, "-o", out, "--parallel", "1", "-q"))
	eight := timed(b.cmd("download", "--url", url, "-o", out, "--parallel", "8", "-q"))
	b.add("25 MB/s per connection: 1 stream %s, 8 streams %s → %.2f× (target ≥ 6×)", rate(size, one), rate(size, eight), one.Seconds()/eight.Seconds())
	b.target(one.Seconds()/eight.Seconds() >= 6)
}

func (b *bench) best(run func() time.Duration) time.Duration {
	best := time.Duration(1 << 62)
	for range b.runs {
		best = min(best, run())
	}
	return best
}

func (b *bench) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(b.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")} // no CI_* or tokens
	cmd.Stderr = os.Stderr
	return cmd
}

func (b *bench) add(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	fmt.Println(line)
	b.lines = append(b.lines, line)
}

func (b *bench) target(ok bool) {
	if !ok {
		b.failed = true
		b.lines[len(b.lines)-1] += "  MISSED"
	}
}

func (b *bench) report() {
	fmt.Println("\nsummary:")
	for _, l := range b.lines {
		fmt.Println("  " + l)
	}
	if b.failed {
		os.Exit(1)
	}
}

func timed(cmd *exec.Cmd) time.Duration {
	start := time.Now()
	check(cmd.Run())
	return time.Since(start)
}

func build(work string) string {
	bin := filepath.Join(work, "pipeline-artifacts")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/pipeline-artifacts")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	check(cmd.Run())
	return bin
}

// block is 1 MiB of pseudo-random bytes, the same in every run.
var block = func() []byte {
	r := rand.New(rand.NewChaCha8([32]byte{42}))
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// repeated is size bytes of block over and over, readable at any offset.
type repeated struct{ size int64 }

func (r repeated) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-off)]
	n := 0
	for n < len(p) {
		n += copy(p[n:], block[(off+int64(n))%int64(len(block)):])
	}
	if off+int64(n) == r.size {
		return n, io.EOF
	}
	return n, nil
}

// writeZip writes a zip of about size bytes: 64 stored files of random data,
// the shape of a build output that does not compress.
func writeZip(work string, size int64) string {
	p := filepath.Join(work, "artifacts.zip")
	f, err := os.Create(p)
	check(err)
	zw := zip.NewWriter(f)
	per := size / 64
	for i := range 64 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("dist/part-%02d.bin", i), Method: zip.Store})
		check(err)
		_, err = io.Copy(w, io.NewSectionReader(repeated{size: per}, 0, per))
		check(err)
	}
	check(zw.Close())
	check(f.Close())
	return p
}

// serve starts the loopback server: job 1 is the generated blob, job 2 the
// zip; under /throttled/ every response is paced to capRate bytes/s.
func serve(size int64, zipPath string, capRate int) string {
	mux := http.NewServeMux()
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	blob := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"blob-`+strconv.FormatInt(size, 10)+`"`)
		http.ServeContent(w, r, "artifacts.bin", mtime, io.NewSectionReader(repeated{size: size}, 0, size))
	}
	mux.HandleFunc("GET /api/v4/projects/1/jobs/1/artifacts", blob)
	mux.HandleFunc("GET /throttled/api/v4/projects/1/jobs/1/artifacts", func(w http.ResponseWriter, r *http.Request) {
		blob(&paced{ResponseWriter: w, rate: capRate}, r)
	})
	mux.HandleFunc("GET /api/v4/projects/1/jobs/2/artifacts", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"zip"`)
		http.ServeFile(w, r, zipPath)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	srv := &http.Server{Handler: mux, BaseContext: func(net.Listener) context.Context { return context.Background() }}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String()
}

// paced sends at most rate bytes per second since its first write, in
// slices of about 50 ms.
type paced struct {
	http.ResponseWriter
	rate  int
	start time.Time
	sent  int
}

func (p *paced) Write(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	written := 0
	for len(b) > 0 {
		time.Sleep(time.Until(p.start.Add(time.Duration(float64(p.sent) / float64(p.rate) * float64(time.Second)))))
		c := min(len(b), p.rate/20)
		n, err := p.ResponseWriter.Write(b[:c])
		written, p.sent, b = written+n, p.sent+n, b[n:]
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func rate(size int64, d time.Duration) string {
	return fmt.Sprintf("%.0f MB/s (%s)", float64(size)/d.Seconds()/1e6, d.Round(time.Millisecond))
}

func human(n int64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
