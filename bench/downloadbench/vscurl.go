package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// vsCurl measures a download the way a user's runs, against curl: a file
// on disk that a Go server sends with http.ServeContent on an *os.File
// (sendfile, as GitLab Workhorse and object stores do), saved to a file,
// with the page cache dropped before every run so that neither client reads
// the other's warm pages, curl and ours alternating, medians of runs.
//
// Two pairs are timed: a plain download (no digest to check: ours must not
// hash) against `curl -o FILE`, and a verified one (the server's ETag is
// the SHA-256, as GitLab's is) against `curl -o FILE && sha256sum FILE`.
// Ours is also timed with --parallel 1 and with 8 streams forced, to show
// what the default chose.
func vsCurl(size int64, runs int) {
	if runs < 1 {
		log.Fatal("-runs must be at least 1")
	}
	work, err := os.MkdirTemp("", "downloadbench-vscurl-")
	check(err)
	defer os.RemoveAll(work)
	bin := build(work)
	curlBin, err := exec.LookPath("curl")
	if err != nil {
		log.Fatal("curl is not installed (apt-get install -y curl)")
	}
	blob, digest := writeBlob(work, size)
	base := serveFile(blob, digest)
	out := filepath.Join(work, "out.bin")
	drop := cacheDropper(work)
	log.Printf("page cache: %s", drop.how)

	type variant struct {
		name string
		cmd  func() []*exec.Cmd
	}
	ours := func(path string, extra ...string) func() []*exec.Cmd {
		return func() []*exec.Cmd {
			args := append([]string{"download", "--url", base + path, "-o", out, "-q"}, extra...)
			cmd := exec.Command(bin, args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
			return []*exec.Cmd{cmd}
		}
	}
	variants := []variant{
		{"curl -o FILE", func() []*exec.Cmd {
			return []*exec.Cmd{exec.Command(curlBin, "-sSf", "-o", out, base+"/api/v4/projects/1/jobs/2/artifacts")}
		}},
		{"ours, defaults", ours("/api/v4/projects/1/jobs/2/artifacts")},
		{"ours, --parallel 1", ours("/api/v4/projects/1/jobs/2/artifacts", "--parallel", "1")},
		{"ours, 8 ranged streams (via a redirect)", ours("/api/v4/projects/1/jobs/4/artifacts", "--parallel", "8")},
		{"curl -o FILE && sha256sum FILE", func() []*exec.Cmd {
			return []*exec.Cmd{exec.Command(curlBin, "-sSf", "-o", out, base+"/api/v4/projects/1/jobs/3/artifacts"), exec.Command("sha256sum", out)}
		}},
		{"ours, defaults, SHA-256 ETag verified", ours("/api/v4/projects/1/jobs/3/artifacts")},
	}
	times := make([][]run, len(variants))
	for i := range runs {
		order := slices.Clone(variants)
		idx := make([]int, len(variants))
		for k := range idx {
			idx[k] = k
		}
		if i%2 == 1 { // alternate which client goes first
			slices.Reverse(order)
			slices.Reverse(idx)
		}
		for k, v := range order {
			_ = os.Remove(out)
			drop.do()
			r := timeAll(v.cmd())
			times[idx[k]] = append(times[idx[k]], r)
			log.Printf("run %d: %-40s %6.3f s (user %.2f s, sys %.2f s)", i+1, v.name, r.wall.Seconds(), r.user.Seconds(), r.sys.Seconds())
		}
	}
	med := make([]run, len(variants))
	for i := range variants {
		med[i] = median(times[i])
	}
	fmt.Printf("%s file served with sendfile, saved to a file, cold page cache, medians of %d runs\n\n", human(size), runs)
	fmt.Printf("| client | wall s | MB/s | user s | sys s | ÷ curl |\n|---|---:|---:|---:|---:|---:|\n")
	for i, v := range variants {
		ref := med[0]
		if i >= 4 {
			ref = med[4]
		}
		fmt.Printf("| %s | %.3f | %.0f | %.2f | %.2f | %.2f× |\n", v.name, med[i].wall.Seconds(),
			float64(size)/med[i].wall.Seconds()/1e6, med[i].user.Seconds(), med[i].sys.Seconds(), med[i].wall.Seconds()/ref.wall.Seconds())
	}
}

type run struct{ wall, user, sys time.Duration }

// timeAll runs cmds one after the other, as a shell's && would.
func timeAll(cmds []*exec.Cmd) run {
	var r run
	start := time.Now()
	for _, c := range cmds {
		c.Stderr = os.Stderr
		c.Stdout = io.Discard
		check(c.Run())
		r.user += c.ProcessState.UserTime()
		r.sys += c.ProcessState.SystemTime()
	}
	r.wall = time.Since(start)
	return r
}

func median(rs []run) run {
	slices.SortFunc(rs, func(a, b run) int { return int(a.wall - b.wall) })
	return rs[len(rs)/2]
}

// writeBlob writes size incompressible bytes to a file and returns its
// path and SHA-256.
func writeBlob(work string, size int64) (string, string) {
	p := filepath.Join(work, "artifacts.zip")
	f, err := os.Create(p)
	check(err)
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), io.NewSectionReader(repeated{size: size}, 0, size))
	check(err)
	check(f.Sync())
	check(f.Close())
	return p, hex.EncodeToString(h.Sum(nil))
}

// serveFile serves the file as job 2's archive with an ETag that is not a
// digest (an object store's MD5-like tag) and as job 3's with GitLab's
// SHA-256 ETag,
// both through http.ServeContent on an *os.File: sendfile on Linux.
func serveFile(path, digest string) string {
	mux := http.NewServeMux()
	serve := func(etag string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Content-Type", "application/zip")
			http.ServeContent(w, r, "artifacts.zip", fi.ModTime(), f)
		}
	}
	mux.HandleFunc("GET /api/v4/projects/1/jobs/2/artifacts", serve(`"`+digest[:32]+`"`))
	mux.HandleFunc("GET /api/v4/projects/1/jobs/3/artifacts", serve(`"`+digest+`"`))
	// Job 4 redirects to another origin, as GitLab does to object storage,
	// where ranged streams are used by default: the same file, 8 streams.
	store := listen(serve(`"` + digest[:32] + `"`))
	mux.HandleFunc("GET /api/v4/projects/1/jobs/4/artifacts", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, store+"/artifacts.zip?X-Amz-Signature=bench", http.StatusFound)
	})
	return listen(mux)
}

// dropper empties the page cache before a run: with drop_caches when
// permitted, else by writing and reading 1.25 GiB of something else.
type dropper struct {
	how string
	do  func()
}

func cacheDropper(work string) dropper {
	const dropCaches = "/proc/sys/vm/drop_caches"
	syscall.Sync()
	err := os.WriteFile(dropCaches, []byte("3\n"), 0)
	if err == nil {
		return dropper{how: "dropped (" + dropCaches + ") before each run", do: func() {
			syscall.Sync()
			check(os.WriteFile(dropCaches, []byte("3\n"), 0))
		}}
	}
	log.Printf("cannot drop the page cache (%v); evicting it with 1.25 GiB of other data instead", strings.TrimSpace(err.Error()))
	filler := filepath.Join(work, "filler")
	return dropper{how: "evicted with 1.25 GiB written before each run", do: func() {
		f, err := os.Create(filler)
		check(err)
		_, err = io.Copy(f, io.NewSectionReader(repeated{size: 5 << 28}, 0, 5<<28))
		check(err)
		check(f.Close())
		check(os.Remove(filler))
		syscall.Sync()
	}}
}
