package extract

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

type hostileCase struct {
	name   string
	build  func(t *testing.T, path string)
	lim    Limits
	entry  string // the RefusedError's Entry
	reason string // a substring of its Reason
}

func zipOf(entries ...entry) func(*testing.T, string) {
	return func(t *testing.T, p string) { writeZip(t, p, entries...) }
}

func tarOf(entries ...entry) func(*testing.T, string) {
	return func(t *testing.T, p string) { writeTar(t, p, nil, entries...) }
}

func tarGzOf(entries ...entry) func(*testing.T, string) {
	return func(t *testing.T, p string) { writeTar(t, p, gzipWriter, entries...) }
}

func many(n int) []entry {
	es := make([]entry, n)
	for i := range es {
		es[i] = file(strings.Repeat("d/", i%3)+"f"+string(rune('a'+i%26))+strings.Repeat("x", i/26), "", 0o644)
	}
	return es
}

var hostileCases = []hostileCase{
	{name: "a zip entry that climbs out with .. is refused",
		build: zipOf(file("ok.txt", "fine", 0o644), file("../evil", "x", 0o644)), entry: "../evil", reason: "path escapes the destination"},
	{name: "a zip entry with .. in the middle is refused",
		build: zipOf(file("a/../../evil", "x", 0o644)), entry: "a/../../evil", reason: "path escapes the destination"},
	{name: "a zip entry with an absolute path is refused",
		build: zipOf(file("/etc/x", "x", 0o644)), entry: "/etc/x", reason: "absolute path"},
	{name: "a tar entry that climbs out with .. is refused",
		build: tarOf(file("ok.txt", "fine", 0o644), file("../evil", "x", 0o644)), entry: "../evil", reason: "path escapes the destination"},
	{name: "a tar entry with an absolute path is refused",
		build: tarGzOf(file("/tmp/x", "x", 0o644)), entry: "/tmp/x", reason: "absolute path"},
	{name: "a name with a backslash is refused",
		build: zipOf(file(`..\evil`, "x", 0o644)), entry: `..\evil`, reason: "backslash"},
	{name: "a name with a drive letter is refused",
		build: zipOf(file("C:/evil", "x", 0o644)), entry: "C:/evil", reason: "drive letter"},
	{name: "a name with a NUL byte is refused",
		build: zipOf(file("a\x00/../../evil", "x", 0o644)), entry: "a\x00/../../evil", reason: "NUL"},
	{name: "a name with a newline is refused",
		build: zipOf(file("a\nb", "x", 0o644)), entry: "a\nb", reason: "control character"},
	{name: "a zip entry nested deeper than 128 directories is refused before anything is written",
		build: zipOf(file("ok.txt", "fine", 0o644), file(strings.Repeat("d/", 129)+"f", "x", 0o644)),
		entry: strings.Repeat("d/", 129) + "f", reason: "more than 128 directories deep"},
	{name: "a tar entry nested deeper than 128 directories is refused",
		build: tarGzOf(file("ok.txt", "fine", 0o644), dir(strings.Repeat("d/", 300), 0o755)),
		entry: strings.Repeat("d/", 300), reason: "more than 128 directories deep"},
	{name: "a tar name longer than PATH_MAX is refused",
		build: tarOf(file(strings.Repeat(strings.Repeat("n", 200)+"/", 21)+"f", "x", 0o644)),
		entry: strings.Repeat(strings.Repeat("n", 200)+"/", 21) + "f", reason: "longer than 4096 bytes"},
	{name: "a zip name with a component longer than NAME_MAX is refused as such",
		build: zipOf(file("ok.txt", "fine", 0o644), file("a/"+strings.Repeat("n", 256), "x", 0o644)),
		entry: "a/" + strings.Repeat("n", 256), reason: "a name component longer than 255 bytes"},
	{name: "a symlink that climbs out of the destination is refused",
		build: zipOf(symlink("link", "../../etc")), entry: "link", reason: "leaves the destination"},
	{name: "a symlink to an absolute path is refused",
		build: tarOf(symlink("link", "/etc")), entry: "link", reason: "absolute symlink target"},
	{name: "a symlink in a subdirectory that climbs one level too far is refused",
		build: tarGzOf(dir("a/", 0o755), symlink("a/b/link", "../../../outside")), entry: "a/b/link", reason: "leaves the destination"},
	{name: "a symlink whose .. would resolve through another link is refused",
		build: zipOf(symlink("dot", "."), symlink("up", "dot/../outside")), entry: "up", reason: `".." after a name`},
	{name: "a zip entry written through a symlink of the same archive is refused",
		build: zipOf(dir("sub/", 0o755), symlink("a", "sub"), file("a/x", "x", 0o644)), entry: "a/x", reason: "symlink of this archive"},
	{name: "a tar entry written through a symlink of the same archive is refused",
		build: tarOf(dir("sub/", 0o755), symlink("a", "sub"), file("a/x", "x", 0o644)), entry: "a/x", reason: "symlink of this archive"},
	{name: "a symlink replacing a directory of the same archive is refused",
		build: tarOf(file("a/x", "x", 0o644), symlink("a", "sub")), entry: "a", reason: "is a symlink here but a directory"},
	{name: "a duplicate zip entry is refused",
		build: zipOf(file("twice", "1", 0o644), file("twice", "2", 0o644)), entry: "twice", reason: "appears twice"},
	{name: "a hard link in a tar is refused",
		build: tarOf(file("target", "x", 0o644), entry{name: "hard", hard: true, link: "target"}), entry: "hard", reason: "hard links"},
	{name: "a character device in a tar is refused",
		build: tarOf(entry{name: "null", mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}), entry: "null", reason: "character device"},
	{name: "a block device in a tar is refused",
		build: tarOf(entry{name: "sda", mode: fs.ModeDevice | 0o660}), entry: "sda", reason: "block device"},
	{name: "a FIFO in a tar is refused",
		build: tarGzOf(file("ok", "x", 0o644), entry{name: "fifo", mode: fs.ModeNamedPipe | 0o644}), entry: "fifo", reason: "FIFO"},
	{name: "a FIFO in a zip is refused",
		build: zipOf(entry{name: "fifo", mode: fs.ModeNamedPipe | 0o644}), entry: "fifo", reason: "FIFO"},
	{name: "a zip bomb is refused by its declared compression ratio",
		build: zipBomb, entry: "zeros", reason: "compression ratio"},
	{name: "a tar.gz bomb is refused by its measured compression ratio",
		build: tarGzBomb, lim: Limits{MaxRatio: 100}, entry: "zeros", reason: "expands more than 100 times"},
	{name: "a zip entry holding more data than it declares is refused",
		build: zipLiar(0), entry: "liar", reason: "larger than the size declared"},
	{name: "a lying zip entry among many files stops every writer and leaves nothing",
		build: zipLiar(200), entry: "liar", reason: "larger than the size declared"},
	{name: "a zip of entries each too small to judge is refused by the whole archive's ratio",
		build: zipOf(file("z1", strings.Repeat("\x00", 512<<10), 0o644), file("z2", strings.Repeat("\x00", 512<<10), 0o644),
			file("z3", strings.Repeat("\x00", 512<<10), 0o644)),
		lim: Limits{MaxRatio: 100}, reason: "more than 100 times its size"},
	{name: "zip64 sizes that lie past the archive's length are refused with MaxBytes off",
		build: zip64Liars(4), lim: Limits{MaxBytes: -1}, entry: "liar0", reason: "more compressed bytes than the archive holds"},
	{name: "a zip declaring more bytes than MaxBytes is refused before writing",
		build: zipOf(file("a", strings.Repeat("a", 600<<10), 0o644), file("b", strings.Repeat("b", 600<<10), 0o644)),
		lim:   Limits{MaxBytes: 1 << 20},
		entry: "b", reason: "declares more than the limit of 1 MiB"},
	{name: "a tar expanding past MaxBytes is refused while writing",
		build: tarGzOf(file("small", "x", 0o644), file("big", strings.Repeat("b", 2<<20), 0o644)),
		lim:   Limits{MaxBytes: 1 << 20},
		entry: "big", reason: "expands past the limit of 1 MiB"},
	{name: "a zip with more entries than MaxEntries is refused",
		build: zipOf(many(11)...), lim: Limits{MaxEntries: 10}, reason: "more than 10 entries"},
	{name: "a tar with more entries than MaxEntries is refused",
		build: tarGzOf(many(11)...), lim: Limits{MaxEntries: 10}, reason: "more than 10 entries"},
	{name: "a zip whose paths imply more directories than MaxEntries allows is refused",
		build: zipOf(file("a/b/c/d/e/f/g/h/i/j/k/file", "x", 0o644)), lim: Limits{MaxEntries: 10},
		entry: "a/b/c/d/e/f/g/h/i/j/k/file", reason: "more than 10 entries"},
	{name: "a tar.gz whose paths imply more directories than MaxEntries allows is refused",
		build: tarGzOf(file("a/b/c/d/e/f/g/h/i/j/k/file", "x", 0o644)), lim: Limits{MaxEntries: 10},
		entry: "a/b/c/d/e/f/g/h/i/j/k/file", reason: "more than 10 entries"},
	{name: "an existing symlink in the destination is never written through",
		build: zipOf(file("aaa-first.txt", "x", 0o644), file("escape/x", "x", 0o644)), entry: "escape", reason: "destination has a symlink"},
	{name: "a file in the way of a directory is refused before anything moves",
		build: tarOf(file("aaa-first.txt", "x", 0o644), file("keep.txt/x", "x", 0o644)), entry: "keep.txt", reason: "destination has a file where the archive has a directory"},
	{name: "a directory in the way of a file is refused before anything moves",
		build: zipOf(file("aaa-first.txt", "x", 0o644), file("keepdir", "x", 0o644)), entry: "keepdir", reason: "destination has a directory where the archive has a file"},
	{name: "bytes that are no archive are refused",
		build: func(t *testing.T, p string) { writeFile(t, p, strings.Repeat("not an archive\n", 100)) }, reason: "unrecognized format"},
}

