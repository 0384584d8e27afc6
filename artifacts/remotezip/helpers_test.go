package remotezip_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// file is one member of a test archive written with archive/zip.
type file struct {
	name   string
	data   []byte
	method uint16
	mode   fs.FileMode // 0: 0644 (directories: 0755)
}

// zipOf writes a real zip with archive/zip, the way Go-based tools do.
func zipOf(t testing.TB, comment string, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: f.method, Modified: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if comment != "" {
		if err := zw.SetComment(comment); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noise returns n incompressible bytes.
func noise(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// rawEntry is a stored member of a hand-built archive, for the records
// archive/zip will not write (zip64 extra fields on small entries, flags)
// and for hostile ones.
type rawEntry struct {
	name  string
	data  []byte
	flags uint16
	zip64 bool // sizes and offset in a zip64 extra field
}

type rawZip struct {
	entries  []rawEntry
	zip64End bool // a zip64 end record and locator before the end record
}

func (z rawZip) bytes() []byte {
	var out, cd []byte
	le16 := binary.LittleEndian.AppendUint16
	le32 := binary.LittleEndian.AppendUint32
	le64 := binary.LittleEndian.AppendUint64
	for _, e := range z.entries {
		off := uint64(len(out))
		sum := crc32.ChecksumIEEE(e.data)
		size32, off32 := uint32(len(e.data)), uint32(off)
		var lextra, cextra []byte
		if e.zip64 {
			size32, off32 = 0xffffffff, 0xffffffff
			lextra = le64(le64(le16(le16(nil, 1), 16), uint64(len(e.data))), uint64(len(e.data)))
			cextra = le64(le64(le64(le16(le16(nil, 1), 24), uint64(len(e.data))), uint64(len(e.data))), off)
		}
		out = le32(out, 0x04034b50)
		out = le16(le16(le16(out, 45), e.flags), 0)
		out = le16(le16(out, 0), 0x21)
		out = le32(le32(le32(out, sum), size32), size32)
		out = le16(le16(out, uint16(len(e.name))), uint16(len(lextra)))
		out = append(append(append(out, e.name...), lextra...), e.data...)

		cd = le32(cd, 0x02014b50)
		cd = le16(le16(le16(le16(cd, 3<<8|45), 45), e.flags), 0)
		cd = le16(le16(cd, 0), 0x21)
		cd = le32(le32(le32(cd, sum), size32), size32)
		cd = le16(le16(le16(cd, uint16(len(e.name))), uint16(len(cextra))), 0)
		cd = le16(le16(cd, 0), 0)
		cd = le32(le32(cd, 0o100644<<16), off32)
		cd = append(append(cd, e.name...), cextra...)
	}
	cdOff, n := uint64(len(out)), uint64(len(z.entries))
	out = append(out, cd...)
	if !z.zip64End {
		out = le32(out, 0x06054b50)
		out = le16(le16(le16(le16(out, 0), 0), uint16(n)), uint16(n))
		out = le32(le32(out, uint32(len(cd))), uint32(cdOff))
		return le16(out, 0)
	}
	rec := uint64(len(out))
	out = le64(le32(out, 0x06064b50), 44)
	out = le32(le32(le16(le16(out, 45), 45), 0), 0)
	out = le64(le64(le64(le64(out, n), n), uint64(len(cd))), cdOff)
	out = le32(le64(le32(le32(out, 0x07064b50), 0), rec), 1)
	out = le32(out, 0x06054b50)
	out = le16(le16(le16(le16(out, 0), 0), 0xffff), 0xffff)
	out = le32(le32(out, 0xffffffff), 0xffffffff)
	return le16(out, 0)
}

// archiveServer serves one archive through http.ServeContent, as GitLab's
// Workhorse and object stores answer Range requests, with a strong ETag
// (GitLab's is the archive's SHA-256: https://gitlab.com/gitlab-org/gitlab/-/issues/371991),
// and counts requests and body bytes. It requires the job token, as the
// runner route does.
type archiveServer struct {
	*httptest.Server
	mu       sync.Mutex
	data     []byte
	etag     string
	requests atomic.Int64
	sent     atomic.Int64
	// hook, when set, may answer request number n (from 1) itself.
	hook func(n int64, w http.ResponseWriter, r *http.Request) bool
}

const jobToken = "job-token-for-remotezip-tests"

func serveArchive(t testing.TB, data []byte) *archiveServer {
	t.Helper()
	s := &archiveServer{}
	s.set(data)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *archiveServer) set(data []byte) {
	sum := sha256.Sum256(data)
	s.mu.Lock()
	s.data, s.etag = data, `"`+hex.EncodeToString(sum[:])+`"`
	s.mu.Unlock()
}

func (s *archiveServer) serve(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	if r.Header.Get("JOB-TOKEN") != jobToken {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	data, etag := s.data, s.etag
	s.mu.Unlock()
	w.Header().Set("ETag", etag)
	cw := &countingWriter{ResponseWriter: w, n: &s.sent}
	if s.hook != nil && s.hook(n, cw, r) {
		return
	}
	http.ServeContent(cw, r, "artifacts.zip", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(data))
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// client is a real *gitlab.Client with the job token that never waits for
// real backoff.
func client(t testing.TB, base string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.New(gitlab.Options{BaseURL: base + "/api/v4", Credential: gitlab.Credential{Kind: gitlab.JobToken, Token: jobToken},
		MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, MaxRetryAfter: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// extractString returns an entry's content, failing the test on an error.
func extractString(t testing.TB, a *remotezip.Archive, name string) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := a.Extract(t.Context(), name, &buf); err != nil {
		t.Fatalf("extracting %s: %v", name, err)
	}
	return buf.String()
}

// openHTTP opens the archive s serves through a real client.
func openHTTP(t testing.TB, s *archiveServer) (*remotezip.HTTPSource, *remotezip.Archive) {
	t.Helper()
	src, err := remotezip.NewHTTP(t.Context(), client(t, s.URL), s.URL+"/api/v4/jobs/1/artifacts", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := remotezip.Open(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	return src, a
}

func errorIs(err, target error) bool { return err != nil && errors.Is(err, target) }

func itoa(n int) string { return strconv.Itoa(n) }
