package extract

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// lzipMaxDict caps the dictionary a lzip member may ask for, as zstd's
// window is capped: 128 MiB (lzip -9 uses 32 MiB; the format allows 512).
const lzipMaxDict = 128 << 20

// lzipReader decompresses a lzip file as a stream
// (https://www.nongnu.org/lzip/manual/lzip_manual.html#File-format): members
// of a 6-byte header, an LZMA stream ended by its end-of-stream marker and a
// 20-byte trailer (CRC-32, data size, member size), each checked. It replaces
// github.com/sorairolake/lzip-go's reader, which reads a whole member into
// memory before giving out a byte and panics on one shorter than a trailer.
type lzipReader struct {
	in    *byteCounter
	lz    *lzma.Reader // the current member's data; nil after the last
	crc   hash.Hash32
	size  uint64 // the current member's data so far
	start int64  // where the current member starts in the input
}

func newLzipReader(r io.Reader) (*lzipReader, error) {
	z := &lzipReader{in: &byteCounter{r: bufio.NewReader(r)}, crc: crc32.NewIEEE()}
	if err := z.member(); err != nil {
		return nil, noEOF(err)
	}
	return z, nil
}

// member starts the next member; io.EOF when the input ends before one.
func (z *lzipReader) member() error {
	z.start, z.size = z.in.n, 0
	z.crc.Reset()
	var h [6]byte
	if _, err := io.ReadFull(z.in, h[:]); err != nil {
		return err
	}
	if string(h[:4]) != "LZIP" {
		return errors.New("lzip: data after the last member")
	}
	if h[4] != 1 {
		return fmt.Errorf("lzip: unsupported version %d", h[4])
	}
	dict := uint32(1) << (h[5] & 0x1f)
	dict -= dict / 16 * uint32(h[5]>>5)
	switch {
	case dict < 1<<12 || dict > 1<<29:
		return fmt.Errorf("lzip: invalid dictionary size %d", dict)
	case dict > lzipMaxDict:
		return fmt.Errorf("lzip: dictionary of %d MiB, more than the %d MiB allowed", dict>>20, lzipMaxDict>>20)
	}
	// A .lzma header for the member's stream: lc=3 lp=0 pb=2 (lzip's only
	// properties), its dictionary, and an unknown size: the stream ends with
	// its end-of-stream marker, read byte by byte, so the trailer is next.
	hdr := make([]byte, lzma.HeaderLen)
	hdr[0] = lzma.Properties{LC: 3, LP: 0, PB: 2}.Code()
	binary.LittleEndian.PutUint32(hdr[1:], dict)
	binary.LittleEndian.PutUint64(hdr[5:], ^uint64(0))
	lz, err := lzma.ReaderConfig{DictCap: lzipMaxDict}.NewReader(&prefixed{pre: hdr, in: z.in})
	if err != nil {
		return noEOF(err)
	}
	z.lz = lz
	return nil
}

func (z *lzipReader) Read(p []byte) (int, error) {
	for z.lz != nil {
		n, err := z.lz.Read(p)
		z.crc.Write(p[:n])
		z.size += uint64(n)
		if err == io.EOF {
			err = z.next()
		}
		if n > 0 || err != nil {
			return n, noEOF(err)
		}
	}
	return 0, io.EOF
}

// next checks the member's trailer and starts the following member, if any.
func (z *lzipReader) next() error {
	var t [20]byte
	if _, err := io.ReadFull(z.in, t[:]); err != nil {
		return err
	}
	switch {
	case binary.LittleEndian.Uint32(t[:4]) != z.crc.Sum32():
		return errors.New("lzip: CRC-32 mismatch")
	case binary.LittleEndian.Uint64(t[4:12]) != z.size:
		return errors.New("lzip: data size mismatch")
	case binary.LittleEndian.Uint64(t[12:]) != uint64(z.in.n-z.start):
		return errors.New("lzip: member size mismatch")
	}
	z.lz = nil
	if err := z.member(); err != io.EOF {
		return err
	}
	return nil
}

// noEOF turns an EOF in the middle of a member into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// byteCounter counts the bytes read from a buffered input; the LZMA decoder
// reads it byte by byte, so it never reads past its stream.
type byteCounter struct {
	r *bufio.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *byteCounter) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// prefixed reads pre, then in.
type prefixed struct {
	pre []byte
	in  *byteCounter
}

func (p *prefixed) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.in.Read(b)
}

func (p *prefixed) ReadByte() (byte, error) {
	if len(p.pre) > 0 {
		b := p.pre[0]
		p.pre = p.pre[1:]
		return b, nil
	}
	return p.in.ReadByte()
}
