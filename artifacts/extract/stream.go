package extract

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// format is what detect found.
type format struct {
	zip  bool
	comp *codec // outer compression of a stream; nil for none
	tar  bool   // the (decompressed) stream is a tar
}

// detect identifies the archive in f from its content alone.
func detect(ctx context.Context, f *os.File, size int64) (format, error) {
	head := make([]byte, 4)
	n, _ := f.ReadAt(head, 0)
	switch string(head[:n]) {
	case "PK\x03\x04", "PK\x05\x06", "PK\x07\x08": // local file, empty archive, spanned marker
		return format{zip: true}, nil
	}
	whole := func() io.Reader { return io.NewSectionReader(f, 0, size) }
	for _, c := range compressions {
		if !c.matches(whole()) {
			continue
		}
		rc, err := c.OpenReader(whole())
		if err != nil {
			return format{}, refuse("", "unreadable %s stream: %v", strings.TrimPrefix(c.Extension(), "."), err)
		}
		fm := format{comp: c, tar: isTar(rc, false)}
		rc.Close()
		return fm, nil
	}
	if isTar(whole(), true) {
		return format{tar: true}, nil
	}
	return format{}, refuse("", "unrecognized format (want zip, or tar, possibly compressed)")
}

// isTar reports a tar stream: one whose first block is a header with a
// valid checksum. In a compressed stream zero blocks are not enough: an
// empty tar is all zeros, but so is the start of many a file (a disk image,
// a sparse database), and taking GitLab's one-file "gzip" artifact for an
// empty tar would drop it and report success. An uncompressed stream cannot
// be a single file, so there a zero block is an empty tar (drainTar then
// refuses anything but zeros after it).
func isTar(r io.Reader, zeroIsEmpty bool) bool {
	block := make([]byte, 512)
	if _, err := io.ReadFull(r, block); err != nil {
		return false
	}
	if zeroIsEmpty && !bytes.ContainsFunc(block, func(c rune) bool { return c != 0 }) {
		return true
	}
	return validTarHeader(block)
}

// validTarHeader checks a 512-byte block's header checksum: the octal
// number at offset 148 equals the sum of the block's bytes with the
// checksum field taken as spaces (POSIX ustar; GNU and old V7 headers use
// the same field). Some old tars summed signed bytes; both are accepted.
func validTarHeader(block []byte) bool {
	field := strings.Trim(string(block[148:156]), " \x00")
	if field == "" {
		return false
	}
	want, err := strconv.ParseInt(field, 8, 64)
	if err != nil {
		return false
	}
	var unsigned, signed int64
	for i, c := range block {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// countingReader counts the archive bytes read, for the ratio check.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// writeStream extracts a streamed format in one pass; entries are checked as
// they come, and a refusal midway only costs the staging directory.
func (x *extractor) writeStream(ctx context.Context, f *os.File, fm format, archiveName string) error {
	cr := &countingReader{r: f}
	x.consumed = func() int64 { return cr.n }
	if !fm.tar {
		return x.writeSingle(ctx, cr, fm.comp, archiveName)
	}
	var r io.Reader = cr
	if fm.comp != nil {
		rc, err := fm.comp.OpenReader(cr)
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		defer rc.Close()
		r = rc
	}
	if err := x.writeTar(ctx, r); err != nil {
		return err
	}
	if err := x.drainTar(r, fm.comp); err != nil {
		return err
	}
	return x.createLinks()
}

// drainTar reads what follows the tar's end-of-archive marker to the end of
// the stream. The tar reader stops at the marker, so without this a
// compressed stream's own check (gzip's CRC-32 and length, xz's and
// zstd's checksums, bzip2's CRC) is never read, and a flipped byte extracts
// as if nothing happened. What follows may only be the zero padding of the
// last record: anything else is data the archive holds but no entry names.
func (x *extractor) drainTar(r io.Reader, comp *codec) error {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if bytes.ContainsFunc(buf[:m], func(c rune) bool { return c != 0 }) {
			return refuse("", "data follows the end of the tar archive")
		}
		if x.lim.MaxBytes > 0 && n > x.lim.MaxBytes {
			return refuse("", "more than %d bytes of padding follow the end of the tar archive", x.lim.MaxBytes)
		}
		switch {
		case err == io.EOF:
			return nil
		case err != nil && comp != nil:
			return refuse("", "the %s stream is corrupt: %v", strings.TrimPrefix(comp.Extension(), "."), err)
		case err != nil:
			return fmt.Errorf("reading archive: %w", err)
		}
	}
}

// writeTar walks the tar with walkTar. The handler's own error is
// returned as is, not wrapped by the walker, so it stays one clean line.
func (x *extractor) writeTar(ctx context.Context, r io.Reader) error {
	var handlerErr error
	last := ""
	err := walkTar(ctx, r, func(hdr *tar.Header, content io.Reader) error {
		last = hdr.Name
		handlerErr = x.tarEntry(ctx, hdr, content)
		return handlerErr
	})
	switch {
	case handlerErr != nil:
		return handlerErr
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil && last != "":
		return fmt.Errorf("reading archive after entry %s: %w", entryname.Quote(last), err)
	case err != nil:
		return fmt.Errorf("reading archive: %w", err)
	}
	return nil
}

func (x *extractor) tarEntry(ctx context.Context, hdr *tar.Header, content io.Reader) error {
	if err := x.countEntry(); err != nil {
		return err
	}
	raw := hdr.Name
	name, why := cleanName(raw)
	if why != "" {
		return refuse(raw, "%s", why)
	}
	k, err := tarKind(hdr)
	if err != nil {
		return err
	}
	if name == "." {
		if k == kindDir {
			return nil
		}
		return refuse(raw, "names the destination itself")
	}
	if k == kindLink {
		if why := checkLinkTarget(name, hdr.Linkname); why != "" {
			return refuse(raw, "%s", why)
		}
	}
	parents, seen, why := x.ns.add(name, k)
	if why != "" {
		return refuse(raw, "%s", why)
	}
	if err := x.countImplied(raw, len(parents)); err != nil {
		return err
	}
	if err := x.mkdirs(raw, parents); err != nil {
		return err
	}
	perm := hdr.FileInfo().Mode().Perm()
	switch k {
	case kindDir:
		return x.mkdir(name, raw, perm, seen)
	case kindLink:
		return x.addLink(name, raw, hdr.Linkname)
	}
	return x.writeFile(ctx, name, raw, content, perm, hdr.ModTime, func(err error) error {
		return entryErr(raw, err)
	})
}

// tarKind classifies a tar entry, refusing what cannot be extracted safely.
func tarKind(hdr *tar.Header) (kind, error) {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return kindDir, nil
	case tar.TypeReg, tar.TypeGNUSparse: // a sparse file's holes are written out, and counted
		return kindFile, nil
	case tar.TypeSymlink:
		return kindLink, nil
	case tar.TypeLink:
		return 0, refuse(hdr.Name, "hard links are not supported")
	case tar.TypeChar:
		return 0, refuse(hdr.Name, "character device entries are not supported")
	case tar.TypeBlock:
		return 0, refuse(hdr.Name, "block device entries are not supported")
	case tar.TypeFifo:
		return 0, refuse(hdr.Name, "named pipe (FIFO) entries are not supported")
	default:
		return 0, refuse(hdr.Name, "unsupported tar entry type %q", hdr.Typeflag)
	}
}

