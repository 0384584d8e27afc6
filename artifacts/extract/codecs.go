package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"io"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/mikelolasagasti/xz"
	"github.com/minio/minlz"
	"github.com/pierrec/lz4/v4"
)

// codec is one compression extract reads: recognised by its magic number,
// decompressed by the library that reads it best. The libraries are the
// ones github.com/mholt/archives reads these formats with (but lzip, read
// by lzip.go as a stream over the LZMA decoder); importing them
// directly instead of through it keeps the formats it would also register
// at start-up (7z, rar, brotli and their dependencies) out of the binary,
// and every stage pays the start-up.
type codec struct {
	ext   string // the file-name extension, with its dot
	magic []byte
	open  func(io.Reader) (io.ReadCloser, error)
}

// Extension is the file-name extension of the compression, with its dot.
func (c *codec) Extension() string { return c.ext }

// OpenReader decompresses r; the caller closes the reader.
func (c *codec) OpenReader(r io.Reader) (io.ReadCloser, error) { return c.open(r) }

// matches reports whether r starts with the codec's magic number.
func (c *codec) matches(r io.Reader) bool {
	head := make([]byte, len(c.magic))
	_, err := io.ReadFull(r, head)
	return err == nil && bytes.Equal(head, c.magic)
}

var (
	gzipCodec = &codec{".gz", []byte{0x1f, 0x8b}, func(r io.Reader) (io.ReadCloser, error) {
		return gzip.NewReader(r)
	}}
	// zstdCodec caps the decoder window at 128 MiB, the zstd tool's own
	// default limit, instead of the library's 512 MiB, which a hostile frame
	// could claim.
	zstdCodec = &codec{".zst", []byte{0x28, 0xb5, 0x2f, 0xfd}, func(r io.Reader) (io.ReadCloser, error) {
		zr, err := zstd.NewReader(r, zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}}
	xzCodec = &codec{".xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, func(r io.Reader) (io.ReadCloser, error) {
		xr, err := xz.NewReader(r, 0)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(xr), nil
	}}
	bzip2Codec = &codec{".bz2", []byte("BZh"), func(r io.Reader) (io.ReadCloser, error) {
		return bzip2.NewReader(r, nil)
	}}
)

// compressions are tried in this order, each by its magic number. Brotli and
// zlib are left out: they have no reliable magic, so either could take a tar
// for its own.
var compressions = []*codec{
	gzipCodec, zstdCodec, xzCodec, bzip2Codec,
	{".lz4", []byte{0x04, 0x22, 0x4d, 0x18}, func(r io.Reader) (io.ReadCloser, error) {
		return io.NopCloser(lz4.NewReader(r)), nil
	}},
	{".lz", []byte("LZIP"), func(r io.Reader) (io.ReadCloser, error) {
		lr, err := newLzipReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(lr), nil
	}},
	{".mz", []byte("\xff\x06\x00\x00MinLz"), func(r io.Reader) (io.ReadCloser, error) {
		return io.NopCloser(minlz.NewReader(r)), nil
	}},
	// Framed snappy, read by S2, which reads snappy and its own extensions.
	{".sz", []byte("\xff\x06\x00\x00sNaPpY"), func(r io.Reader) (io.ReadCloser, error) {
		return io.NopCloser(s2.NewReader(r)), nil
	}},
}

// walkTar calls entry for each entry of the tar in r, in order, with the
// entry's content; a pax global header is no entry. It returns entry's own
// error as is, the tar reader's too, and stops early if ctx is done.
func walkTar(ctx context.Context, r io.Reader, entry func(hdr *tar.Header, content io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if err := entry(hdr, tr); err != nil {
			return err
		}
	}
}
