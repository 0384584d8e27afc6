package artifacts

import (
	"fmt"
	"hash"
	"io"
	"sync/atomic"
)

// copyPipelined copies body into f from *off on, like copyAt without a
// limit, but overlaps reading the body with writing and hashing what was
// read: done in one goroutine, the socket idles while the disk and SHA-256
// work, and a single stream falls behind curl (which does not hash). buf is
// split in two halves that the reader and the writer hand back and forth.
func (t *transfer) copyPipelined(f File, off *int64, body io.Reader, h hash.Hash, buf []byte) error {
	half := len(buf) / 2
	free := make(chan []byte, 2)
	free <- buf[:half:half]
	free <- buf[half:]
	full := make(chan []byte, 2)
	var failed atomic.Bool
	werr := make(chan error, 1)
	go func() {
		var err error
		for p := range full {
			if err == nil {
				err = t.writeHashed(f, off, p, h)
				failed.Store(err != nil)
			}
			free <- p[:cap(p)]
		}
		werr <- err
	}()
	rerr := readInto(body, free, full, &failed)
	close(full)
	if err := <-werr; err != nil {
		return err
	}
	if rerr != nil {
		return fmt.Errorf("reading the body at byte %d: %w", *off, rerr)
	}
	return nil
}

// readInto reads body into free buffers and passes them on until the body
// ends (nil), fails (its error) or the writer failed. It takes what one
// Read returns rather than waiting for a full buffer: on a fast link that
// is most of the buffer, on a slow one the bytes reach the disk (and a
// resume offset) at once.
func readInto(body io.Reader, free chan []byte, full chan<- []byte, failed *atomic.Bool) error {
	for !failed.Load() {
		p := <-free
		n, err := body.Read(p)
		if n > 0 {
			full <- p[:n]
		} else {
			free <- p
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeHashed writes p at *off, feeds the hash and advances the offset. A
// failed write is fatal: a full disk does not get better by retrying.
func (t *transfer) writeHashed(f File, off *int64, p []byte, h hash.Hash) error {
	if err := t.o.capSize(*off+int64(len(p)), "the body grew past"); err != nil {
		return err
	}
	if _, err := f.WriteAt(p, *off); err != nil {
		return fatal(fmt.Errorf("writing %s: %w", f.Name(), err))
	}
	if h != nil {
		h.Write(p)
	}
	*off += int64(len(p))
	t.best = max(t.best, *off)
	t.m.add(len(p))
	return nil
}
