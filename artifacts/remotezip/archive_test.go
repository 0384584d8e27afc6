package remotezip_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
)

func TestSmallArchiveIsListedAndReadInOneRequest(t *testing.T) {
	deflated := strings.Repeat("compressible line\n", 500)
	data := zipOf(t, "",
		file{name: "dist/", mode: fs.ModeDir | 0o755},
		file{name: "dist/app", data: []byte("#!/bin/sh\necho hi\n"), mode: 0o755},
		file{name: "dist/log.txt", data: []byte(deflated), method: 8},
		file{name: "dist/link", data: []byte("app"), mode: fs.ModeSymlink | 0o777},
	)
	s := serveArchive(t, data)
	src, a := openHTTP(t, s)

	got := a.Entries()
	want := []struct {
		name        string
		size        int64
		mode        fs.FileMode
		dir, link   bool
		compression uint16
	}{
		{"dist/", 0, fs.ModeDir | 0o755, true, false, 0},
		{"dist/app", 18, 0o755, false, false, 0},
		{"dist/log.txt", int64(len(deflated)), 0o644, false, false, 8},
		{"dist/link", 3, fs.ModeSymlink | 0o777, false, true, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		e := got[i]
		if e.Name != w.name || e.Size != w.size || e.Mode != w.mode || e.IsDir != w.dir || e.IsSymlink != w.link || e.Method != w.compression {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
		if !e.Modified.Equal(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)) {
			t.Errorf("entry %s modified %v", e.Name, e.Modified)
		}
	}
	if s := extractString(t, a, "dist/app"); s != "#!/bin/sh\necho hi\n" {
		t.Errorf("dist/app = %q", s)
	}
	if s := extractString(t, a, "./dist/log.txt"); s != deflated {
		t.Errorf("dist/log.txt differs (%d bytes)", len(s))
	}
	if n, _ := src.Stats(); n != 1 || s.requests.Load() != 1 {
		t.Errorf("%d requests (server saw %d), want 1: the tail holds the whole archive", n, s.requests.Load())
	}
}

func TestEntryReadsOnlyItsOwnBytes(t *testing.T) {
	big := noise(8<<20, 1)
	data := zipOf(t, "",
		file{name: "small.txt", data: []byte("the one file we want")},
		file{name: "big-1.bin", data: big},
		file{name: "big-2.bin", data: big, method: 8},
	)
	s := serveArchive(t, data)
	_, a := openHTTP(t, s)
	if got := extractString(t, a, "small.txt"); got != "the one file we want" {
		t.Errorf("small.txt = %q", got)
	}
	if n := s.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (tail, entry)", n)
	}
	if sent := s.sent.Load(); sent > 300<<10 {
		t.Errorf("the server sent %d bytes of a %d-byte archive", sent, len(data))
	}
	var buf bytes.Buffer
	if _, err := a.Extract(t.Context(), "big-2.bin", &buf); err != nil || !bytes.Equal(buf.Bytes(), big) {
		t.Errorf("big-2.bin: %v (%d bytes)", err, buf.Len())
	}
}

func TestArchiveShapes(t *testing.T) {
	many := func(n, nameLen int) []file {
		fs := make([]file, n)
		for i := range fs {
			fs[i] = file{name: fmt.Sprintf("dir/%0*d", nameLen, i), data: []byte(fmt.Sprint(i))}
		}
		return fs
	}
	tests := []struct {
		name         string
		data         []byte
		entries      int
		pick, want   string
		wantRequests int64 // after Open and one Extract
	}{
		{"a 65,000-byte comment still leaves the end record in the first read",
			zipOf(t, strings.Repeat("c", 65_000), file{name: "a", data: []byte("A")}), 1, "a", "A", 1},
		{"a central directory longer than the first read costs one more request",
			zipOf(t, "", many(4000, 80)...), 4000, fmt.Sprintf("dir/%080d", 17), "17", 3},
		{"more than 65,535 entries use the zip64 end record",
			zipOf(t, "", many(70_000, 6)...), 70_000, "dir/069999", "69999", 3},
		{"sizes and offsets in zip64 extra fields are read",
			rawZip{entries: []rawEntry{{name: "x", data: []byte("xx"), zip64: true}, {name: "y", data: []byte("yyy"), zip64: true}}, zip64End: true}.bytes(),
			2, "y", "yyy", 1},
		{"an empty archive lists nothing", zipOf(t, ""), 0, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serveArchive(t, tt.data)
			src, a := openHTTP(t, s)
			if n := len(a.Entries()); n != tt.entries {
				t.Fatalf("%d entries, want %d", n, tt.entries)
			}
			if tt.pick != "" {
				if got := extractString(t, a, tt.pick); got != tt.want {
					t.Errorf("%s = %q, want %q", tt.pick, got, tt.want)
				}
			}
			if n, _ := src.Stats(); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
		})
	}
}

