package remotezip

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/klauspost/compress/flate"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// Extract writes the data of the entry a user's name denotes (see Lookup)
// to w and returns the bytes written. It reads the entry's local header and
// data only, in one ranged request in a well-formed archive (none when they
// lie in the tail already read), inflates deflated data, and checks the
// CRC-32 and size the central directory declares. w sees the data before
// that check: write to a temporary file and keep it only on a nil error.
// Directories, symlinks, special files, encrypted entries and compression
// methods other than store and deflate are refused (ErrUnsupported).
func (a *Archive) Extract(ctx context.Context, name string, w io.Writer) (int64, error) {
	e, err := a.Lookup(name)
	if err != nil {
		return 0, err
	}
	return a.extract(ctx, e, w)
}

// ExtractFile extracts the entry a user's name denotes (see Extract) into
// the file dst through a temporary file next to it, renamed into place only
// once the CRC-32 and size are checked: on any error nothing is left at dst
// and a file already there is untouched. The file gets the entry's
// permission bits (0644 when the archive records none) and modification
// time. It returns the entry and the bytes written.
func (a *Archive) ExtractFile(ctx context.Context, name, dst string) (Entry, int64, error) {
	e, err := a.Lookup(name)
	if err != nil {
		return Entry{}, 0, err
	}
	if err := extractable(e); err != nil {
		return Entry{}, 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.part")
	if err != nil {
		return Entry{}, 0, err
	}
	n, err := a.extract(ctx, e, f)
	if err == nil {
		err = finish(f, e)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		os.Remove(f.Name())
		return Entry{}, n, err
	}
	return e, n, nil
}

// finish gives the extracted file the entry's mode and time.
func finish(f *os.File, e Entry) error {
	if err := f.Chmod(e.Perm()); err != nil {
		return err
	}
	return os.Chtimes(f.Name(), time.Time{}, e.Modified)
}

func (a *Archive) extract(ctx context.Context, e Entry, w io.Writer) (int64, error) {
	if err := extractable(e); err != nil {
		return 0, err
	}
	data, err := a.openData(ctx, e)
	if err != nil {
		return 0, err
	}
	defer data.Close()
	n, err := copyChecked(w, decompress(e.Method, data), e)
	if err != nil {
		return n, fmt.Errorf("entry %s: %w", entryname.Quote(e.Name), err)
	}
	return n, nil
}

// extractable refuses what cannot be one file's content.
func extractable(e Entry) error {
	why := ""
	switch {
	case e.IsDir:
		why = "is a directory"
	case e.IsSymlink:
		why = "is a symbolic link"
	case !e.Mode.IsRegular():
		why = "is a special file (" + e.Mode.Type().String() + ")"
	case e.Encrypted:
		why = "is encrypted"
	case e.Method != 0 && e.Method != 8:
		why = "uses compression method " + strconv.Itoa(int(e.Method)) + " (only store and deflate are supported)"
	case e.Method == 0 && e.CompressedSize != e.Size:
		return formatError("stored entry %s declares %d bytes stored and %d bytes long", entryname.Quote(e.Name), e.CompressedSize, e.Size)
	}
	if why != "" {
		return fmt.Errorf("entry %s %s: %w", entryname.Quote(e.Name), why, ErrUnsupported)
	}
	return nil
}

// openData returns the entry's compressed data; closing it stops the read.
func (a *Archive) openData(ctx context.Context, e Entry) (io.ReadCloser, error) {
	end := min(max(a.next(e.offset), e.offset+localLen+int64(len(e.Name))+e.CompressedSize), a.dirStart)
	s := openStream(ctx, a.src, e.offset, end-e.offset)
	header, err := readLocal(s, e)
	if err != nil {
		s.Close()
		return nil, err
	}
	start := e.offset + header
	if start > a.dirStart || e.CompressedSize > a.dirStart-start {
		s.Close()
		return nil, formatError("entry %s: its data runs into the central directory", entryname.Quote(e.Name))
	}
	if start+e.CompressedSize > end { // overlapping entries: read the data on its own
		s.Close()
		s = openStream(ctx, a.src, start, e.CompressedSize)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(s, e.CompressedSize), s}, nil
}

// readLocal reads the local file header and returns its length.
func readLocal(r io.Reader, e Entry) (int64, error) {
	var h [localLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, fmt.Errorf("reading the local header of %s: %w", entryname.Quote(e.Name), noEOF(err))
	}
	if le32(h[:]) != sigLocal {
		return 0, formatError("entry %s: no local file header at byte %d", entryname.Quote(e.Name), e.offset)
	}
	nameLen, extraLen := int64(le16(h[26:])), int64(le16(h[28:]))
	name := make([]byte, nameLen)
	if _, err := io.ReadFull(r, name); err != nil {
		return 0, fmt.Errorf("reading the local header of %s: %w", entryname.Quote(e.Name), noEOF(err))
	}
	if string(name) != e.Name {
		return 0, formatError("entry %s: its local header names %s", entryname.Quote(e.Name), entryname.Quote(string(name)))
	}
	if _, err := io.CopyN(io.Discard, r, extraLen); err != nil {
		return 0, fmt.Errorf("reading the local header of %s: %w", entryname.Quote(e.Name), noEOF(err))
	}
	return localLen + nameLen + extraLen, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func decompress(method uint16, r io.Reader) io.Reader {
	if method == 8 {
		return flate.NewReader(r)
	}
	return r
}

// copyChecked copies the entry's uncompressed data to w, at most one byte
// more than declared, and checks its size and CRC-32.
func copyChecked(w io.Writer, r io.Reader, e Entry) (int64, error) {
	h := crc32.NewIEEE()
	ew := &errWriter{w: w}
	n, err := io.Copy(io.MultiWriter(ew, h), io.LimitReader(r, e.Size+1))
	var corrupt flate.CorruptInputError
	switch {
	case ew.err != nil:
		return n, ew.err
	case errors.As(err, &corrupt) || err == io.ErrUnexpectedEOF: // the inflater's own verdicts
		return n, fmt.Errorf("%w: deflate data is corrupt (%v)", ErrChecksum, err)
	case err != nil:
		return n, err
	case n != e.Size:
		return n, fmt.Errorf("%w: %d bytes, the archive declares %d", ErrChecksum, min(n, e.Size+1), e.Size)
	case h.Sum32() != e.CRC32:
		return n, fmt.Errorf("%w: CRC-32 %08x, the archive declares %08x", ErrChecksum, h.Sum32(), e.CRC32)
	}
	return n, nil
}

// errWriter remembers its writer's error, to tell a failed write (a full
// disk) from a failed read.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// stream is a range of the source read by a goroutine through a pipe, so
// that the source's retries and resumes stay inside Source.WriteRange.
type stream struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

func openStream(ctx context.Context, src Source, off, n int64) *stream {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	s := &stream{pr: pr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		pw.CloseWithError(src.WriteRange(ctx, pw, off, n))
	}()
	return s
}

func (s *stream) Read(p []byte) (int, error) { return s.pr.Read(p) }

// Close stops the read and waits for its goroutine.
func (s *stream) Close() error {
	s.cancel()
	s.pr.Close()
	<-s.done
	return nil
}
