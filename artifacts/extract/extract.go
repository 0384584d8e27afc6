// Package extract unpacks a downloaded artifacts archive into a directory
// without trusting the archive.
//
// Every write goes through an [os.Root] opened on a staging directory inside
// the destination, so no name, symlink or race can reach outside it. Entries
// are refused, with a one-line [*RefusedError] naming the entry, for absolute
// paths, ".." components, control characters, backslashes and drive letters
// in names, symlinks whose target is absolute or leaves the destination,
// hard links, devices, FIFOs and sockets, paths that go through a symlink of
// the same archive, and archives past the [Limits].
//
// Nothing partial is ever left behind: the archive is extracted into a
// staging directory (".pipeline-artifacts-extract-*", same filesystem), and
// only when every entry succeeded are its top-level entries renamed into the
// destination, merging into existing directories and replacing existing
// files and symlinks. A clash between a file and a directory is refused
// before anything moves; a rename that fails midway is undone.
//
// Formats are detected from content, never from the name: zip (GitLab's
// default, read with the standard library's archive/zip because its central
// directory lets every name, type, link target and size be validated before
// one byte is written, and because its entries can then be written in
// parallel), and tar, bare or compressed with gzip, zstd, xz, bzip2, lz4,
// lzip, MinLZ or snappy (codecs.go). A gzip stream that
// is not a tar is GitLab's "gzip" artifacts format (concatenated members,
// each naming its file in its header); each member becomes one file. Any
// other compressed stream that is not a tar becomes one file named after the
// archive without its compression extension.
//
// Permission bits come from the archive, masked with 0775 (never setuid,
// setgid, sticky or world-writable) and then by the process umask, like files
// the job writes itself; directories always keep owner rwx. File modification times are kept.
package extract

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// Defaults for the zero [Limits].
const (
	// DefaultMaxBytes caps the uncompressed bytes written: 16 GiB.
	DefaultMaxBytes int64 = 16 << 30
	// DefaultMaxEntries caps the entries of one archive, as glab does.
	DefaultMaxEntries = 100_000
	// DefaultMaxRatio caps uncompressed/compressed size. Deflate cannot
	// exceed about 1032:1, which it reaches only on long runs of one byte
	// value, the shape of a zip bomb; real build outputs (binaries 2–4:1,
	// logs and JSON 5–50:1) sit one to two orders of magnitude below.
	DefaultMaxRatio float64 = 1000
)

// ratioFloor is how many uncompressed bytes an archive (or a zip entry) may
// produce before its ratio is judged: below it a ratio does no harm, and
// tiny entries (an empty file, a line of spaces) have meaningless ratios.
const ratioFloor = 1 << 20

// Limits bounds what one archive may do. A zero field takes its default; a
// negative field disables that check.
type Limits struct {
	// MaxBytes caps the total uncompressed bytes written (default 16 GiB).
	// Zip's declared sizes are checked before extraction starts and the
	// bytes actually written are counted, since declared sizes can lie.
	MaxBytes int64
	// MaxEntries caps the number of entries: files, directories and
	// symlinks, counting the directories their paths imply (default 100,000).
	MaxEntries int
	// MaxRatio caps uncompressed/compressed size (default 1000). For zip it
	// applies to each entry and to the whole archive, from the central
	// directory; for streamed formats to the whole archive, measured while
	// writing (per-entry ratios are unreliable there: the decompressor reads
	// ahead). Judged only past 1 MiB of output.
	MaxRatio float64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxEntries == 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxRatio == 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	return l
}

// Result counts what Extract put in place. Dirs includes directories implied
// by file paths.
type Result struct {
	Files, Dirs, Symlinks int
	Bytes                 int64
}

// RefusedError reports an archive, or one of its entries, that Extract will
// not extract. Nothing has been written to the destination when it is returned.
type RefusedError struct {
	Entry  string // the entry's name as stored in the archive; "" for the whole archive
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Entry == "" {
		return "refusing archive: " + e.Reason
	}
	return fmt.Sprintf("refusing archive entry %s: %s", entryname.Quote(e.Entry), e.Reason)
}

func refuse(entry, format string, args ...any) *RefusedError {
	return &RefusedError{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

// Extract extracts the archive at path archive, a complete local file that
// Extract opens and closes itself, into the directory dest, creating dest
// (0755) if it is missing. It returns what was extracted, or an error after
// which dest is as it was: a [*RefusedError] for a hostile or unsupported
// archive, the context's error if ctx ended, or an I/O error naming the
// entry. ctx is honoured between entries and while copying data; once the
// final renames start they run to the end (they are quick).
func Extract(ctx context.Context, archive, dest string, lim Limits) (Result, error) {
	lim = lim.withDefaults()
	f, err := os.Open(archive)
	if err != nil {
		return Result{}, fmt.Errorf("opening archive: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("opening archive: %w", err)
	}
	fm, err := detect(ctx, f, fi.Size())
	if err != nil {
		return Result{}, err
	}
	var write func(*extractor) error
	if fm.zip {
		plan, err := planZip(f, fi.Size(), lim)
		if err != nil {
			return Result{}, err
		}
		write = func(x *extractor) error { return x.writeZip(ctx, plan) }
	} else {
		write = func(x *extractor) error { return x.writeStream(ctx, f, fm, filepath.Base(archive)) }
	}
	return extractInto(ctx, dest, lim, write)
}

// extractInto runs write against a fresh staging directory in dest and moves
// the result into place, or leaves dest as it was.
func extractInto(ctx context.Context, dest string, lim Limits, write func(*extractor) error) (res Result, err error) {
	created, err := ensureDir(dest)
	if err != nil {
		return Result{}, fmt.Errorf("creating destination: %w", err)
	}
	defer func() {
		if err != nil {
			removeCreated(dest, created)
		}
	}()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return Result{}, fmt.Errorf("opening destination: %w", err)
	}
	defer root.Close()
	st, err := newStaging(root)
	if err != nil {
		return Result{}, err
	}
	x := newExtractor(st, lim)
	err = write(x)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = st.commit()
	}
	if rmErr := st.remove(); err == nil && rmErr != nil {
		err = rmErr
	}
	if err != nil {
		return Result{}, err
	}
	return x.result(), nil
}

// ensureDir creates dir if missing and returns the topmost directory it
// created ("" if none), so a failed extraction can take them away again.
func ensureDir(dir string) (string, error) {
	dir = filepath.Clean(dir)
	if _, err := os.Lstat(dir); err == nil || !errors.Is(err, os.ErrNotExist) {
		return "", nil // exists, or OpenRoot will report why not
	}
	top := dir
	for {
		parent := filepath.Dir(top)
		if parent == top {
			break
		}
		if _, err := os.Lstat(parent); err == nil {
			break
		}
		top = parent
	}
	return top, os.MkdirAll(dir, 0o755)
}

// removeCreated removes the empty directories ensureDir created, deepest first.
func removeCreated(dir, top string) {
	if top == "" {
		return
	}
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if os.Remove(p) != nil || p == top {
			return
		}
	}
}
