package remotezip_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"sync"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
)

// patched returns a copy of data with f applied.
func patched(data []byte, f func(b []byte)) []byte {
	b := bytes.Clone(data)
	f(b)
	return b
}

// endAt is the offset of the end record of an archive without a comment.
func endAt(b []byte) int { return len(b) - 22 }

// dataAt is the offset of the first entry's data.
func dataAt(b []byte) int {
	return 30 + int(binary.LittleEndian.Uint16(b[26:])) + int(binary.LittleEndian.Uint16(b[28:]))
}

// centralAt is the offset of the first central directory record.
func centralAt(b []byte) int { return int(binary.LittleEndian.Uint32(b[endAt(b)+16:])) }

func TestRawBuilderWritesWhatArchiveZipReads(t *testing.T) {
	data := rawZip{entries: []rawEntry{{name: "x", data: []byte("xx"), zip64: true}}, zip64End: true}.bytes()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(zr.File) != 1 || zr.File[0].UncompressedSize64 != 2 {
		t.Fatalf("archive/zip reads the hand-built zip64 archive as %v, %v", zr, err)
	}
}

func TestHostileArchivesAreRefused(t *testing.T) {
	good := rawZip{entries: []rawEntry{{name: "a.txt", data: []byte("hello, world")}, {name: "b.txt", data: []byte("second")}}}.bytes()
	le32 := binary.LittleEndian.PutUint32
	le16 := binary.LittleEndian.PutUint16
	deflated := zipOf(t, "", file{name: "d.txt", data: bytes.Repeat([]byte("deflate me "), 100), method: 8})
	tests := []struct {
		name     string
		data     []byte
		entry    string // "" when Open itself must fail
		want     error
		contains string
	}{
		{"an end record pointing past the file is refused", patched(good, func(b []byte) { le32(b[endAt(b)+16:], uint32(len(b)+100)) }),
			"", remotezip.ErrFormat, "outside the archive"},
		{"a million entries in a tiny directory are refused", patched(good, func(b []byte) { le16(b[endAt(b)+10:], 0xfff0) }),
			"", remotezip.ErrFormat, "cannot fit"},
		{"a central directory over 64 MiB is refused before it is read", patched(good, func(b []byte) { le32(b[endAt(b)+12:], 100<<20) }),
			"", remotezip.ErrFormat, "over the limit"},
		{"a zip64 locator pointing past the file is refused",
			patched(rawZip{entries: []rawEntry{{name: "x", data: []byte("x")}}, zip64End: true}.bytes(), func(b []byte) {
				binary.LittleEndian.PutUint64(b[len(b)-22-20+8:], 1<<40)
			}), "", remotezip.ErrFormat, "zip64 end record"},
		{"a file without an end record is refused", good[:len(good)-30], "", remotezip.ErrFormat, "no end of central directory"},
		{"an entry whose data runs into the directory is refused", patched(good, func(b []byte) { le32(b[centralAt(b)+20:], 1<<20) }),
			"", remotezip.ErrFormat, "outside the archive's data"},
		{"a wrong CRC-32 is caught after reading", patched(good, func(b []byte) { b[30+5] ^= 1 }),
			"a.txt", remotezip.ErrChecksum, "CRC-32"},
		{"data longer than declared is caught", patched(deflated, func(b []byte) { le32(b[centralAt(b)+24:], 5) }),
			"d.txt", remotezip.ErrChecksum, "the archive declares 5"},
		{"corrupt deflate data is caught", patched(deflated, func(b []byte) { copy(b[dataAt(b):], "\xff\xff\xff\xff") }),
			"d.txt", remotezip.ErrChecksum, ""},
		{"a local header missing where the directory says is refused", patched(good, func(b []byte) { b[0] = 'X' }),
			"a.txt", remotezip.ErrFormat, "no local file header"},
		{"a local header naming another file is refused", patched(good, func(b []byte) { b[30] = 'z' }),
			"a.txt", remotezip.ErrFormat, "local header names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := remotezip.Open(t.Context(), remotezip.NewReaderAt(bytes.NewReader(tt.data), int64(len(tt.data))))
			if tt.entry != "" {
				if err != nil {
					t.Fatal(err)
				}
				_, err = a.Extract(t.Context(), tt.entry, &bytes.Buffer{})
			}
			if !errorIs(err, tt.want) || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("got %v, want %v containing %q", err, tt.want, tt.contains)
			}
		})
	}
}

// bigArchive has its first entry far from the tail the first request
// reads, so reading it takes another request.
func bigArchive(t *testing.T) []byte {
	return zipOf(t, "", file{name: "first.txt", data: []byte("first")}, file{name: "pad.bin", data: noise(1<<20, 2)})
}

