package extract

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

// ZIP record signatures and lengths (APPNOTE.TXT 4.3.12, 4.3.14-16).
const (
	sigCentral   = "PK\x01\x02"
	sigEnd       = "PK\x05\x06"
	sigLocator64 = "PK\x06\x07"
	sigEnd64     = "PK\x06\x06"
	centralLen   = 46
	endLen       = 22
	locatorLen   = 20
	end64Len     = 56
)

// moreCentralRecords reports whether the central directory of the zip in r
// holds more than limit records, counting them without keeping them:
// archive/zip builds a File for each record it reads, which for a directory
// of tiny entries is three times the archive's size in memory, before the
// caller can count them. Any doubt (no end record, records that do not
// start where it says) reports false and leaves the verdict to archive/zip,
// whose File count is checked afterwards as well.
func moreCentralRecords(r io.ReaderAt, size int64, limit int) bool {
	off, ok := centralOffset(r, size)
	if !ok {
		return false
	}
	br := bufio.NewReader(io.NewSectionReader(r, off, size-off))
	var h [centralLen]byte
	for n := 0; n <= limit; n++ {
		if _, err := io.ReadFull(br, h[:]); err != nil || string(h[:4]) != sigCentral {
			return false
		}
		skip := int64(le16(h[28:])) + int64(le16(h[30:])) + int64(le16(h[32:]))
		if _, err := br.Discard(int(skip)); err != nil {
			return false
		}
	}
	return true
}

// centralOffset finds the central directory from the end record, the last
// one in the archive's final 64 KiB whose comment fits, as archive/zip does.
func centralOffset(r io.ReaderAt, size int64) (int64, bool) {
	tailLen := min(size, endLen+65535)
	tail := make([]byte, tailLen)
	if _, err := r.ReadAt(tail, size-tailLen); err != nil {
		return 0, false
	}
	at := -1
	for i := len(tail) - endLen; i >= 0; i-- {
		if string(tail[i:i+4]) == sigEnd && i+endLen+int(le16(tail[i+20:])) <= len(tail) {
			at = i
			break
		}
	}
	if at < 0 {
		return 0, false
	}
	off := int64(binary.LittleEndian.Uint32(tail[at+16:]))
	if off != 0xffffffff && le16(tail[at+10:]) != 0xffff {
		return off, off < size
	}
	if at < locatorLen || !bytes.Equal(tail[at-locatorLen:at-locatorLen+4], []byte(sigLocator64)) {
		return off, off < size
	}
	var rec [end64Len]byte
	end64 := int64(binary.LittleEndian.Uint64(tail[at-locatorLen+8:]))
	if end64 < 0 || end64 > size-end64Len {
		return 0, false
	}
	if _, err := r.ReadAt(rec[:], end64); err != nil || string(rec[:4]) != sigEnd64 {
		return 0, false
	}
	off = int64(binary.LittleEndian.Uint64(rec[48:]))
	return off, off >= 0 && off < size
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
