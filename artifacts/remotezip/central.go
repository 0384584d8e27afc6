package remotezip

import (
	"errors"
	"io/fs"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
)

// Entry is one member of an archive, as its central directory describes it.
type Entry struct {
	Name           string // as stored: slash-separated, a directory ends in "/"
	Size           int64  // uncompressed bytes
	CompressedSize int64
	Mode           fs.FileMode // type and permission bits, as archive/zip reads them
	Modified       time.Time   // UTC
	IsDir          bool
	IsSymlink      bool
	CRC32          uint32
	Method         uint16 // 0 stored, 8 deflated; others cannot be extracted here
	Encrypted      bool

	offset int64 // of the local file header
}

// Perm is the permission bits the entry is saved with, before the umask:
// the archive's, as extraction gives them (never setuid, setgid, sticky or
// world-writable), or 0644 when the archive gives none.
func (e Entry) Perm() fs.FileMode {
	if perm := entryname.Perm(e.Mode); perm != 0 {
		return perm
	}
	return 0o644
}

// Creator systems whose external attributes we understand (APPNOTE §4.4.2).
const (
	creatorFAT   = 0
	creatorUnix  = 3
	creatorNTFS  = 11
	creatorVFAT  = 14
	creatorMacOS = 19
)

// parseDirectory reads the central directory b, which starts at archive
// offset start, into entries. Like archive/zip it reads records while their
// signature matches and then checks the count: writers that predate zip64
// store only the low 16 bits of a count above 65,535.
func parseDirectory(b []byte, d directory, start int64) ([]Entry, error) {
	entries := make([]Entry, 0, min(d.entries, uint64(len(b)/centralLen)))
	for len(b) >= centralLen && le32(b) == sigCentral {
		if len(entries) == maxEntries {
			return nil, formatError("more than %d entries", maxEntries)
		}
		e, n, err := parseCentral(b, start)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
		b = b[n:]
	}
	got := uint64(len(entries))
	if got != d.entries && (d.zip64 || uint16(got) != uint16(d.entries)) {
		return nil, formatError("the central directory holds %d entries, its end record says %d", got, d.entries)
	}
	return entries, nil
}

// parseCentral reads the central directory record at the start of b and
// returns it with its length.
func parseCentral(b []byte, start int64) (Entry, int, error) {
	nameLen, extraLen, commentLen := int(le16(b[28:])), int(le16(b[30:])), int(le16(b[32:]))
	n := centralLen + nameLen + extraLen + commentLen
	if n > len(b) {
		return Entry{}, 0, formatError("a central directory record runs past the directory's end")
	}
	name := string(b[centralLen : centralLen+nameLen])
	flags := le16(b[8:])
	f := fields{csize: uint64(le32(b[20:])), usize: uint64(le32(b[24:])), offset: uint64(le32(b[42:])),
		modified: dosTime(le16(b[14:]), le16(b[12:]))}
	if err := f.readExtra(b[centralLen+nameLen : centralLen+nameLen+extraLen]); err != nil {
		return Entry{}, 0, formatError("entry %s: %v", entryname.Quote(name), err)
	}
	if f.offset > uint64(start) || uint64(start)-f.offset < localLen+uint64(nameLen) || f.csize > uint64(start)-f.offset-localLen {
		return Entry{}, 0, formatError("entry %s: its data (%d bytes at %d) lies outside the archive's data", entryname.Quote(name), f.csize, f.offset)
	}
	if f.usize > 1<<62 {
		return Entry{}, 0, formatError("entry %s: declares %d bytes", entryname.Quote(name), f.usize)
	}
	mode := entryMode(le16(b[4:])>>8, le32(b[38:]), name)
	return Entry{
		Name: name, Size: int64(f.usize), CompressedSize: int64(f.csize), Mode: mode, Modified: f.modified,
		IsDir: mode.IsDir(), IsSymlink: mode&fs.ModeSymlink != 0, CRC32: le32(b[16:]), Method: le16(b[10:]),
		Encrypted: flags&0x1 != 0, offset: int64(f.offset),
	}, n, nil
}

// fields are the values an extra field may replace.
type fields struct {
	csize, usize, offset uint64
	modified             time.Time
}

// readExtra applies the zip64 (0x0001) and extended timestamp (0x5455)
// extra fields; others are skipped, a truncated one ends the list as in
// archive/zip.
func (f *fields) readExtra(extra []byte) error {
	for len(extra) >= 4 {
		id, size := le16(extra), int(le16(extra[2:]))
		if 4+size > len(extra) {
			break
		}
		body := extra[4 : 4+size]
		extra = extra[4+size:]
		switch id {
		case 0x0001:
			if err := f.readZip64(body); err != nil {
				return err
			}
		case 0x5455:
			if len(body) >= 5 && body[0]&1 != 0 {
				f.modified = time.Unix(int64(le32(body[1:])), 0).UTC()
			}
		}
	}
	return nil
}

// readZip64 replaces, in the order APPNOTE §4.5.3 gives, each value the
// record saturated.
func (f *fields) readZip64(b []byte) error {
	for _, v := range []*uint64{&f.usize, &f.csize, &f.offset} {
		if *v != 0xffffffff {
			continue
		}
		if len(b) < 8 {
			return errShortZip64
		}
		*v, b = le64(b), b[8:]
	}
	return nil
}

var errShortZip64 = errors.New("zip64 extra field too short")

// dosTime converts an MS-DOS date and time, taken as UTC.
func dosTime(date, tm uint16) time.Time {
	return time.Date(int(date>>9)+1980, time.Month(date>>5&0xf), int(date&0x1f),
		int(tm>>11), int(tm>>5&0x3f), int(tm&0x1f)*2, 0, time.UTC)
}

// entryMode derives type and permissions the way archive/zip's
// FileHeader.Mode does.
func entryMode(creator uint16, external uint32, name string) fs.FileMode {
	var mode fs.FileMode
	switch creator {
	case creatorUnix, creatorMacOS:
		mode = unixMode(external >> 16)
	case creatorNTFS, creatorVFAT, creatorFAT:
		mode = 0o666
		if external&0x10 != 0 {
			mode = fs.ModeDir | 0o777
		}
		if external&0x01 != 0 {
			mode &^= 0o222
		}
	}
	if strings.HasSuffix(name, "/") {
		mode |= fs.ModeDir
	}
	return mode
}

func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & 0xf000 {
	case 0x6000:
		mode |= fs.ModeDevice
	case 0x2000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0x4000:
		mode |= fs.ModeDir
	case 0x1000:
		mode |= fs.ModeNamedPipe
	case 0xa000:
		mode |= fs.ModeSymlink
	case 0xc000:
		mode |= fs.ModeSocket
	}
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
