package remotezip_test

import (
	"bytes"
	"io"
	"io/fs"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
)

// FuzzOpen feeds arbitrary bytes to the end-record and central-directory
// parser and extracts every entry it accepts: nothing may panic, hang or
// allocate beyond the limits, whatever the archive claims.
func FuzzOpen(f *testing.F) {
	f.Add(zipOf(f, "", file{name: "a/", mode: fs.ModeDir | 0o755}, file{name: "a/b", data: []byte("bb"), method: 8}))
	f.Add(zipOf(f, "a comment", file{name: "x", data: []byte("x")}))
	f.Add(zipOf(f, ""))
	f.Add(rawZip{entries: []rawEntry{{name: "z", data: []byte("zz"), zip64: true}}, zip64End: true}.bytes())
	f.Add([]byte("PK\x05\x06"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := remotezip.Open(t.Context(), remotezip.NewReaderAt(bytes.NewReader(data), int64(len(data))))
		if err != nil {
			return
		}
		// Every input stays cheap (a few entries, small ones): the fuzzer
		// reports an input still running when -fuzztime ends as a failure.
		for i, e := range a.Entries() {
			if i == 16 {
				break
			}
			if e.Size > 64<<10 {
				continue // a declared size is not a reason to spend time
			}
			n, err := a.Extract(t.Context(), e.Name, io.Discard)
			if err == nil && n != e.Size {
				t.Fatalf("%q: extracted %d bytes, declared %d", e.Name, n, e.Size)
			}
		}
	})
}