func TestLookupRefusals(t *testing.T) {
	data := rawZip{entries: []rawEntry{
		{name: "dist/app", data: []byte("a")},
		{name: "dist/App.txt", data: []byte("b")},
		{name: "twice", data: []byte("1")},
		{name: "twice", data: []byte("2")},
		{name: "../escape", data: []byte("e")},
		{name: "secret", data: []byte("s"), flags: 1},
		{name: strings.Repeat("d/", 300) + "deep", data: []byte("d")},
	}}.bytes()
	a, err := remotezip.Open(t.Context(), remotezip.NewReaderAt(bytes.NewReader(data), int64(len(data))))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, entry string
		want        error
		msg         string
	}{
		{"a missing entry suggests close names", "dist/app.txt", remotezip.ErrNotFound, `did you mean "dist/App.txt"`},
		{"a directory name suggests what it holds", "dist", remotezip.ErrNotFound, `"dist/app"`},
		{"a name two entries share is refused", "twice", remotezip.ErrFormat, "2 entries"},
		{"a name that escapes is refused", "../escape", remotezip.ErrFormat, "escapes"},
		{"an encrypted entry is refused", "secret", remotezip.ErrUnsupported, "encrypted"},
		{"an empty name is refused", "./", remotezip.ErrUnsupported, "empty"},
		{"a name extract would refuse is refused by the same rule", strings.Repeat("d/", 300) + "deep", remotezip.ErrFormat, "more than 128 directories deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := a.Extract(t.Context(), tt.entry, &bytes.Buffer{})
			if !errorIs(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || n != 0 {
				t.Errorf("Extract(%q) = %d, %v; want %v containing %q", tt.entry, n, err, tt.want, tt.msg)
			}
		})
	}
}

func TestUnextractableEntries(t *testing.T) {
	data := zipOf(t, "",
		file{name: "d/", mode: fs.ModeDir | 0o755},
		file{name: "l", data: []byte("d"), mode: fs.ModeSymlink | 0o777},
		file{name: "p", mode: fs.ModeNamedPipe | 0o644},
	)
	a, err := remotezip.Open(t.Context(), remotezip.NewReaderAt(bytes.NewReader(data), int64(len(data))))
	if err != nil {
		t.Fatal(err)
	}
	for name, why := range map[string]string{"d/": "directory", "d": "directory", "l": "symbolic link", "p": "special file"} {
		if _, err := a.Extract(t.Context(), name, &bytes.Buffer{}); !errorIs(err, remotezip.ErrUnsupported) || !strings.Contains(err.Error(), why) {
			t.Errorf("Extract(%q) = %v, want ErrUnsupported saying %q", name, err, why)
		}
	}
}

func TestExtractFileLeavesNothingOnFailure(t *testing.T) {
	good := rawZip{entries: []rawEntry{{name: "a.txt", data: []byte("hello")}}}.bytes()
	bad := bytes.Clone(good)
	bad[30+5] ^= 1 // the data no longer matches its CRC-32
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(dst, []byte("before"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := remotezip.Open(t.Context(), remotezip.NewReaderAt(bytes.NewReader(bad), int64(len(bad))))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.ExtractFile(t.Context(), "a.txt", dst); !errorIs(err, remotezip.ErrChecksum) {
		t.Fatalf("ExtractFile: %v, want ErrChecksum", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "before" {
		t.Errorf("the existing file now holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the directory, want the one that was there", len(ents))
	}
	a, err = remotezip.Open(t.Context(), remotezip.NewReaderAt(bytes.NewReader(good), int64(len(good))))
	if err != nil {
		t.Fatal(err)
	}
	e, n, err := a.ExtractFile(t.Context(), "a.txt", dst)
	if b, _ := os.ReadFile(dst); err != nil || n != 5 || string(b) != "hello" || e.Name != "a.txt" {
		t.Errorf("ExtractFile = %v, %d, %v; file holds %q", e.Name, n, err, b)
	}
}
