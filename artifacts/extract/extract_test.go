package extract

import (
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// artifactEntries is a small build output: modes, nested and implied
// directories, and symlinks to a file, to a directory and upwards, all inside.
var artifactEntries = []entry{
	dir("bin/", 0o755),
	file("bin/tool", "#!/bin/sh\necho hi\n", 0o755),
	file("secret.key", "key", 0o600),
	file("nested/a/b/c.txt", "deep", 0o644),
	symlink("bin/latest", "tool"),
	symlink("docs", "nested/a"),
	symlink("nested/a/up", "../../secret.key"),
}

func TestExtractRoundTripsModesAndSymlinks(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T, path string)
	}{
		{"a zip keeps modes and internal symlinks", zipOf(artifactEntries...)},
		{"a tar keeps modes and internal symlinks", tarOf(artifactEntries...)},
		{"a tar.gz keeps modes and internal symlinks", tarGzOf(artifactEntries...)},
		{"a tar.zst is detected from its content", func(t *testing.T, p string) {
			writeTar(t, p, codecWriters[".zst"], artifactEntries...)
		}},
		{"a tar.xz is detected from its content", func(t *testing.T, p string) {
			writeTar(t, p, codecWriters[".xz"], artifactEntries...)
		}},
		{"a tar.bz2 is detected from its content", func(t *testing.T, p string) {
			writeTar(t, p, codecWriters[".bz2"], artifactEntries...)
		}},
	}
	mask := umask(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			archive := filepath.Join(t.TempDir(), "artifacts.bin") // the name says nothing
			tc.build(t, archive)
			dest := filepath.Join(t.TempDir(), "new", "dest")

			res, err := Extract(t.Context(), archive, dest, Limits{})
			if err != nil {
				t.Fatal(err)
			}

			want := Result{Files: 3, Dirs: 4, Symlinks: 3, Bytes: int64(len("#!/bin/sh\necho hi\n") + len("key") + len("deep"))}
			if res != want {
				t.Errorf("got %+v, want %+v", res, want)
			}
			checkFile(t, dest, "bin/tool", "#!/bin/sh\necho hi\n", 0o755&^mask)
			checkFile(t, dest, "secret.key", "key", 0o600&^mask)
			checkFile(t, dest, "nested/a/b/c.txt", "deep", 0o644&^mask)
			checkFile(t, dest, "bin/latest", "#!/bin/sh\necho hi\n", 0o755&^mask)
			checkFile(t, dest, "docs/b/c.txt", "deep", 0o644&^mask)
			checkFile(t, dest, "nested/a/up", "key", 0o600&^mask)
			checkLink(t, dest, "bin/latest", "tool")
			checkLink(t, dest, "docs", "nested/a")
			checkLink(t, dest, "nested/a/up", "../../secret.key")
			checkNoStaging(t, dest)
			fi, err := os.Stat(filepath.Join(dest, "bin/tool"))
			if err != nil {
				t.Fatal(err)
			}
			if y := fi.ModTime().UTC().Year(); y != 2024 {
				t.Errorf("bin/tool modified in %d, want the archive's 2024", y)
			}
		})
	}
}

func checkFile(t *testing.T, dest, name, body string, perm fs.FileMode) {
	t.Helper()
	p := filepath.Join(dest, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Error(err)
		return
	}
	if string(b) != body {
		t.Errorf("%s holds %q, want %q", name, b, body)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode() != perm {
		t.Errorf("%s has mode %v (%v), want %v", name, fi.Mode(), err, perm)
	}
}

func checkLink(t *testing.T, dest, name, target string) {
	t.Helper()
	got, err := os.Readlink(filepath.Join(dest, filepath.FromSlash(name)))
	if err != nil || got != target {
		t.Errorf("%s links to %q (%v), want %q", name, got, err, target)
	}
}

func checkNoStaging(t *testing.T, dest string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dest, stagingPrefix+"*"))
	if len(left) > 0 {
		t.Errorf("staging left behind: %v", left)
	}
}

