package extract

import (
	"archive/zip"
	"context"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// zipPlan is a zip archive validated from its central directory: every name,
// type, mode, link target and declared size checked before anything is
// written, so a refused zip never even creates the destination.
type zipPlan struct {
	ns       namespace
	dirs     []zipDir // parents before children
	dirIndex map[string]int
	files    []zipFile
	links    []pendingLink
	declared uint64
	entries  int // the central directory's, plus the directories their paths imply

	size       uint64 // of the archive
	compressed uint64 // declared by the entries so far
}

type zipDir struct {
	name string
	perm fs.FileMode
}

type zipFile struct {
	f    *zip.File
	name string
}

// planZip reads and validates the central directory of the zip in f.
func planZip(f *os.File, size int64, lim Limits) (*zipPlan, error) {
	if lim.MaxEntries >= 0 && moreCentralRecords(f, size, lim.MaxEntries) {
		return nil, refuse("", "more than %d entries", lim.MaxEntries)
	}
	zr, err := zip.NewReader(f, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure names are refused below, by entry
		return nil, refuse("", "unreadable zip: %v", err)
	}
	registerDecompressors(zr)
	if lim.MaxEntries >= 0 && len(zr.File) > lim.MaxEntries {
		return nil, refuse("", "more than %d entries (%d)", lim.MaxEntries, len(zr.File))
	}
	p := &zipPlan{ns: namespace{}, dirIndex: map[string]int{}, entries: len(zr.File), size: uint64(size)}
	for _, zf := range zr.File {
		if err := p.add(zf, lim); err != nil {
			return nil, err
		}
	}
	if lim.MaxRatio >= 0 && p.declared > ratioFloor && float64(p.declared) > lim.MaxRatio*float64(max(size, 1)) {
		return nil, refuse("", "it declares %s uncompressed, more than %g times its size", size64(p.declared), lim.MaxRatio)
	}
	return p, nil
}

// add validates one entry and files it under dirs, files or links.
func (p *zipPlan) add(zf *zip.File, lim Limits) error {
	raw := zf.Name
	name, why := cleanName(raw)
	if why != "" {
		return refuse(raw, "%s", why)
	}
	k, err := zipKind(zf)
	if err != nil {
		return err
	}
	if name == "." {
		if k == kindDir {
			return nil // the destination itself
		}
		return refuse(raw, "names the destination itself")
	}
	if err := p.checkSize(zf, lim); err != nil {
		return err
	}
	var target string
	if k == kindLink {
		if target, err = readLinkTarget(zf); err != nil {
			return err
		}
		if why := checkLinkTarget(name, target); why != "" {
			return refuse(raw, "%s", why)
		}
	}
	parents, seen, why := p.ns.add(name, k)
	if why != "" {
		return refuse(raw, "%s", why)
	}
	p.entries += len(parents)
	if err := checkImplied(raw, p.entries, lim); err != nil {
		return err
	}
	for _, d := range parents {
		p.addDir(d, 0o755)
	}
	switch {
	case k == kindDir && seen:
		p.dirs[p.dirIndex[name]].perm = zf.Mode().Perm()
	case k == kindDir:
		p.addDir(name, zf.Mode().Perm())
	case k == kindLink:
		p.links = append(p.links, pendingLink{name, raw, target})
	default:
		p.files = append(p.files, zipFile{zf, name})
	}
	return nil
}

func (p *zipPlan) addDir(name string, perm fs.FileMode) {
	p.dirIndex[name] = len(p.dirs)
	p.dirs = append(p.dirs, zipDir{name, perm})
}

// zipKind classifies an entry, refusing what cannot be extracted safely.
func zipKind(zf *zip.File) (kind, error) {
	switch {
	case zf.Flags&0x1 != 0:
		return 0, refuse(zf.Name, "encrypted entries are not supported")
	case !zipMethod(zf.Method):
		return 0, refuse(zf.Name, "unsupported compression method %d", zf.Method)
	}
	switch m := zf.Mode(); {
	case m.IsDir():
		return kindDir, nil
	case m&fs.ModeSymlink != 0:
		return kindLink, nil
	case m.IsRegular():
		return kindFile, nil
	default:
		return 0, refuse(zf.Name, "%s entries are not supported", special(m))
	}
}

// checkSize adds the entry's declared size to the archive's and checks both
// against MaxBytes and the entry's declared ratio against MaxRatio. Declared
// sizes are also enforced while reading: archive/zip fails an entry whose
// data outgrows its declared size, and its compressed data is bounded by the
// central directory, so the actual ratio cannot exceed the declared one.
func (p *zipPlan) checkSize(zf *zip.File, lim Limits) error {
	u, c := zf.UncompressedSize64, zf.CompressedSize64
	// Entries may point at the same data, each with a modest ratio, so that
	// no cap sees that reading them costs that data's length once per entry.
	// An honest zip's entries own distinct bytes of it.
	if p.compressed = min(p.compressed+min(c, 1<<62), 1<<63); p.compressed > p.size {
		return refuse(zf.Name, "the entries declare more compressed bytes than the archive holds (lying sizes, or entries that share their data)")
	}
	p.declared = min(p.declared+min(u, 1<<62), 1<<63) // saturate: both terms are at most 2⁶³, their sum fits
	if lim.MaxBytes >= 0 && p.declared > uint64(lim.MaxBytes) {
		return refuse(zf.Name, "archive declares more than the limit of %s", size(lim.MaxBytes))
	}
	return lim.checkRatio(zf.Name, u, c)
}

// checkRatio refuses an entry declaring u bytes from c compressed ones past
// MaxRatio.
func (l Limits) checkRatio(name string, u, c uint64) error {
	if l.MaxRatio >= 0 && u > ratioFloor && float64(u) > l.MaxRatio*float64(max(c, 1)) {
		return refuse(name, "compression ratio %.0f:1 is over the limit of %g:1", float64(u)/float64(max(c, 1)), l.MaxRatio)
	}
	return nil
}

// CheckEntry applies l to one entry read on its own, out of a zip's
// central directory (download --path): its declared size against MaxBytes
// and its ratio against MaxRatio, as Extract applies them to every entry, so
// that one file of an archive is no way around the caps of the whole. It
// returns a *RefusedError, or nil.
func (l Limits) CheckEntry(name string, declared, compressed uint64) error {
	l = l.withDefaults()
	if l.MaxBytes >= 0 && declared > uint64(l.MaxBytes) {
		return refuse(name, "declares %s, more than the limit of %s", size64(declared), size(l.MaxBytes))
	}
	return l.checkRatio(name, declared, compressed)
}

// readLinkTarget reads a symlink entry's content, its target.
func readLinkTarget(zf *zip.File) (string, error) {
	if zf.UncompressedSize64 > maxLinkTarget {
		return "", refuse(zf.Name, "symlink target longer than %d bytes", maxLinkTarget)
	}
	rc, err := zf.Open()
	if err != nil {
		return "", refuse(zf.Name, "unreadable symlink target: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLinkTarget+1))
	if err != nil {
		return "", refuse(zf.Name, "unreadable symlink target: %v", err)
	}
	return string(b), nil
}

func special(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	default:
		return "irregular file"
	}
}

// Zip methods beyond store and deflate that other tools write (APPNOTE.TXT
// 4.4.5, https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT); their
// readers come from codecs.go and are registered per reader, not globally.
const (
	zipBzip2 = 12
	zipZstd  = 93
	zipXz    = 95
)

func zipMethod(m uint16) bool {
	switch m {
	case zip.Store, zip.Deflate, zipBzip2, zipZstd, zipXz:
		return true
	}
	return false
}

func registerDecompressors(zr *zip.Reader) {
	for method, c := range map[uint16]*codec{zipBzip2: bzip2Codec, zipZstd: zstdCodec, zipXz: xzCodec} {
		zr.RegisterDecompressor(method, func(r io.Reader) io.ReadCloser {
			rc, err := c.OpenReader(r)
			if err != nil {
				return errReadCloser{err}
			}
			return rc
		})
	}
}

type errReadCloser struct{ err error }

func (e errReadCloser) Read([]byte) (int, error) { return 0, e.err }
func (e errReadCloser) Close() error             { return nil }

// writeZip writes a planned zip into the staging tree: directories first,
// then files in parallel (entries are independent, and small files are
// bound by syscalls, not CPU), then symlinks, so no file is ever written
// through one.
func (x *extractor) writeZip(ctx context.Context, p *zipPlan) error {
	for _, d := range p.dirs {
		if err := x.tree.Mkdir(d.name, entryname.Perm(d.perm)|0o700); err != nil {
			return entryErr(d.name, err)
		}
		x.dirs++
	}
	if err := x.writeZipFiles(ctx, p.files); err != nil {
		return err
	}
	x.links = p.links
	return x.createLinks()
}

// maxWorkers bounds the file writers: past a handful, file creation is
// limited by the filesystem, and each worker holds a 256 KiB buffer.
const maxWorkers = 8

// writeZipFiles writes files with a pool of GOMAXPROCS (at most maxWorkers)
// workers and returns the first error; the others stop at their next entry
// or chunk.
func (x *extractor) writeZipFiles(ctx context.Context, files []zipFile) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), maxWorkers, len(files)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(files)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				if err := x.writeZipFile(ctx, files[i]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

func (x *extractor) writeZipFile(ctx context.Context, zf zipFile) error {
	raw := zf.f.Name
	rc, err := zf.f.Open()
	if err != nil {
		return entryErr(raw, err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if zf.f.CRC32 == 0 && zf.f.Flags&0x8 == 0 {
		r = &zeroCRC{r: rc, h: crc32.NewIEEE()}
	}
	return x.writeFile(ctx, zf.name, raw, r, zf.f.Mode().Perm(), zf.f.Modified, func(err error) error {
		if errors.Is(err, zip.ErrFormat) {
			return refuse(raw, "data is larger than the size declared in the archive")
		}
		return entryErr(raw, err)
	})
}

// zeroCRC checks data whose central directory records a CRC-32 of 0 and no
// data descriptor: archive/zip takes that 0 for "not recorded" and checks
// nothing, so any bytes would pass; remotezip (--path) checks it, and so
// does this.
type zeroCRC struct {
	r io.Reader
	h hash.Hash32
}

func (z *zeroCRC) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.h.Write(p[:n])
	if err == io.EOF && z.h.Sum32() != 0 {
		err = zip.ErrChecksum
	}
	return n, err
}

func size64(n uint64) string { return size(int64(min(n, 1<<62))) }
