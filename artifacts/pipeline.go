package artifacts

import (
	"fmt"
	"hash"
	"io"
	"sync/atomic"
)

// copyPipelined copies body into f from *off on, like copyAt without a
// limit, but overlaps reading the body, writing the file and hashing what
// was written: done in one goroutine, the socket idles while the disk and
// SHA-256 work, and a single stream falls behind curl (which does not
// hash). buf is split in quarters that the reader, the writer and, when
// there is a digest to compute, the hasher on another core hand on in turn.
func (t *transfer) copyPipelined(f File, off *int64, body io.Reader, h hash.Hash, buf []byte) error {
	const parts = 4
	n := len(buf) / parts
	free := make(chan []byte, parts)
	for i := range parts {
		free <- buf[i*n : (i+1)*n : (i+1)*n]
	}
	full := make(chan []byte, parts)
	var failed atomic.Bool
	werr := make(chan error, 1)
	hashed := startHasher(h, free)
	go func() {
		var err error
		for p := range full {
			if err == nil {
				err = t.writeAt(f, off, p)
				failed.Store(err != nil)
			}
			hashed.next(p, err == nil)
		}
		hashed.wait()
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

// hasher feeds written buffers to a hash on its own goroutine and then
// hands them back to the reader; without a hash it hands them back at once.
type hasher struct {
	h    hash.Hash
	in   chan []byte
	free chan<- []byte
	done chan struct{}
}

func startHasher(h hash.Hash, free chan<- []byte) *hasher {
	hs := &hasher{h: h, free: free}
	if h == nil {
		return hs
	}
	hs.in, hs.done = make(chan []byte, cap(free)), make(chan struct{})
	go func() {
		defer close(hs.done)
		for p := range hs.in {
			h.Write(p)
			free <- p[:cap(p)]
		}
	}()
	return hs
}

// next passes p on, to be hashed when write says it was written.
func (hs *hasher) next(p []byte, written bool) {
	if hs.h == nil || !written {
		hs.free <- p[:cap(p)]
		return
	}
	hs.in <- p
}

// wait returns once every buffer passed on is hashed.
func (hs *hasher) wait() {
	if hs.h != nil {
		close(hs.in)
		<-hs.done
	}
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

// writeAt writes p at *off and advances the offset. A failed write is
// fatal: a full disk does not get better by retrying.
func (t *transfer) writeAt(f File, off *int64, p []byte) error {
	if err := t.o.capSize(*off+int64(len(p)), "the body grew past"); err != nil {
		return err
	}
	if _, err := f.WriteAt(p, *off); err != nil {
		return fatal(fmt.Errorf("writing %s: %w", f.Name(), err))
	}
	*off += int64(len(p))
	t.best = max(t.best, *off)
	t.m.add(len(p))
	return nil
}
