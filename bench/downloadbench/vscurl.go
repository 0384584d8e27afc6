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
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/bench/internal/figures"
)

// vsCurl measures a download the way a user's runs, against curl: a file
// on disk that a Go server sends with http.ServeContent on an *os.File
// (sendfile, as GitLab Workhorse and object stores do), saved to a file,
// with the served file dropped from the page cache before every run so
// that each client reads it from the disk, curl and ours alternating which
// goes first, medians of runs.
//
// Two pairs are timed: a plain download (no digest to check: ours must not
// hash) against `curl -o FILE`, and a verified one (the server's ETag is
// the SHA-256, as GitLab's is) against `curl -o FILE && sha256sum FILE`.
// Ours is also timed with --parallel 1 and with 8 streams forced, to show
// what the default chose. The goal: the default within 1.10× of curl.
func vsCurl(size int64, runs int, asJSON bool) {
	if runs < 1 {
		log.Fatal("-runs must be at least 1")
	}
	work, err := os.MkdirTemp("", "downloadbench-vscurl-")
	check(err)
	defer os.RemoveAll(work)
	curlBin, err := exec.LookPath("curl")
	if err != nil {
		log.Fatal("curl is not installed (apt-get install -y curl)")
	}
	blob, digest := writeBlob(work, size)
	if err := evict(blob); err != nil {
		log.Fatalf("-vs-curl: %v", err)
	}
	cold, err := resident(blob)
	check(err)
	bin := build(work)
	base := serveFile(blob, digest)
	out := filepath.Join(work, "out.bin")
	variants := curlVariants(bin, curlBin, base, out)
	times := make([][]run, len(variants))
	for i := range runs {
		idx := make([]int, len(variants))
		for k := range idx {
			idx[k] = k
		}
		if i%2 == 1 { // alternate which client goes first
			slices.Reverse(idx)
		}
		for _, k := range idx {
			_ = os.Remove(out)
			check(evict(blob))
			r := timeAll(variants[k].cmd())
			times[k] = append(times[k], r)
			log.Printf("run %d: %-45s %6.3f s (user %.2f s, sys %.2f s)", i+1, variants[k].name, r.wall.Seconds(), r.user.Seconds(), r.sys.Seconds())
		}
	}
	_ = os.Remove(out)
	rep := curlFigures(variants, times, size)
	rep.Note("one download against curl: %s file sent with sendfile, saved to a file; before every run the "+
		"served file is dropped from the page cache (posix_fadvise DONTNEED after sync; %.1f%% of it stayed "+
		"resident the first time); curl and ours alternate which goes first", human(size), 100*cold)
	if asJSON {
		check(rep.WriteJSON(os.Stdout))
		return
	}
	fmt.Printf("%s file served with sendfile, saved to a file, cold page cache, medians of %d runs\n\n", human(size), runs)
	figures.WriteTable(os.Stdout, rep.Figures)
	if slices.ContainsFunc(rep.Figures, figures.Figure.Missed) {
		os.Exit(1)
	}
}

// variant is one client's way of downloading the file; peer is the index
// of the variant it is compared with (-1 for the peers themselves).
type variant struct {
	key, name string
	cmd       func() []*exec.Cmd
	peer      int
	target    *figures.Target
}

// curlGoal is the goal for the default download: at most 10% slower than
// curl doing the same job.
var curlGoal = figures.AtMost(1.10, "≤ 1.10×")

func curlVariants(bin, curlBin, base, out string) []variant {
	ours := func(path string, extra ...string) func() []*exec.Cmd {
		return func() []*exec.Cmd {
			args := append([]string{"download", "--url", base + path, "-o", out, "-q"}, extra...)
			cmd := exec.Command(bin, args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
			return []*exec.Cmd{cmd}
		}
	}
	return []variant{
		{key: "curl.curl", name: "`curl -sSf -o FILE`", peer: -1, cmd: func() []*exec.Cmd {
			return []*exec.Cmd{exec.Command(curlBin, "-sSf", "-o", out, base+"/api/v4/projects/1/jobs/2/artifacts")}
		}},
		{key: "curl.ours", name: "ours, defaults (`download --url URL -o FILE`)", peer: 0, target: curlGoal,
			cmd: ours("/api/v4/projects/1/jobs/2/artifacts")},
		{key: "curl.p1", name: "ours, `--parallel 1`", peer: 0, cmd: ours("/api/v4/projects/1/jobs/2/artifacts", "--parallel", "1")},
		{key: "curl.p8", name: "ours, `--parallel 8` (8 ranged streams, object store behind a redirect)", peer: 0,
			cmd: ours("/api/v4/projects/1/jobs/4/artifacts", "--parallel", "8")},
		{key: "curl.sha", name: "`curl -sSf -o FILE && sha256sum FILE`", peer: -1, cmd: func() []*exec.Cmd {
			return []*exec.Cmd{exec.Command(curlBin, "-sSf", "-o", out, base+"/api/v4/projects/1/jobs/3/artifacts"), exec.Command("sha256sum", out)}
		}},
		{key: "curl.verified", name: "ours, defaults, SHA-256 ETag verified", peer: 4, target: curlGoal,
			cmd: ours("/api/v4/projects/1/jobs/3/artifacts")},
	}
}

// curlFigures turns the times into figures: each variant's wall time
// beside its peer's and the ratio of the two within each run, and user and
// system CPU time apart.
func curlFigures(variants []variant, times [][]run, size int64) figures.Result {
	var rep figures.Result
	fig := func(key, name, unit string, digits int, section string, t *figures.Target) figures.Figure {
		return figures.Figure{Key: key, Section: section, Name: name, Unit: unit, Digits: digits, Target: t}
	}
	what := fmt.Sprintf("%s, cold page cache", human(size))
	for k, v := range variants {
		for i, r := range times[k] {
			rep.Add(fig(v.key+".wall", what+": "+v.name+": wall time", "s", 2, figures.SectionCurl, nil), r.wall.Seconds())
			if v.peer >= 0 {
				p := variants[v.peer]
				rep.Add(fig(v.key+".ratio", what+": "+v.name+" ÷ "+p.name+" (wall time)", "×", 2, figures.SectionCurl, v.target),
					r.wall.Seconds()/times[v.peer][i].wall.Seconds())
			}
		}
	}
	for k, v := range variants {
		for _, r := range times[k] {
			rep.Add(fig(v.key+".mbs", v.name, "MB/s", 0, figures.SectionCurlCPU, nil), float64(size)/r.wall.Seconds()/1e6)
			rep.Add(fig(v.key+".user", v.name, "s", 2, figures.SectionCurlCPU, nil), r.user.Seconds())
			rep.Add(fig(v.key+".sys", v.name, "s", 2, figures.SectionCurlCPU, nil), r.sys.Seconds())
		}
	}
	return rep
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
// SHA-256 ETag, both through http.ServeContent on an *os.File: sendfile on
// Linux.
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