func TestExtractReplacesFilesAndKeepsUnrelatedOnes(t *testing.T) {
	dest := t.TempDir()
	writeFile(t, filepath.Join(dest, "bin", "tool"), "old tool")
	writeFile(t, filepath.Join(dest, "bin", "mine"), "mine")
	writeFile(t, filepath.Join(dest, "notes.txt"), "notes")
	if err := os.Symlink("notes.txt", filepath.Join(dest, "was-a-link")); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "a.zip")
	writeZip(t, archive, file("bin/tool", "new tool", 0o755), file("was-a-link", "now a file", 0o644),
		symlink("bin/current", "tool"), file("fresh/dir/x", "x", 0o644))

	res, err := Extract(t.Context(), archive, dest, Limits{})
	if err != nil {
		t.Fatal(err)
	}

	mask := umask(t)
	checkFile(t, dest, "bin/tool", "new tool", 0o755&^mask)
	checkFile(t, dest, "bin/mine", "mine", 0o644&^mask)
	checkFile(t, dest, "notes.txt", "notes", 0o644&^mask)
	checkFile(t, dest, "was-a-link", "now a file", 0o644&^mask)
	checkFile(t, dest, "fresh/dir/x", "x", 0o644&^mask)
	checkLink(t, dest, "bin/current", "tool")
	checkNoStaging(t, dest)
	if want := (Result{Files: 3, Dirs: 3, Symlinks: 1, Bytes: 19}); res != want {
		t.Errorf("got %+v, want %+v", res, want)
	}
}

func TestExtractingTheSameArchiveTwiceGivesTheSameTree(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "a.tar.gz")
	writeTar(t, archive, gzipWriter, artifactEntries...)
	dest := t.TempDir()
	if _, err := Extract(t.Context(), archive, dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	first := snapshot(t, dest)

	if _, err := Extract(t.Context(), archive, dest, Limits{}); err != nil {
		t.Fatal(err)
	}

	if diff := diffSnapshots(first, snapshot(t, dest)); diff != "" {
		t.Errorf("the second extraction changed the tree:%s", diff)
	}
}

func TestExtractWritesGitLabGzipMembersAsFiles(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "junit.xml.gz")
	f := create(t, archive)
	for _, m := range []struct{ name, comment, body string }{
		{"junit.xml", "reports/junit.xml", "<testsuites/>"},
		{"coverage.xml", "", "<coverage/>"},
	} {
		zw := gzip.NewWriter(f)
		zw.Name, zw.Comment, zw.ModTime = m.name, m.comment, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		if _, err := io.WriteString(zw, m.body); err != nil {
			t.Fatal(err)
		}
		closeAll(t, zw)
	}
	closeAll(t, f)
	dest := filepath.Join(dir, "out")

	res, err := Extract(t.Context(), archive, dest, Limits{})
	if err != nil {
		t.Fatal(err)
	}

	mask := umask(t)
	checkFile(t, dest, "reports/junit.xml", "<testsuites/>", 0o666&^mask)
	checkFile(t, dest, "coverage.xml", "<coverage/>", 0o666&^mask)
	if res.Files != 2 || res.Dirs != 1 {
		t.Errorf("got %+v, want 2 files and 1 directory", res)
	}
}

func TestExtractNamesAnUnnamedCompressedFileAfterTheArchive(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "report.json.zst")
	f := create(t, archive)
	zw, err := codecWriters[".zst"](f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(zw, `{"ok":true}`); err != nil {
		t.Fatal(err)
	}
	closeAll(t, zw, f)

	if _, err := Extract(t.Context(), archive, dir, Limits{}); err != nil {
		t.Fatal(err)
	}

	checkFile(t, dir, "report.json", `{"ok":true}`, 0o666&^umask(t))
}

func TestExtractStopsOnCanceledContextAndLeavesNothing(t *testing.T) {
	for _, name := range []string{"a.zip", "a.tar.gz"} {
		t.Run("a canceled "+name+" leaves the destination as it was", func(t *testing.T) {
			parent := t.TempDir()
			archive := filepath.Join(parent, name)
			if strings.HasSuffix(name, ".zip") {
				writeZip(t, archive, artifactEntries...)
			} else {
				writeTar(t, archive, gzipWriter, artifactEntries...)
			}
			dest := filepath.Join(parent, "dest")
			writeFile(t, filepath.Join(dest, "keep.txt"), "keep")
			before := snapshot(t, parent)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()

			_, err := Extract(ctx, archive, dest, Limits{})

			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			if diff := diffSnapshots(before, snapshot(t, parent)); diff != "" {
				t.Errorf("changed:%s", diff)
			}
		})
	}
}