// TestExtractRefusesHostileArchives checks each hostile archive is refused
// with a one-line error naming the entry, and that neither the destination
// nor anything beside it changed, whether the destination existed or not.
func TestExtractRefusesHostileArchives(t *testing.T) {
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, destExists := range []bool{true, false} {
				parent := t.TempDir()
				dest := filepath.Join(parent, "dest")
				writeFile(t, filepath.Join(parent, "outside", "secret.txt"), "outside")
				if destExists {
					writeFile(t, filepath.Join(dest, "keep.txt"), "keep")
					writeFile(t, filepath.Join(dest, "keepdir", "old.txt"), "old")
					if err := os.Symlink("../outside", filepath.Join(dest, "escape")); err != nil {
						t.Fatal(err)
					}
				}
				archive := filepath.Join(parent, "artifacts.bin")
				tc.build(t, archive)
				before := snapshot(t, parent)

				_, err := Extract(t.Context(), archive, dest, tc.lim)

				if strings.HasPrefix(tc.reason, "destination has") && !destExists {
					if err != nil { // nothing stands in the way in an empty destination
						t.Errorf("destExists=false: got %v, want success", err)
					}
					continue
				}
				if diff := diffSnapshots(before, snapshot(t, parent)); diff != "" {
					t.Errorf("destExists=%v: the directory around the archive changed:%s", destExists, diff)
				}
				checkRefused(t, err, tc.entry, tc.reason)
			}
		})
	}
}