func TestServersThatMustNotBeTrusted(t *testing.T) {
	data := bigArchive(t)
	tests := []struct {
		name     string
		hook     func(n int64, w http.ResponseWriter, r *http.Request) bool
		openErr  error // NewHTTP's error, or nil when Extract must fail
		want     error
		received int64 // body bytes the client may have read, -1: any
	}{
		{"a server ignoring Range on the first request is refused unread",
			func(n int64, w http.ResponseWriter, r *http.Request) bool { r.Header.Del("Range"); return false },
			remotezip.ErrNoRanges, remotezip.ErrNoRanges, 0},
		{"a server answering the first request with the whole archive as one range is refused",
			func(n int64, w http.ResponseWriter, r *http.Request) bool {
				r.Header.Set("Range", "bytes=0-")
				return false
			},
			remotezip.ErrNoRanges, remotezip.ErrNoRanges, 0},
		{"a server ignoring Range later is refused unread",
			func(n int64, w http.ResponseWriter, r *http.Request) bool {
				if n > 1 {
					r.Header.Del("Range")
				}
				return false
			}, nil, remotezip.ErrNoRanges, -1},
		{"an ETag that changes between requests stops the read",
			func(n int64, w http.ResponseWriter, r *http.Request) bool {
				if n > 1 {
					r.Header.Del("If-Range")
					w.Header().Set("ETag", `"another"`)
				}
				return false
			}, nil, remotezip.ErrChanged, -1},
		{"a Content-Range total that changes stops the read",
			func(n int64, w http.ResponseWriter, r *http.Request) bool {
				if n == 1 {
					return false
				}
				w.Header().Set("Content-Range", "bytes 0-99/99999999")
				w.WriteHeader(http.StatusPartialContent)
				w.Write(make([]byte, 100))
				return true
			}, nil, remotezip.ErrChanged, -1},
		{"a range starting elsewhere than asked stops the read",
			func(n int64, w http.ResponseWriter, r *http.Request) bool {
				if n == 1 {
					return false
				}
				r.Header.Set("Range", "bytes=5-10")
				return false
			}, nil, nil, -1},
		{"a gzip-encoded range stops the read",
			func(n int64, w http.ResponseWriter, r *http.Request) bool {
				if n > 1 {
					w.Header().Set("Content-Encoding", "gzip")
				}
				return false
			}, nil, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serveArchive(t, data)
			s.hook = tt.hook
			src, err := remotezip.NewHTTP(t.Context(), client(t, s.URL), s.URL+"/api/v4/jobs/1/artifacts", nil)
			if tt.openErr != nil {
				if !errorIs(err, tt.openErr) {
					t.Fatalf("NewHTTP: %v, want %v", err, tt.openErr)
				}
				if n := s.requests.Load(); n != 1 {
					t.Errorf("%d requests, want 1 (no retry)", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := remotezip.Open(t.Context(), src)
			if err != nil {
				t.Fatal(err)
			}
			_, before := src.Stats()
			var buf bytes.Buffer
			_, err = a.Extract(t.Context(), "first.txt", &buf)
			if err == nil || (tt.want != nil && !errorIs(err, tt.want)) {
				t.Fatalf("Extract: %v, want %v", err, tt.want)
			}
			if _, after := src.Stats(); tt.received >= 0 && after-before > tt.received {
				t.Errorf("read %d body bytes after the refusal", after-before)
			}
			if n := s.requests.Load(); n != 2 {
				t.Errorf("%d requests, want 2 (no retry of a final refusal)", n)
			}
		})
	}
}

func TestReplacedArchiveIsNotSpliced(t *testing.T) {
	data := bigArchive(t)
	s := serveArchive(t, data)
	src, err := remotezip.NewHTTP(t.Context(), client(t, s.URL), s.URL+"/api/v4/jobs/1/artifacts", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := remotezip.Open(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	s.set(zipOf(t, "", file{name: "first.txt", data: []byte("FIRST")}, file{name: "pad.bin", data: noise(1<<20, 3)}))
	if _, err := a.Extract(t.Context(), "first.txt", &bytes.Buffer{}); !errorIs(err, remotezip.ErrChanged) {
		t.Errorf("Extract after the archive was replaced: %v, want ErrChanged", err)
	}
}

func TestSmallArchiveFromServerWithoutRanges(t *testing.T) {
	data := zipOf(t, "", file{name: "a", data: []byte("tiny")})
	s := serveArchive(t, data)
	s.hook = func(n int64, w http.ResponseWriter, r *http.Request) bool { r.Header.Del("Range"); return false }
	_, a := openHTTP(t, s)
	if got := extractString(t, a, "a"); got != "tiny" {
		t.Errorf("a = %q", got)
	}
}

func TestBrokenBodyIsResumedWhereItBroke(t *testing.T) {
	big := noise(1<<20, 4)
	data := zipOf(t, "", file{name: "first.bin", data: big}, file{name: "pad.bin", data: noise(1<<20, 5)})
	s := serveArchive(t, data)
	var (
		mu     sync.Mutex
		ranges []string
	)
	s.hook = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		if n != 2 {
			return false
		}
		w.Header().Set("ETag", s.etag)
		w.Header().Set("Content-Range", "bytes 0-1048629/"+itoa(len(data)))
		w.Header().Set("Content-Length", "1048630")
		w.WriteHeader(http.StatusPartialContent)
		w.Write(data[:300_000])
		panic(http.ErrAbortHandler) // the connection breaks mid-body
	}
	src, a := openHTTP(t, s)
	var buf bytes.Buffer
	if _, err := a.Extract(t.Context(), "first.bin", &buf); err != nil || !bytes.Equal(buf.Bytes(), big) {
		t.Fatalf("Extract: %v (%d bytes)", err, buf.Len())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ranges) != 3 || !strings.HasPrefix(ranges[2], "bytes=300000-") {
		t.Errorf("ranges asked: %q, want the third to resume at byte 300000", ranges)
	}
	if _, received := src.Stats(); received > int64(len(data))/2+(300<<10) {
		t.Errorf("received %d bytes", received)
	}
}

func TestEmptyAndRefusedArchives(t *testing.T) {
	s := serveArchive(t, nil)
	if _, err := remotezip.NewHTTP(t.Context(), client(t, s.URL), s.URL+"/x", nil); !errorIs(err, remotezip.ErrFormat) {
		t.Errorf("an empty archive: %v, want ErrFormat", err)
	}
	c := client(t, s.URL)
	s.hook = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, `{"message":"403 Forbidden"}`, http.StatusForbidden)
		return true
	}
	_, err := remotezip.NewHTTP(t.Context(), c, s.URL+"/x", nil)
	if err == nil || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), jobToken) {
		t.Errorf("a refusal: %v", err)
	}
}
