package remotezip

import (
	"bytes"
	"encoding/binary"
)

// Zip record signatures and fixed lengths (PKWARE APPNOTE 6.3.10, §4.3:
// https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT).
const (
	sigLocal         = 0x04034b50
	sigCentral       = 0x02014b50
	sigEnd           = 0x06054b50
	sigEnd64         = 0x06064b50
	sigEnd64Locator  = 0x07064b50
	localLen         = 30
	centralLen       = 46
	endLen           = 22
	end64LocatorLen  = 20
	end64Len         = 56
	maxComment       = 0xffff
	maxEndSearch     = endLen + maxComment + end64LocatorLen
	maxDirectorySize = 64 << 20 // bytes of central directory we accept
	maxEntries       = 1 << 20
)

// directory is where the central directory lies, as the end records say.
type directory struct {
	entries     uint64
	offset      uint64 // first byte of the central directory
	size        uint64
	end         int64 // where it must end: the zip64 end record or the end record
	locator64At int64 // offset of a zip64 end locator, -1 without
	zip64       bool
}

// findEnd finds the end-of-central-directory record in tail, the archive's
// last bytes, which start at archive offset tailOff. It looks from the end
// backwards, as readers do, for a signature whose comment fits.
func findEnd(tail []byte, tailOff int64) (directory, error) {
	sig := []byte{0x50, 0x4b, 0x05, 0x06}
	lo := max(0, len(tail)-endLen-maxComment)
	for j := len(tail) - endLen + 4; j >= lo+4; {
		i := bytes.LastIndex(tail[lo:j], sig)
		if i < 0 {
			break
		}
		i += lo
		j = i + 3 // the next search stops before this match
		b := tail[i:]
		if int(le16(b[20:]))+endLen+i > len(tail) {
			continue // a signature inside the comment, or a truncated record
		}
		d := directory{
			entries: uint64(le16(b[10:])), size: uint64(le32(b[12:])), offset: uint64(le32(b[16:])),
			end: tailOff + int64(i), locator64At: -1,
		}
		if i >= end64LocatorLen && le32(tail[i-end64LocatorLen:]) == sigEnd64Locator {
			d.locator64At = tailOff + int64(i-end64LocatorLen)
		}
		return d, nil
	}
	return directory{}, formatError("no end of central directory record")
}

// locator64 returns the offset of the zip64 end record a locator names.
func locator64(b []byte) uint64 { return le64(b[8:]) }

// applyEnd64 reads a zip64 end record b found at offset at into d.
func (d *directory) applyEnd64(b []byte, at int64) error {
	if len(b) < end64Len || le32(b) != sigEnd64 {
		return formatError("no zip64 end of central directory record where its locator points")
	}
	d.entries, d.size, d.offset = le64(b[32:]), le64(b[40:]), le64(b[48:])
	d.end, d.zip64 = at, true
	return nil
}

// check bounds what the end records claim before anything is read on
// their word.
func (d directory) check() error {
	switch {
	case d.size > maxDirectorySize:
		return formatError("a central directory of %d bytes is over the limit of %d", d.size, maxDirectorySize)
	case d.offset > uint64(d.end) || d.size > uint64(d.end)-d.offset:
		return formatError("the central directory (%d bytes at %d) lies outside the archive", d.size, d.offset)
	case d.entries > maxEntries:
		return formatError("%d entries are over the limit of %d", d.entries, maxEntries)
	case d.entries > d.size/centralLen:
		return formatError("%d entries cannot fit in a central directory of %d bytes", d.entries, d.size)
	}
	return nil
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