func checkRefused(t *testing.T, err error, entry, reason string) {
	t.Helper()
	t.Log(err)
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("got error %v (%T), want a *RefusedError", err, err)
	}
	if refused.Entry != entry || !strings.Contains(refused.Reason, reason) {
		t.Errorf("got %#v, want entry %q and a reason containing %q", refused, entry, reason)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "refusing archive") {
		t.Errorf("error %q is not one line starting with \"refusing archive\"", msg)
	}
}

// zipBomb writes 16 MiB of zeros, which deflate squeezes more than 1000:1.
func zipBomb(t *testing.T, path string) {
	f := create(t, path)
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	w, err := zw.Create("zeros")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeroReader{}, 16<<20); err != nil {
		t.Fatal(err)
	}
	closeAll(t, zw, f)
}

// tarGzBomb writes 8 MiB of zeros as a tar.gz, streaming.
func tarGzBomb(t *testing.T, path string) {
	f := create(t, path)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: 8 << 20, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, zeroReader{}, 8<<20); err != nil {
		t.Fatal(err)
	}
	closeAll(t, tw, gz, f)
}

// zipLiar writes an entry declaring 10 bytes whose deflate stream holds 1 MiB,
// after n honest files.
func zipLiar(n int) func(*testing.T, string) {
	return func(t *testing.T, path string) { writeZipLiar(t, path, n) }
}

