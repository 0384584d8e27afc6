package extract

import (
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzExtract checks that arbitrary bytes never panic, never put anything
// beside the destination, never leave a staging directory, and that what is
// extracted holds only directories, regular files and symlinks that stay
// inside; a failed extraction leaves no destination at all.
//
// Inputs are kept small, and so is each run: the fuzzer minimizes every
// input that finds new coverage by running it again for each byte it tries
// to remove, so a 10 KiB tar seed (the old artifactEntries tar) and runs of
// about 10 ms each (t.TempDir and extraction on a disk file system) made
// one minimization take the whole -fuzztime, and the fuzzer reported a
// dozen executions in ten seconds. Run it with a short -fuzzminimizetime
// (e.g. 1s) for more breadth.
func FuzzExtract(f *testing.F) {
	seeds := f.TempDir()
	small := []entry{file("d/f", "x", 0o644), symlink("l", "d/f")}
	for _, build := range []func(testing.TB, string){
		func(t testing.TB, p string) { writeZip(t, p, small...) },
		func(t testing.TB, p string) { writeTar(t, p, nil, small...) },
		func(t testing.TB, p string) { writeTar(t, p, gzipWriter, small...) },
		func(t testing.TB, p string) { writeZip(t, p, symlink("a", "sub"), file("a/x", "x", 0o644)) },
		func(t testing.TB, p string) {
			out := create(t, p)
			zw := gzip.NewWriter(out)
			zw.Name = "report.xml"
			closeAll(t, zw, out)
		},
	} {
		p := filepath.Join(seeds, "seed")
		build(f, p)
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte("LZIP\x01\x0c0123")) // panicked the lzip library this package used
	// One directory for every input, emptied after each, in memory when
	// the system has a tmpfs: on a disk file system the mkdir, symlink,
	// rename and unlink calls of one extraction cost about 9 ms of wall
	// time on a busy machine, on tmpfs 0.5 ms.
	work := memoryDir(f)
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		n++
		parent := filepath.Join(work, strconv.Itoa(n))
		if err := os.Mkdir(parent, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(parent)
		archive := filepath.Join(parent, "archive")
		if err := os.WriteFile(archive, data, 0o644); err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(parent, "dest")

		_, err := Extract(t.Context(), archive, dest, Limits{MaxBytes: 1 << 20, MaxEntries: 64})

		names, _ := os.ReadDir(parent)
		want := 2
		if err != nil {
			want = 1
		}
		if len(names) != want {
			t.Fatalf("extract returned %v and left %v beside the archive", err, names)
		}
		if err == nil {
			checkInside(t, dest)
		}
	})
}

// checkInside walks an extracted tree for anything but directories, regular
// files and symlinks whose targets stay inside, for modes with setuid, setgid,
// sticky or world-write bits, and for staging leftovers.
func checkInside(t *testing.T, dest string) {
	t.Helper()
	checkNoStaging(t, dest)
	err := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dest, p)
		switch typ := d.Type(); {
		case typ.IsDir(), typ.IsRegular():
			if fi, err := d.Info(); err == nil && fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky|0o002) != 0 {
				t.Errorf("%s has mode %v", rel, fi.Mode())
			}
		case typ&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if why := checkLinkTarget(filepath.ToSlash(rel), target); why != "" {
				t.Errorf("%s -> %s: %s", rel, target, why)
			}
		default:
			t.Errorf("%s has type %v", rel, typ)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// memoryDir is a fresh directory on /dev/shm when it exists (Linux), else
// under the test's temporary directory; it is removed after the test.
func memoryDir(f *testing.F) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "fuzz-extract-"); err == nil {
			f.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return f.TempDir()
}
