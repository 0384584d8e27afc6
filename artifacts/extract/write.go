package extract

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// extractor writes validated entries into the staging tree and keeps the
// counts and budgets. Files may be written concurrently; everything else is
// called from one goroutine.
type extractor struct {
	tree  *os.Root
	lim   Limits
	umask fs.FileMode
	ns    namespace

	entries int           // entries seen, for streamed formats
	links   []pendingLink // created last, so nothing is ever written through them

	written  atomic.Int64
	consumed func() int64 // archive bytes read so far (streamed formats); nil for zip

	files          atomic.Int64
	dirs, symlinks int
}

type pendingLink struct{ name, raw, target string }

func newExtractor(st *staging, lim Limits) *extractor {
	return &extractor{tree: st.tree, lim: lim, umask: st.umask, ns: namespace{}}
}

func (x *extractor) result() Result {
	return Result{Files: int(x.files.Load()), Dirs: x.dirs, Symlinks: x.symlinks, Bytes: x.written.Load()}
}

// countEntry enforces MaxEntries on streamed formats, where the count is
// only known by reading.
func (x *extractor) countEntry() error {
	x.entries++
	if x.lim.MaxEntries >= 0 && x.entries > x.lim.MaxEntries {
		return refuse("", "more than %d entries", x.lim.MaxEntries)
	}
	return nil
}

// countImplied counts the directories an entry's path implies against
// MaxEntries: they cost an inode and a system call each like any entry, and
// 100,000 entries of 128 fresh parents each would otherwise make 12.8 million
// directories out of a few megabytes of tar.gz.
func (x *extractor) countImplied(raw string, n int) error {
	x.entries += n
	return checkImplied(raw, x.entries, x.lim)
}

func checkImplied(raw string, entries int, lim Limits) error {
	if lim.MaxEntries >= 0 && entries > lim.MaxEntries {
		return refuse(raw, "more than %d entries, counting the directories their paths imply", lim.MaxEntries)
	}
	return nil
}

// mkdirs creates directories implied by an entry's path.
func (x *extractor) mkdirs(raw string, dirs []string) error {
	for _, d := range dirs {
		if err := x.tree.Mkdir(d, 0o755); err != nil {
			return entryErr(raw, err)
		}
		x.dirs++
	}
	return nil
}

// mkdir creates a directory entry; seen means it was created earlier (implied
// by a path, or repeated), so only its mode changes. Directories keep owner
// rwx so their entries can be written and the user can remove them.
func (x *extractor) mkdir(name, raw string, perm fs.FileMode, seen bool) error {
	perm = entryname.Perm(perm) | 0o700
	var err error
	if seen {
		err = x.tree.Chmod(name, perm&^x.umask)
	} else {
		err = x.tree.Mkdir(name, perm)
		x.dirs++
	}
	if err != nil {
		return entryErr(raw, err)
	}
	return nil
}

// writeFile creates name (which must not exist: O_EXCL never follows or
// reuses anything) and copies r into it. readErr turns a read error into the
// error to report.
func (x *extractor) writeFile(ctx context.Context, name, raw string, r io.Reader, perm fs.FileMode, mtime time.Time, readErr func(error) error) error {
	f, err := x.tree.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, entryname.Perm(perm))
	if err != nil {
		return entryErr(raw, err)
	}
	werr := x.copy(ctx, f, r, raw, readErr)
	if err := f.Close(); werr == nil && err != nil {
		werr = entryErr(raw, err)
	}
	if werr != nil {
		return werr
	}
	if !mtime.IsZero() {
		if err := x.tree.Chtimes(name, time.Time{}, mtime); err != nil {
			return entryErr(raw, err)
		}
	}
	x.files.Add(1)
	return nil
}

// bufPool holds the copy buffers: large enough for few syscalls on big files,
// pooled so 10,000 small files do not allocate 10,000 buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copy streams r to w in bounded memory, spending the byte budget before each
// write so no limit is ever overshot on disk.
func (x *extractor) copy(ctx context.Context, w io.Writer, r io.Reader, raw string, readErr func(error) error) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if err := x.spend(raw, int64(n)); err != nil {
				return err
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return entryErr(raw, err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return readErr(rerr)
		}
	}
}

// spend adds n written bytes to the budget and checks MaxBytes and, for
// streamed formats, the whole archive's ratio.
func (x *extractor) spend(raw string, n int64) error {
	total := x.written.Add(n)
	if x.lim.MaxBytes >= 0 && total > x.lim.MaxBytes {
		return refuse(raw, "archive expands past the limit of %s", size(x.lim.MaxBytes))
	}
	if x.consumed != nil && x.lim.MaxRatio >= 0 && total > ratioFloor {
		if c := max(x.consumed(), 1); float64(total) > x.lim.MaxRatio*float64(c) {
			return refuse(raw, "archive expands more than %g times its compressed size", x.lim.MaxRatio)
		}
	}
	return nil
}

// addLink validates a symlink and defers its creation to the end.
func (x *extractor) addLink(name, raw, target string) error {
	if why := checkLinkTarget(name, target); why != "" {
		return refuse(raw, "%s", why)
	}
	x.links = append(x.links, pendingLink{name, raw, target})
	return nil
}

func (x *extractor) createLinks() error {
	for _, l := range x.links {
		if err := x.tree.Symlink(l.target, l.name); err != nil {
			return entryErr(l.raw, err)
		}
		x.symlinks++
	}
	return nil
}

// entryErr reports an I/O error on the entry raw, quoted. The error's own
// path is dropped (pathless): it is the entry's name, which printed as is
// would let an archive put bidi overrides, C1 controls or line separators
// into the job log.
func entryErr(raw string, err error) error {
	return fmt.Errorf("extracting %s: %w", entryname.Quote(raw), pathless(err))
}

// pathless strips the path from an error of the os package, keeping its
// operation and cause (errors.Is still finds the errno).
func pathless(err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		return fmt.Errorf("%s: %w", e.Op, e.Err)
	case *os.LinkError:
		return fmt.Errorf("%s: %w", e.Op, e.Err)
	}
	return err
}

// size formats a byte count for a message.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.4g %ciB", v, "KMGTP"[i])
}