func writeZipLiar(t *testing.T, path string, n int) {
	var compressed bytes.Buffer
	fw, _ := flate.NewWriter(&compressed, flate.BestSpeed)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	closeAll(t, fw)
	f := create(t, path)
	zw := zip.NewWriter(f)
	for i := range n {
		w, err := zw.Create(fmt.Sprintf("honest/%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("honest "), 4096)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "liar", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data[:10]),
		CompressedSize64: uint64(compressed.Len()), UncompressedSize64: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(compressed.Bytes()); err != nil {
		t.Fatal(err)
	}
	closeAll(t, zw, f)
}

// zip64Liars writes n entries each declaring 2⁶² bytes from 2⁶²/1000
// compressed ones, a ratio each just within 1000:1; their sum overflows 64 bits.
func zip64Liars(n int) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		f := create(t, path)
		zw := zip.NewWriter(f)
		for i := range n {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("liar%d", i), Method: zip.Deflate,
				CompressedSize64: 1<<62/1000 + 1, UncompressedSize64: 1 << 62})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte{3, 0}); err != nil {
				t.Fatal(err)
			}
		}
		closeAll(t, zw, f)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestAnIOErrorPrintsTheEntryNameOnlyQuoted fills a tmpfs's inodes so that
// creating an entry fails, with names an archive may legally hold but a log
// must not print raw: a line separator, a C1 CSI and a right-to-left
// override. The os error carries the raw name as its path; the message must
// quote it instead, so that one error stays one honest line.
func TestAnIOErrorPrintsTheEntryNameOnlyQuoted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a tmpfs mount, which needs root")
	}
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,nr_inodes=8", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", disk).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	var es []entry
	for i := range 10 {
		es = append(es, file(fmt.Sprintf("%d line\u2028forged \u009b31m \u202eexe.txt", i), "x", 0o644))
	}
	archive := filepath.Join(t.TempDir(), "a.zip")
	writeZip(t, archive, es...)

	_, err := Extract(t.Context(), archive, filepath.Join(disk, "dest"), Limits{})

	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %v, want ENOSPC", err)
	}
	for _, r := range err.Error() {
		if !strconv.IsPrint(r) {
			t.Errorf("error %q holds the unprintable %U", err, r)
			break
		}
	}
	if entries, _ := os.ReadDir(disk); len(entries) != 0 {
		t.Errorf("the disk holds %v after a failed extraction", entries)
	}
}

// TestARefusalOfAHugeNameIsAShortLine: a tar's PAX header can carry a 1 MiB
// name; refusing it must not print it all into the job log.
func TestARefusalOfAHugeNameIsAShortLine(t *testing.T) {
	huge := strings.Repeat("\x1bn", 256<<10)
	archive := filepath.Join(t.TempDir(), "a.tar")
	writeTar(t, archive, nil, file(huge, "x", 0o644))

	_, err := Extract(t.Context(), archive, filepath.Join(t.TempDir(), "dest"), Limits{})

	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Entry != huge {
		t.Fatalf("got %v, want a refusal naming the entry", err)
	}
	if msg := err.Error(); len(msg) > 512 || !strings.Contains(msg, "(524288 bytes)") {
		t.Errorf("the message is %d bytes long, want at most 512 ending in the name's length: %.600q", len(msg), msg)
	}
}

// TestAZipOfTooManyEntriesIsRefusedBeforeItsDirectoryIsLoaded: archive/zip
// builds a File for every record of the central directory (some 300 bytes of
// memory for each 100 of archive), so the entry cap must be applied before it
// reads them. Not parallel: it measures the process's allocations.
func TestAZipOfTooManyEntriesIsRefusedBeforeItsDirectoryIsLoaded(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "many.zip")
	f := create(t, archive)
	zw := zip.NewWriter(f)
	for i := range 200_000 {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: strconv.Itoa(i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	closeAll(t, zw, f)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	_, err := Extract(t.Context(), archive, filepath.Join(t.TempDir(), "dest"), Limits{MaxEntries: 1000})

	runtime.ReadMemStats(&after)
	checkRefused(t, err, "", "more than 1000 entries")
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("refusing it allocated %d MiB", got>>20)
	}
}

