package remotezip

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// Source is a zip archive read by byte ranges: over HTTP (HTTPSource) or
// from any io.ReaderAt (ReaderAtSource).
type Source interface {
	// Size is the archive's length in bytes.
	Size() int64
	// WriteRange writes the archive's bytes [off, off+n) to w, all of them
	// or an error. Writing (rather than returning a reader) lets an HTTP
	// source resume a broken body inside its retry policy.
	WriteRange(ctx context.Context, w io.Writer, off, n int64) error
}

// ReaderAtSource reads an archive from an io.ReaderAt, e.g. an *os.File.
type ReaderAtSource struct {
	r    io.ReaderAt
	size int64
}

// NewReaderAt returns a Source over the first size bytes of r.
func NewReaderAt(r io.ReaderAt, size int64) *ReaderAtSource {
	return &ReaderAtSource{r: r, size: size}
}

// Size is the archive's length.
func (s *ReaderAtSource) Size() int64 { return s.size }

// WriteRange copies bytes [off, off+n) to w.
func (s *ReaderAtSource) WriteRange(ctx context.Context, w io.Writer, off, n int64) error {
	if err := checkRange(off, n, s.size); err != nil {
		return err
	}
	got, err := io.Copy(w, io.NewSectionReader(s.r, off, n))
	if err == nil && got < n {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

func checkRange(off, n, size int64) error {
	if off < 0 || n < 0 || off > size || n > size-off {
		return formatError("bytes %d+%d lie outside the archive's %d bytes", off, n, size)
	}
	return nil
}

// readAt returns the archive's bytes [off, off+n); callers bound n.
func readAt(ctx context.Context, src Source, off, n int64) ([]byte, error) {
	if err := checkRange(off, n, src.Size()); err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	if err := src.WriteRange(ctx, buf, off, n); err != nil {
		return nil, fmt.Errorf("reading bytes %d-%d of the archive: %w", off, off+n-1, err)
	}
	if int64(buf.Len()) != n {
		return nil, fmt.Errorf("reading bytes %d-%d of the archive: got %d bytes", off, off+n-1, buf.Len())
	}
	return buf.Bytes(), nil
}
