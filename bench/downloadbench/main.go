// Command downloadbench measures `pipeline-artifacts download` against one
// loopback server in one run, for speed and memory:
//
//   - single-stream throughput of a 1 GiB artifact (a file the server sends
//     with sendfile) with a warm page cache, against curl's, for reference
//     (-vs-curl is the comparison that counts: cold cache, see vscurl.go);
//   - peak RSS while downloading and extracting a 1 GiB zip;
//   - parallel ranges (8 streams) against one stream, with every
//     connection capped at 25 MB/s, as object stores often do.
//
// It builds the binary, serves generated data (a 1 MiB pseudo-random block
// repeated, so nothing compresses and the server needs no 1 GiB of memory;
// the zip is written once to a temporary directory), measures everything
// -runs times and prints each figure's median over the runs: a markdown
// table (exit 1 when a median misses its target), or with -json the figures
// for bench/report. Run it from the repository root, as bench/download.sh
// and bench/run.sh do; it is not part of go test.
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
	"slices"
	"strconv"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

func main() {
	size := flag.Int64("size", 1<<30, "bytes of the artifact")
	capRate := flag.Int("cap", 25_000_000, "bytes per second per connection for the throttled runs")
	runs := flag.Int("runs", 3, "runs of every measurement; the median counts")
	asJSON := flag.Bool("json", false, "print the figures as JSON (for bench/report) instead of a table")
	againstCurl := flag.Bool("vs-curl", false, "only compare with curl the way a user's download runs: sendfile server, file output, cold page cache (see vscurl.go)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("downloadbench: ")
	if *againstCurl {
		vsCurl(*size, *runs, *asJSON)
		return
	}
	if *runs < 1 {
		log.Fatal("-runs must be at least 1")
	}
	work, err := os.MkdirTemp("", "downloadbench-")
	check(err)
	defer os.RemoveAll(work)
	bin := build(work)
	zipPath := writeZip(work, *size)
	base := serve(*size, zipPath, *capRate)
	b := &bench{bin: bin, work: work, base: base, size: *size}
	b.curl, _ = exec.LookPath("curl")
	b.warmUp()
	for i := range *runs {
		log.Printf("run %d of %d…", i+1, *runs)
		b.throughput(i%2 == 1)
		b.memory()
		b.parallel()
	}
	if *asJSON {
		check(b.rep.WriteJSON(os.Stdout))
		return
	}
	figures.WriteTable(os.Stdout, b.rep.Figures)
	if slices.ContainsFunc(b.rep.Figures, figures.Figure.Missed) {
		os.Exit(1)
	}
}

type bench struct {
	bin, work, base string
	curl            string // empty when curl is not installed
	size            int64
	rep             figures.Result
}

// figure is a figure of the downloader's section.
func figure(key, name, unit string, digits int, target *figures.Target) figures.Figure {
	return figures.Figure{Key: key, Section: figures.SectionDownload, Name: name, Unit: unit, Digits: digits, Target: target}
}

// throughput compares one stream of ours with curl, in alternating order
// from run to run, and times the default (parallel ranges) on loopback.
func (b *bench) throughput(oursFirst bool) {
	// The zip is a file, which the server sends with sendfile: the
	// client, not the server, is what this measures.
	url := b.base + "/api/v4/projects/1/jobs/2/artifacts"
	out := filepath.Join(b.work, "out.bin")
	name := fmt.Sprintf("single stream, %s zip, warm page cache", human(b.size))
	curlFig := figure("download.curl", name+": curl", "MB/s", 0, nil)
	oursFig := figure("download.ours", name+": `pipeline-artifacts download --parallel 1`", "MB/s", 0, nil)
	ratioFig := figure("download.ratio", name+": ours ÷ curl (speed)", "×", 2, nil)
	ours := func() time.Duration {
		_ = os.Remove(out) // neither client pays for freeing the other's file
		return timed(b.cmd("download", "--url", url, "-o", out, "--parallel", "1", "-q"))
	}
	if b.curl == "" {
		why := "skipped: curl is not installed (apt-get install -y curl)"
		b.rep.Skip(curlFig, why)
		b.rep.Add(oursFig, b.rate(ours()))
		b.rep.Skip(ratioFig, why)
	} else {
		curl := func() time.Duration {
			_ = os.Remove(out)
			return timed(exec.Command(b.curl, "-sSf", "-o", out, url))
		}
		c, o := inOrder(oursFirst, curl, ours)
		b.rep.Add(curlFig, b.rate(c))
		b.rep.Add(oursFig, b.rate(o))
		b.rep.Add(ratioFig, c.Seconds()/o.Seconds())
		log.Printf("single stream: curl %.0f MB/s, ours %.0f MB/s", b.rate(c), b.rate(o))
	}
	_ = os.Remove(out)
	par := timed(b.cmd("download", "--url", url, "-o", out, "-q"))
	b.rep.Add(figure("download.default", name+": ours with defaults (one stream: GitLab sends it itself)", "MB/s", 0, nil), b.rate(par))
}

// inOrder runs x and y, y first when yFirst, and returns their times.
func inOrder(yFirst bool, x, y func() time.Duration) (time.Duration, time.Duration) {
	if yFirst {
		dy := y()
		return x(), dy
	}
	dx := x()
	return dx, y()
}

// warmUp downloads the zip once with each client, unmeasured, so that the
// first run does not pay for a cold page cache.
func (b *bench) warmUp() {
	url := b.base + "/api/v4/projects/1/jobs/2/artifacts"
	out := filepath.Join(b.work, "out.bin")
	if b.curl != "" {
		timed(exec.Command(b.curl, "-sSf", "-o", out, url))
	}
	timed(b.cmd("download", "--url", url, "-o", out, "--parallel", "1", "-q"))
}

func (b *bench) memory() {
	dest := filepath.Join(b.work, "dest")
	cmd := b.cmd("download", "--url", b.base+"/api/v4/projects/1/jobs/2/artifacts", "--dest", dest, "-q")
	d := timed(cmd)
	rss := peakRSSMiB(cmd.ProcessState)
	name := fmt.Sprintf("download + extract of a %s zip (64 files)", human(b.size))
	b.rep.Add(figure("download.rss", name+": peak RSS", "MiB", 1, figures.AtMost(40, "≤ 40 MiB")), rss)
	b.rep.Add(figure("download.extract", name+": wall time", "s", 2, nil), d.Seconds())
	log.Printf("download + extract: peak RSS %.1f MiB in %s", rss, d.Round(time.Millisecond))
	check(os.RemoveAll(dest))
}

func (b *bench) parallel() {
	url := b.base + "/throttled/api/v4/projects/1/jobs/1/artifacts"
	out := filepath.Join(b.work, "out.bin")
	// Each run writes a new file, as a job's download does. Renaming over
	// the previous run's 1 GiB file would make ext4 (auto_da_alloc) flush
	// the new file's delayed allocations before the rename: seconds of disk
	// writes that the short 8-stream run pays and the 43 s one hides.
	run := func(streams string) time.Duration {
		_ = os.Remove(out)
		return timed(b.cmd("download", "--url", url, "-o", out, "--parallel", streams, "-q"))
	}
	one, eight := run("1"), run("8")
	_ = os.Remove(out)
	name := fmt.Sprintf("%s at 25 MB/s per connection", human(b.size))
	b.rep.Add(figure("download.capped1", name+": 1 stream", "MB/s", 0, nil), b.rate(one))
	b.rep.Add(figure("download.capped8", name+": 8 ranged streams", "MB/s", 0, nil), b.rate(eight))
	b.rep.Add(figure("download.cappedratio", name+": 8 streams ÷ 1 stream", "×", 2, figures.AtLeast(6, "≥ 6×")),
		one.Seconds()/eight.Seconds())
	log.Printf("capped: 1 stream %.0f MB/s, 8 streams %.0f MB/s", b.rate(one), b.rate(eight))
}

// rate is the artifact's size over d, in MB/s.
func (b *bench) rate(d time.Duration) float64 { return float64(b.size) / d.Seconds() / 1e6 }

func (b *bench) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(b.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")} // no CI_* or tokens
	cmd.Stderr = os.Stderr
	return cmd
}

// timed runs cmd from a clean slate: every dirty page written out first,
// so that one client never pays for the writeback of the file the other
// one just wrote.
func timed(cmd *exec.Cmd) time.Duration {
	syncDisks()
	start := time.Now()
	check(cmd.Run())
	return time.Since(start)
}

func build(work string) string {
	bin := filepath.Join(work, "pipeline-artifacts")
	cmd := figures.BuildBinary(context.Background(), bin)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
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
	check(f.Sync()) // written back now, not during the first measurement
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
	// The throttled blob is an object store's: GitLab redirects to another
	// origin, where ranged streams are used by default.
	store := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		blob(&paced{ResponseWriter: w, rate: capRate}, r)
	}))
	mux.HandleFunc("GET /throttled/api/v4/projects/1/jobs/1/artifacts", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, store+"/blob?X-Amz-Signature=bench", http.StatusFound)
	})
	mux.HandleFunc("GET /api/v4/projects/1/jobs/2/artifacts", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"zip"`)
		http.ServeFile(w, r, zipPath)
	})
	return listen(mux)
}

// listen serves h on a loopback port of its own and returns its base URL.
func listen(h http.Handler) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	srv := &http.Server{Handler: h, BaseContext: func(net.Listener) context.Context { return context.Background() }}
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

func human(n int64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
