package gitlabtest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
)

// ArchiveEntry is one member of a test archive. Names and link targets are
// written verbatim — "../x", "/abs" and escaping symlinks included — so tests
// can build hostile archives.
type ArchiveEntry struct {
	Name string // slash-separated; a trailing "/" makes a directory
	Body string
	// Mode holds the permission bits; 0 means 0644, or 0755 for a directory.
	Mode fs.FileMode
	// Symlink, when set, makes the entry a symbolic link to this target; Body
	// is ignored.
	Symlink string
}

// Every entry gets this modification time, so equal inputs give equal bytes.
var archiveTime = epoch

func (e ArchiveEntry) isDir() bool { return strings.HasSuffix(e.Name, "/") && e.Symlink == "" }

func (e ArchiveEntry) perm() fs.FileMode {
	switch {
	case e.Mode != 0:
		return e.Mode.Perm()
	case e.Symlink != "":
		return 0o777
	case e.isDir():
		return 0o755
	}
	return 0o644
}

// BuildZip returns a zip archive of entries, in the given order.
func BuildZip(entries ...ArchiveEntry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if err := addZipEntry(zw, e); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addZipEntry(zw *zip.Writer, e ArchiveEntry) error {
	h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: archiveTime}
	body := e.Body
	switch {
	case e.Symlink != "":
		h.SetMode(fs.ModeSymlink | e.perm())
		h.Method, body = zip.Store, e.Symlink // a zip symlink's content is its target
	case e.isDir():
		h.SetMode(fs.ModeDir | e.perm())
		h.Method, body = zip.Store, ""
	default:
		h.SetMode(e.perm())
	}
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, body)
	return err
}

// BuildTarGz returns a gzip-compressed tar archive of entries, in the given order.
func BuildTarGz(entries ...ArchiveEntry) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := addTarEntry(tw, e); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func addTarEntry(tw *tar.Writer, e ArchiveEntry) error {
	h := &tar.Header{Name: e.Name, Mode: int64(e.perm()), ModTime: archiveTime, Typeflag: tar.TypeReg,
		Size: int64(len(e.Body)), Format: tar.FormatPAX}
	switch {
	case e.Symlink != "":
		h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Symlink, 0
	case e.isDir():
		h.Typeflag, h.Size = tar.TypeDir, 0
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if h.Size == 0 {
		return nil
	}
	_, err := io.WriteString(tw, e.Body)
	return err
}

// MakeZip returns a zip archive holding files (name → content), in name order.
func MakeZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	return MakeZipEntries(t, entriesOf(files)...)
}

// MakeZipEntries is BuildZip that fails the test on error.
func MakeZipEntries(t testing.TB, entries ...ArchiveEntry) []byte {
	t.Helper()
	data, err := BuildZip(entries...)
	if err != nil {
		t.Fatalf("gitlabtest: building zip: %v", err)
	}
	return data
}

// MakeTarGz returns a tar.gz archive holding files (name → content), in name order.
func MakeTarGz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	return MakeTarGzEntries(t, entriesOf(files)...)
}

// MakeTarGzEntries is BuildTarGz that fails the test on error.
func MakeTarGzEntries(t testing.TB, entries ...ArchiveEntry) []byte {
	t.Helper()
	data, err := BuildTarGz(entries...)
	if err != nil {
		t.Fatalf("gitlabtest: building tar.gz: %v", err)
	}
	return data
}

func entriesOf(files map[string]string) []ArchiveEntry {
	var out []ArchiveEntry
	for _, name := range slices.Sorted(maps.Keys(files)) {
		out = append(out, ArchiveEntry{Name: name, Body: files[name]})
	}
	return out
}
