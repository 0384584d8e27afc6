package extract

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/minio/minlz"
	"github.com/pierrec/lz4/v4"
	"github.com/sorairolake/lzip-go"
	"github.com/ulikunitz/xz"
)

// codecWriters compress with each format's own writer, keyed by extension:
// what other tools produce, not what our readers expect.
var codecWriters = map[string]func(io.Writer) (io.WriteCloser, error){
	".gz":  func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil },
	".zst": func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) },
	".xz":  func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) },
	".bz2": func(w io.Writer) (io.WriteCloser, error) { return bzip2.NewWriter(w, nil) },
	".lz4": func(w io.Writer) (io.WriteCloser, error) { return lz4.NewWriter(w), nil },
	".lz":  func(w io.Writer) (io.WriteCloser, error) { return lzip.NewWriter(w), nil },
	".mz":  func(w io.Writer) (io.WriteCloser, error) { return minlz.NewWriter(w), nil },
	".sz":  func(w io.Writer) (io.WriteCloser, error) { return s2.NewWriter(w, s2.WriterSnappyCompat()), nil },
}

func TestEveryCompressionHasAWriterInTheseTests(t *testing.T) {
	for _, c := range compressions {
		if codecWriters[c.Extension()] == nil {
			t.Errorf("no test writer for %s", c.Extension())
		}
	}
	if len(codecWriters) != len(compressions) {
		t.Errorf("%d test writers for %d compressions", len(codecWriters), len(compressions))
	}
}

func TestEachCompressionRoundTripsATarDetectedFromItsContent(t *testing.T) {
	mask := umask(t)
	for _, c := range compressions {
		t.Run("a tar"+c.Extension()+" extracts every entry", func(t *testing.T) {
			t.Parallel()
			archive := filepath.Join(t.TempDir(), "artifacts.bin") // the name says nothing
			writeTar(t, archive, codecWriters[c.Extension()], artifactEntries...)
			dest := filepath.Join(t.TempDir(), "dest")
			res, err := Extract(t.Context(), archive, dest, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Files != 3 || res.Dirs != 4 || res.Symlinks != 3 {
				t.Errorf("got %+v, want 3 files, 4 directories and 3 symlinks", res)
			}
			checkFile(t, dest, "bin/tool", "#!/bin/sh\necho hi\n", 0o755&^mask)
			checkFile(t, dest, "nested/a/b/c.txt", "deep", 0o644&^mask)
			checkLink(t, dest, "nested/a/up", "../../secret.key")
		})
	}
}

func TestEachCompressionOfOneFileExtractsItUnderTheArchiveName(t *testing.T) {
	body := bytes.Repeat([]byte("a report line\n"), 1000)
	for _, c := range compressions {
		t.Run("report.json"+c.Extension()+" becomes report.json", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			archive := filepath.Join(dir, "report.json"+c.Extension())
			f := create(t, archive)
			w, err := codecWriters[c.Extension()](f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(body); err != nil {
				t.Fatal(err)
			}
			closeAll(t, w, f)
			dest := filepath.Join(dir, "dest")
			if _, err := Extract(t.Context(), archive, dest, Limits{}); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(filepath.Join(dest, "report.json")); err != nil || !bytes.Equal(got, body) {
				t.Errorf("report.json: %d bytes (%v), want %d", len(got), err, len(body))
			}
		})
	}
}

func TestZipEntriesCompressedWithBzip2ZstdOrXzExtract(t *testing.T) {
	methods := map[uint16]string{zipBzip2: ".bz2", zipZstd: ".zst", zipXz: ".xz"}
	dir := t.TempDir()
	archive := filepath.Join(dir, "a.zip")
	f := create(t, archive)
	zw := zip.NewWriter(f)
	for method, ext := range methods {
		// Raw: archive/zip writes the local header only after it has made
		// the compressor, and the xz writer writes its stream header at once.
		body := []byte("through " + ext)
		data := compress(t, codecWriters[ext], body)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "file" + ext, Method: method, CRC32: crc32.ChecksumIEEE(body),
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(body))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	closeAll(t, zw, f)
	dest := filepath.Join(dir, "dest")
	if _, err := Extract(t.Context(), archive, dest, Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, ext := range methods {
		checkFile(t, dest, "file"+ext, "through "+ext, 0o666&^umask(t))
	}
}

func compress(t *testing.T, writer func(io.Writer) (io.WriteCloser, error), body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := writer(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	closeAll(t, w)
	return buf.Bytes()
}
