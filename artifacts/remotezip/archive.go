// Package remotezip lists a zip archive and extracts single entries from it
// by byte ranges: the end records and central directory from the archive's
// tail, then only the one entry's local header and data. Over HTTP
// (HTTPSource) that is how one file of a job's artifacts is read with a job
// token on every GitLab tier, where the only job-token route serves the
// whole archive (GET /api/v4/jobs/:id/artifacts) and answers Range
// requests, without downloading the archive.
package remotezip

import (
	"context"
	"slices"
)

// Archive is an opened zip archive: its central directory, read once, and
// the source its entries are read from.
type Archive struct {
	src      Source
	entries  []Entry
	dirStart int64            // first byte of the central directory
	starts   []int64          // sorted distinct local header offsets
	index    map[string][]int // lookup key → entries
}

// Open reads src's end records and central directory. Over HTTP that is
// the tail NewHTTP already holds, plus one request when the directory is
// longer than that tail.
func Open(ctx context.Context, src Source) (*Archive, error) {
	d, err := readEnd(ctx, src)
	if err != nil {
		return nil, err
	}
	b, err := readAt(ctx, src, int64(d.offset), int64(d.size))
	if err != nil {
		return nil, err
	}
	entries, err := parseDirectory(b, d, int64(d.offset))
	if err != nil {
		return nil, err
	}
	return newArchive(src, entries, int64(d.offset)), nil
}

// readEnd finds and checks the end records.
func readEnd(ctx context.Context, src Source) (directory, error) {
	size := src.Size()
	if size < endLen {
		return directory{}, formatError("%d bytes are too few for a zip archive", size)
	}
	tailOff := size - min(size, maxEndSearch)
	tail, err := readAt(ctx, src, tailOff, size-tailOff)
	if err != nil {
		return directory{}, err
	}
	d, err := findEnd(tail, tailOff)
	if err != nil || d.locator64At < 0 {
		return d, errOr(err, d.check)
	}
	at := locator64(tail[d.locator64At-tailOff:])
	if d.locator64At < end64Len || at > uint64(d.locator64At-end64Len) {
		return d, formatError("the zip64 end record (at %d) lies outside the archive", at)
	}
	rec, err := readAt(ctx, src, int64(at), end64Len)
	if err != nil {
		return d, err
	}
	if err := d.applyEnd64(rec, int64(at)); err != nil {
		return d, err
	}
	return d, d.check()
}

func errOr(err error, f func() error) error {
	if err != nil {
		return err
	}
	return f()
}

func newArchive(src Source, entries []Entry, dirStart int64) *Archive {
	a := &Archive{src: src, entries: entries, dirStart: dirStart, index: make(map[string][]int, len(entries))}
	a.starts = make([]int64, len(entries))
	for i, e := range entries {
		a.starts[i] = e.offset
		k := entryKey(e.Name)
		a.index[k] = append(a.index[k], i)
	}
	slices.Sort(a.starts)
	a.starts = slices.Compact(a.starts)
	return a
}

// Entries returns the archive's entries in central-directory order.
func (a *Archive) Entries() []Entry { return slices.Clone(a.entries) }

// next returns where the data of the entry whose local header is at off
// must end at the latest: the next local header, or the directory.
func (a *Archive) next(off int64) int64 {
	i, found := slices.BinarySearch(a.starts, off)
	if found {
		i++
	}
	if i < len(a.starts) {
		return a.starts[i]
	}
	return a.dirStart
}
