// Command remotezip measures `download NAME --path FILE` over HTTP Range
// reads (artifacts/remotezip): the bytes moved, requests and time to
// extract one small file from a ~1 GiB zip with many entries, against
// downloading the whole archive with one plain GET.
//
// It writes the zip to a temporary directory (about -size bytes of disk,
// removed at the end), serves it with http.ServeContent on 127.0.0.1 as
// GitLab's Workhorse and object stores answer Range requests, and prints a
// markdown table, or with -json the figures for bench/report. Run it from
// the repository root: go run ./bench/remotezip
package main

import (
	"archive/zip"
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

const (
	target      = "reports/summary.txt"
	targetBody  = "the one small file a later job needs\n"
	bigFileSize = 64 << 20
	token       = "bench-job-token"
)

func main() {
	size := flag.Int64("size", 1<<30, "approximate bytes of the archive")
	entries := flag.Int("entries", 10_000, "small deflated entries besides the big stored ones")
	runs := flag.Int("runs", 3, "runs of every measurement; the median counts")
	asJSON := flag.Bool("json", false, "print the figures as JSON (for bench/report) instead of a table")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("remotezip bench: ")
	if *runs < 1 {
		log.Fatal("-runs must be at least 1")
	}
	work, err := os.MkdirTemp("", "remotezip-bench-")
	check(err)
	defer os.RemoveAll(work)
	path := filepath.Join(work, "artifacts.zip")
	cd := writeZip(path, *size, *entries)
	st, err := os.Stat(path)
	check(err)
	srv := serve(path)
	defer srv.close()
	log.Printf("archive: %s, %d entries, central directory %s", human(st.Size()), *entries+int(*size/bigFileSize)+1, human(cd))

	var rep figures.Result
	for i := range *runs {
		log.Printf("run %d of %d…", i+1, *runs)
		r := measureRanges(srv, st.Size())
		r.add(&rep, measureWhole(srv))
	}
	rep.Note("one file out of a big archive: %s zip of %d small deflated entries and %d stored ones of %s each; central directory %s; loopback, http.ServeContent",
		human(st.Size()), *entries, *size/bigFileSize, human(bigFileSize), human(cd))
	if *asJSON {
		check(rep.WriteJSON(os.Stdout))
		return
	}
	figures.WriteTable(os.Stdout, rep.Figures)
	if slices.ContainsFunc(rep.Figures, figures.Figure.Missed) {
		os.Exit(1)
	}
}

func figure(key, name, unit string, digits int, t *figures.Target) figures.Figure {
	return figures.Figure{Key: key, Section: figures.SectionRemoteZip, Name: name, Unit: unit, Digits: digits, Target: t}
}

// ranged is what extracting one file by Range reads took.
type ranged struct {
	size, sent, listSent, requests int64
	took, listed                   time.Duration
}

// add records the figures of one run, the whole archive's download time
// beside the one file's.
func (r ranged) add(rep *figures.Result, whole time.Duration) {
	name := fmt.Sprintf("one %d-byte file out of a %s zip by Range reads", len(targetBody), human(r.size))
	rep.Add(figure("remotezip.bytes", name+": bytes moved", "MiB", 2, figures.AtMost(2, "≤ 2 MiB")), float64(r.sent)/(1<<20))
	rep.Add(figure("remotezip.share", name+": share of the archive moved", "%", 3, figures.AtMost(1, "≤ 1%")), 100*float64(r.sent)/float64(r.size))
	rep.Add(figure("remotezip.requests", name+": requests", "", 0, nil), float64(r.requests))
	rep.Add(figure("remotezip.ms", name+": time", "ms", 1, nil), msOf(r.took))
	rep.Add(figure("remotezip.whole.ms", fmt.Sprintf("the whole %s zip, one plain GET (io.Copy to io.Discard): time", human(r.size)), "ms", 0, nil), msOf(whole))
	rep.Add(figure("remotezip.list.bytes", "listing the same zip (end records + central directory): bytes moved", "MiB", 2, nil), float64(r.listSent)/(1<<20))
	rep.Add(figure("remotezip.list.ms", "listing the same zip: time", "ms", 1, nil), msOf(r.listed))
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measureRanges lists the archive and extracts the small file the way
// `download NAME --path FILE` does, through a real *gitlab.Client.
func measureRanges(srv *server, size int64) ranged {
	c, err := gitlab.New(gitlab.Options{BaseURL: srv.url + "/api/v4", Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: token}})
	check(err)
	sent0, req0 := srv.sent.Load(), srv.requests.Load()
	start := time.Now()
	ctx := context.Background()
	src, err := remotezip.NewHTTP(ctx, c, srv.url+"/api/v4/jobs/1/artifacts", nil)
	check(err)
	a, err := remotezip.Open(ctx, src)
	check(err)
	listed := time.Since(start)
	listSent := srv.sent.Load() - sent0
	var out countWriter
	_, err = a.Extract(ctx, target, &out)
	check(err)
	took := time.Since(start)
	if out.n != int64(len(targetBody)) {
		log.Fatalf("extracted %d bytes, want %d", out.n, len(targetBody))
	}
	return ranged{size: size, sent: srv.sent.Load() - sent0, listSent: listSent, requests: srv.requests.Load() - req0,
		took: took, listed: listed}
}

// measureWhole downloads the whole archive with one plain GET, for comparison.
func measureWhole(srv *server) time.Duration {
	start := time.Now()
	req, err := http.NewRequest(http.MethodGet, srv.url+"/api/v4/jobs/1/artifacts", nil)
	check(err)
	req.Header.Set("JOB-TOKEN", token)
	resp, err := http.DefaultClient.Do(req)
	check(err)
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	check(err)
	return time.Since(start)
}

// writeZip writes the archive: big stored entries of incompressible bytes
// up to about size, and entries small deflated files spread between them,
// the target among them. It returns the central directory's length.
func writeZip(path string, size int64, entries int) int64 {
	f, err := os.Create(path)
	check(err)
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &countWriter{w: bw}
	zw := zip.NewWriter(cw)
	block := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	bigs := int(size / bigFileSize)
	per := entries / max(bigs, 1)
	small := 0
	for b := range max(bigs, 1) {
		for range per {
			name := fmt.Sprintf("logs/%03d/test-%06d.log", b, small)
			if small == entries/2 {
				name = target
			}
			addSmall(zw, name, small)
			small++
		}
		if b < bigs {
			addBig(zw, fmt.Sprintf("images/layer-%02d.bin", b), block)
		}
	}
	for ; small < entries; small++ {
		addSmall(zw, fmt.Sprintf("logs/rest/test-%06d.log", small), small)
	}
	before := cw.n
	check(zw.Close())
	check(bw.Flush())
	return cw.n - before - 22 // the end record is not directory
}

func addSmall(zw *zip.Writer, name string, i int) {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
	check(err)
	if name == target {
		_, err = io.WriteString(w, targetBody)
	} else {
		_, err = fmt.Fprintf(w, "test %d passed\n%s", i, fmt.Sprintf("%0*d\n", 200+i%800, i))
	}
	check(err)
}

func addBig(zw *zip.Writer, name string, block []byte) {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: time.Now()})
	check(err)
	for i := 0; i < bigFileSize/len(block); i++ {
		block[0] = byte(i) // not one repeated block: no store may dedupe it
		_, err := w.Write(block)
		check(err)
	}
}

// server serves the zip with http.ServeContent and counts what it sends.
type server struct {
	url      string
	ln       net.Listener
	requests atomic.Int64
	sent     atomic.Int64
}

func serve(path string) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	s := &server{url: "http://" + ln.Addr().String(), ln: ln}
	st, err := os.Stat(path)
	check(err)
	etag := fmt.Sprintf(`"%x-%x"`, st.Size(), st.ModTime().UnixNano())
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.Header.Get("JOB-TOKEN") != token {
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("ETag", etag)
		http.ServeContent(&sentCounter{w, &s.sent}, r, "artifacts.zip", st.ModTime(), f)
	}))
	return s
}

func (s *server) close() { s.ln.Close() }

// sentCounter counts body bytes; it hides io.ReaderFrom, so the whole
// download is copied rather than sent with sendfile — the same for both
// measurements.
type sentCounter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *sentCounter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.w == nil {
		c.n += int64(len(p))
		return len(p), nil
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
