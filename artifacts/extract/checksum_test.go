package extract

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// compressedTar is a tar of entries through compress, as bytes.
func compressedTar(t *testing.T, compress func(io.Writer) (io.WriteCloser, error), entries ...entry) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a")
	writeTar(t, p, compress, entries...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zstdWriter(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) }

// extractBytes writes data as an archive and extracts it into a dest that
// does not exist yet.
func extractBytes(t *testing.T, data []byte, name string) (Result, string, error) {
	t.Helper()
	parent := t.TempDir()
	archive := filepath.Join(parent, name)
	if err := os.WriteFile(archive, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(parent, "dest")
	res, err := Extract(t.Context(), archive, dest, Limits{})
	return res, dest, err
}

func TestACompressedTarIsCheckedToTheEndOfItsStream(t *testing.T) {
	entries := []entry{file("a.txt", strings.Repeat("artifact ", 1000), 0o644)}
	flipAt := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 0x01; return b }
	gz := compressedTar(t, gzipWriter, entries...)
	zs := compressedTar(t, zstdWriter, entries...)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"a gzip CRC-32 that does not match", flipAt(gz, len(gz)-8), "corrupt"},
		{"a gzip length that does not match", flipAt(gz, len(gz)-1), "corrupt"},
		{"a zstd checksum that does not match", flipAt(zs, len(zs)-1), "corrupt"},
		{"data after the end of the tar", gzipOf(t, append(compressedTar(t, nil, entries...), "hidden"...), ""), "follows the end"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, dest, err := extractBytes(t, tc.data, "a.tar.x")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if _, serr := os.Lstat(dest); !os.IsNotExist(serr) {
				t.Errorf("dest exists after the failure: %v", serr)
			}
		})
	}
}

// gzipOf is data as one gzip member named name.
func gzipOf(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name = name
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAGzipArtifactThatStartsWithZerosIsOneFile(t *testing.T) {
	for _, content := range [][]byte{
		append(make([]byte, 4096), "the data after the zeros"...),
		make([]byte, 8192),
	} {
		res, dest, err := extractBytes(t, gzipOf(t, content, "disk.img"), "artifacts.gz")
		if err != nil {
			t.Fatal(err)
		}
		got, rerr := os.ReadFile(filepath.Join(dest, "disk.img"))
		if rerr != nil || !bytes.Equal(got, content) || res.Files != 1 {
			t.Fatalf("extracted %d files, disk.img: %d bytes (%v); want the %d-byte file", res.Files, len(got), rerr, len(content))
		}
	}
}

func TestValidTarHeader(t *testing.T) {
	tarball := compressedTar(t, nil, file("x", "y", 0o644))
	block := bytes.Clone(tarball[:512])
	if !validTarHeader(block) {
		t.Fatal("a real header is not valid")
	}
	block[0] ^= 1
	if validTarHeader(block) {
		t.Error("a header with a wrong checksum is valid")
	}
	if validTarHeader(make([]byte, 512)) {
		t.Error("a zero block is a valid header")
	}
}