// writeSingle extracts a compressed stream that is not a tar. For gzip that
// is GitLab's "gzip" artifacts format: concatenated members, each naming its
// file in the header (the runner puts the base name in Name and the relative
// path in Comment); each member becomes one file. Other compressions carry no
// name, so the one file is named after the archive without its extension.
func (x *extractor) writeSingle(ctx context.Context, cr *countingReader, comp *codec, archiveName string) error {
	fallback, ok := strings.CutSuffix(archiveName, comp.Extension())
	if !ok || fallback == "" || fallback == "." || fallback == ".." {
		fallback = ""
	}
	if comp == gzipCodec {
		return x.writeGzipMembers(ctx, cr, fallback)
	}
	if fallback == "" {
		return refuse("", "a bare %s stream carries no file name, and the archive's name does not end in %s", strings.TrimPrefix(comp.Extension(), "."), comp.Extension())
	}
	rc, err := comp.OpenReader(cr)
	if err != nil {
		return fmt.Errorf("reading archive: %w", err)
	}
	defer rc.Close()
	return x.writeMember(ctx, fallback, rc, gzip.Header{})
}

func (x *extractor) writeGzipMembers(ctx context.Context, cr *countingReader, fallback string) error {
	br := bufio.NewReader(cr)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return fmt.Errorf("reading archive: %w", err)
	}
	defer zr.Close()
	for first := true; ; first = false {
		zr.Multistream(false)
		raw := memberName(zr.Header)
		if raw == "" && first {
			raw = fallback
		}
		if raw == "" {
			return refuse("", "a gzip member carries no file name")
		}
		if err := x.writeMember(ctx, raw, zr, zr.Header); err != nil {
			return err
		}
		if err := zr.Reset(br); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading archive after entry %s: %w", entryname.Quote(raw), err)
		}
	}
}

// memberName is the path a gzip member names: the runner's Comment when it
// ends in Name, else Name.
func memberName(h gzip.Header) string {
	if h.Comment != "" && h.Name != "" && path.Base(h.Comment) == h.Name {
		return h.Comment
	}
	return h.Name
}

// writeMember writes one decompressed stream as the file raw.
func (x *extractor) writeMember(ctx context.Context, raw string, r io.Reader, h gzip.Header) error {
	if err := x.countEntry(); err != nil {
		return err
	}
	name, why := cleanName(raw)
	if why == "" && name == "." {
		why = "names the destination itself"
	}
	if why != "" {
		return refuse(raw, "%s", why)
	}
	parents, _, why := x.ns.add(name, kindFile)
	if why != "" {
		return refuse(raw, "%s", why)
	}
	if err := x.countImplied(raw, len(parents)); err != nil {
		return err
	}
	if err := x.mkdirs(raw, parents); err != nil {
		return err
	}
	return x.writeFile(ctx, name, raw, r, 0o666, h.ModTime, func(err error) error {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
			return fmt.Errorf("extracting %s: corrupt data: %w", entryname.Quote(raw), pathless(err))
		}
		return entryErr(raw, err)
	})
}
