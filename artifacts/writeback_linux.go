package artifacts

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// writebackFile (used with Options.Fsync) starts the kernel writing a download's pages to disk while
// it arrives (sync_file_range with SYNC_FILE_RANGE_WRITE, which does not
// wait), so the fsync that makes the finished file durable has little left
// to do instead of flushing a gigabyte at the end.
type writebackFile struct {
	*os.File
	pending atomic.Int64
}

func withWriteback(f *os.File) File { return &writebackFile{File: f} }

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.File.Write(p)
	w.wrote(n)
	return n, err
}

func (w *writebackFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := w.File.WriteAt(p, off)
	w.wrote(n)
	return n, err
}

// wrote kicks writeback of every dirty page of the file (offset 0, length 0
// means all of it) once enough bytes have piled up.
func (w *writebackFile) wrote(n int) {
	if w.pending.Add(int64(n)) < writebackEvery {
		return
	}
	w.pending.Store(0)
	_ = unix.SyncFileRange(int(w.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
