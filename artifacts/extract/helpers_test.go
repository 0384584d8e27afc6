package extract

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// entry describes one archive entry for the builders below. mode carries the
// type bits (fs.ModeDir, fs.ModeSymlink, fs.ModeNamedPipe, fs.ModeDevice…);
// link is a symlink's target, or a hard link's when hard is set.
type entry struct {
	name string
	body string
	mode fs.FileMode
	link string
	hard bool
}

func file(name, body string, perm fs.FileMode) entry {
	return entry{name: name, body: body, mode: perm}
}
func dir(name string, perm fs.FileMode) entry { return entry{name: name, mode: fs.ModeDir | perm} }
func symlink(name, target string) entry {
	return entry{name: name, link: target, mode: fs.ModeSymlink | 0o777}
}

// writeZip writes entries as a zip at path. Names go in verbatim: the
// archive/zip writer does not check them, which is what hostile tests need.
func writeZip(t testing.TB, path string, entries ...entry) {
	t.Helper()
	f := create(t, path)
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)}
		h.SetMode(e.mode)
		body := e.body
		if e.mode&fs.ModeSymlink != 0 {
			body = e.link
		}
		if e.mode.IsDir() {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	closeAll(t, zw, f)
}

// writeTar writes entries as a tar at path, through compress when not nil.
func writeTar(t testing.TB, path string, compress func(io.Writer) (io.WriteCloser, error), entries ...entry) {
	t.Helper()
	f := create(t, path)
	var w io.Writer = f
	var cw io.WriteCloser
	if compress != nil {
		var err error
		if cw, err = compress(f); err != nil {
			t.Fatal(err)
		}
		w = cw
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := tw.WriteHeader(tarHeader(e)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if cw != nil {
		closeAll(t, tw, cw, f)
	} else {
		closeAll(t, tw, f)
	}
}

func tarHeader(e entry) *tar.Header {
	h := &tar.Header{Name: e.name, Mode: int64(e.mode.Perm()), Size: int64(len(e.body)), Typeflag: tar.TypeReg,
		ModTime: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Format: tar.FormatPAX}
	switch m := e.mode; {
	case e.hard:
		h.Typeflag, h.Linkname = tar.TypeLink, e.link
	case m.IsDir():
		h.Typeflag = tar.TypeDir
	case m&fs.ModeSymlink != 0:
		h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
	case m&fs.ModeCharDevice != 0:
		h.Typeflag, h.Devmajor, h.Devminor = tar.TypeChar, 1, 3
	case m&fs.ModeDevice != 0:
		h.Typeflag, h.Devmajor, h.Devminor = tar.TypeBlock, 8, 0
	case m&fs.ModeNamedPipe != 0:
		h.Typeflag = tar.TypeFifo
	}
	return h
}

func gzipWriter(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil }

func create(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func closeAll(t testing.TB, cs ...io.Closer) {
	t.Helper()
	for _, c := range cs {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot describes every path under root: type, permissions, and a hash of
// the content or the link target. Two equal snapshots mean nothing changed.
func snapshot(t testing.TB, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v", fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		got[filepath.ToSlash(rel)] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func diffSnapshots(before, after map[string]string) string {
	var b strings.Builder
	for k, v := range before {
		if w, ok := after[k]; !ok {
			fmt.Fprintf(&b, "\n  removed %s (%s)", k, v)
		} else if w != v {
			fmt.Fprintf(&b, "\n  changed %s: %s -> %s", k, v, w)
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			fmt.Fprintf(&b, "\n  added %s (%s)", k, v)
		}
	}
	return b.String()
}

// umask returns the process umask, read from a probe file rather than by
// setting it, which would race with parallel tests.
func umask(t testing.TB) fs.FileMode {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(p, nil, 0o777); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ fi.Mode().Perm()
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