// TestAZipWhoseEntriesShareTheirDataIsRefused: the central directory may
// point any number of entries at one local file. Each then has a modest
// ratio (here below 1: a megabyte of empty deflate blocks inflating to one
// byte), so no size or ratio cap sees that reading them costs the shared
// data's length once per entry — a million entries over 100 MB of it is a
// day of work. No honest zip's entries share bytes.
func TestAZipWhoseEntriesShareTheirDataIsRefused(t *testing.T) {
	var data bytes.Buffer
	for range (1 << 20) / 5 {
		data.Write([]byte{0, 0, 0, 0xff, 0xff}) // a stored block of no bytes, not final
	}
	data.Write([]byte{1, 1, 0, 0xfe, 0xff, 'x'}) // the final stored block: "x"
	archive := filepath.Join(t.TempDir(), "shared.zip")
	writeFile(t, archive, string(sharedDataZip(data.Bytes(), crc32.ChecksumIEEE([]byte("x")), 1, 50)))

	_, err := Extract(t.Context(), archive, filepath.Join(t.TempDir(), "dest"), Limits{})

	checkRefused(t, err, "f1", "entries that share their data")
}

// sharedDataZip is a zip whose n central records all point at one local
// file holding data, deflated, which inflates to size bytes with checksum crc.
func sharedDataZip(data []byte, crc uint32, size, n int) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	local := make([]byte, 30)
	le.PutUint32(local, 0x04034b50)
	le.PutUint16(local[4:], 20)
	le.PutUint16(local[8:], zip.Deflate)
	le.PutUint32(local[14:], crc)
	le.PutUint32(local[18:], uint32(len(data)))
	le.PutUint32(local[22:], uint32(size))
	le.PutUint16(local[26:], 1)
	b.Write(local)
	b.WriteString("f")
	b.Write(data)
	dirAt := b.Len()
	for i := range n {
		name := fmt.Sprintf("f%d", i)
		h := make([]byte, 46)
		le.PutUint32(h, 0x02014b50)
		le.PutUint16(h[4:], 3<<8|20)
		le.PutUint16(h[6:], 20)
		le.PutUint16(h[10:], zip.Deflate)
		le.PutUint32(h[16:], crc)
		le.PutUint32(h[20:], uint32(len(data)))
		le.PutUint32(h[24:], uint32(size))
		le.PutUint16(h[28:], uint16(len(name)))
		le.PutUint32(h[38:], 0o100644<<16)
		b.Write(h)
		b.WriteString(name)
	}
	end := make([]byte, 22)
	le.PutUint32(end, 0x06054b50)
	le.PutUint16(end[8:], uint16(n))
	le.PutUint16(end[10:], uint16(n))
	le.PutUint32(end[12:], uint32(b.Len()-dirAt))
	le.PutUint32(end[16:], uint32(dirAt))
	b.Write(end)
	return b.Bytes()
}

// TestAZipEntryWhoseCRCIsZeroIsStillChecked: archive/zip takes a CRC-32 of 0
// (without a data descriptor) for "not recorded" and checks nothing, so any
// bytes pass; --path, through remotezip, checks it, and so must --dest.
func TestAZipEntryWhoseCRCIsZeroIsStillChecked(t *testing.T) {
	parent := t.TempDir()
	archive := filepath.Join(parent, "a.zip")
	f := create(t, archive)
	zw := zip.NewWriter(f)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "flipped", Method: zip.Store, CRC32: 0, CompressedSize64: 5, UncompressedSize64: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	closeAll(t, zw, f)

	_, err = Extract(t.Context(), archive, filepath.Join(parent, "dest"), Limits{})

	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("got %v, want a checksum error", err)
	}
	if _, err := os.Lstat(filepath.Join(parent, "dest")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dest was created (%v)", err)
	}
}