func TestExtractRefusesOneEntryOverTheDefaultCap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a zip of 100,001 entries")
	}
	parent := t.TempDir()
	archive := filepath.Join(parent, "many.zip")
	f := create(t, archive)
	zw := zip.NewWriter(f)
	for i := range DefaultMaxEntries + 1 {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: "f" + strconv.Itoa(i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	closeAll(t, zw, f)
	dest := filepath.Join(parent, "dest")

	_, err := Extract(t.Context(), archive, dest, Limits{})

	checkRefused(t, err, "", "more than 100000 entries")
	if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dest was created (%v)", err)
	}
}

func TestExtractAcceptsWhatItShould(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		check   func(t *testing.T, dest string)
	}{
		{"a ./ prefix and repeated directories are fine",
			[]entry{dir("./", 0o755), dir("./a/", 0o755), file("./a/x", "x", 0o644), dir("a/", 0o700)},
			func(t *testing.T, dest string) { checkFile(t, dest, "a/x", "x", 0o644&^umask(t)) }},
		{"a symlink to the destination itself stays inside",
			[]entry{symlink("self", "."), symlink("sub/up", "..")},
			func(t *testing.T, dest string) { checkLink(t, dest, "self", "."); checkLink(t, dest, "sub/up", "..") }},
		{"an empty archive extracts nothing", nil,
			func(t *testing.T, dest string) {
				if names, _ := os.ReadDir(dest); len(names) != 0 {
					t.Errorf("dest holds %v", names)
				}
			}},
		{"a read-only directory still gets its files",
			[]entry{dir("ro/", 0o555), file("ro/x", "x", 0o444)},
			func(t *testing.T, dest string) { checkFile(t, dest, "ro/x", "x", 0o444&^umask(t)) }},
	}
	for _, tc := range tests {
		for _, format := range []string{"zip", "tar"} {
			t.Run(tc.name+" in a "+format, func(t *testing.T) {
				t.Parallel()
				archive := filepath.Join(t.TempDir(), "a")
				if format == "zip" {
					writeZip(t, archive, tc.entries...)
				} else {
					writeTar(t, archive, nil, tc.entries...)
				}
				dest := t.TempDir()
				if _, err := Extract(t.Context(), archive, dest, Limits{}); err != nil {
					t.Fatal(err)
				}
				tc.check(t, dest)
				checkNoStaging(t, dest)
			})
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ raw, want, why string }{
		{"a/b/c.txt", "a/b/c.txt", ""},
		{"./a//b/", "a/b", ""},
		{"./", ".", ""},
		{"...", "...", ""},
		{"a..b/c", "a..b/c", ""},
		{"", "", "empty name"},
		{"..", "", "path escapes the destination"},
		{"a/../b", "", "path escapes the destination"},
		{"/abs", "", "absolute path"},
		{"c:x", "", "Windows drive letter in name"},
		{`a\b`, "", "backslash in name"},
		{"a\x00", "", "NUL byte in name"},
		{"a\x1b[31m", "", "control character in name"},
		{strings.Repeat("d/", 128) + "f", strings.Repeat("d/", 128) + "f", ""},
		{strings.Repeat("d/", 129) + "f", "", "more than 128 directories deep"},
		{strings.Repeat("n", 255), strings.Repeat("n", 255), ""},
		{strings.Repeat("n", 256), "", "a name component longer than 255 bytes"},
		{strings.Repeat("n/", 2048) + "x", "", "name longer than 4096 bytes"},
	}
	for _, tc := range tests {
		got, why := cleanName(tc.raw)
		if got != tc.want || why != tc.why {
			t.Errorf("cleanName(%q) = %q, %q; want %q, %q", tc.raw, got, why, tc.want, tc.why)
		}
	}
}

func TestCheckLinkTarget(t *testing.T) {
	tests := []struct{ name, target, why string }{
		{"l", "x", ""},
		{"l", ".", ""},
		{"a/l", "..", ""},
		{"a/b/l", "../../x/./y", ""},
		{"l", "..", "symlink target leaves the destination"},
		{"a/l", "../../x", "symlink target leaves the destination"},
		{"a/l", "x/../..", `symlink target has ".." after a name`},
		{"l", "/etc", "absolute symlink target"},
		{"l", "C:/x", "absolute symlink target"},
		{"l", "", "empty symlink target"},
		{"l", `..\..\x`, "backslash in symlink target"},
	}
	for _, tc := range tests {
		if why := checkLinkTarget(tc.name, tc.target); why != tc.why {
			t.Errorf("checkLinkTarget(%q, %q) = %q, want %q", tc.name, tc.target, why, tc.why)
		}
	}
}
