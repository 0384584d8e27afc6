package extract

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func lzipOf(t *testing.T, body []byte) []byte {
	t.Helper()
	return compress(t, codecWriters[".lz"], body)
}

// TestHostileLzipIsRefusedInOneLine: the library this replaces panicked on a
// member shorter than its trailer, taking the whole binary down, and read a
// member whole into memory before giving out a byte.
func TestHostileLzipIsRefusedInOneLine(t *testing.T) {
	good := lzipOf(t, bytes.Repeat([]byte("lzip "), 1000))
	tests := []struct {
		name   string
		data   []byte
		reason string
	}{
		{"a member shorter than its trailer", []byte("LZIP\x01\x0c0123"), "unreadable lz stream"},
		{"a member asking for a 512 MiB dictionary", append([]byte("LZIP\x01\x1d"), good[6:]...), "more than the 128 MiB allowed"},
		{"a member of another version", append([]byte("LZIP\x02"), good[5:]...), "unsupported version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			archive := filepath.Join(parent, "report.lz")
			writeFile(t, archive, string(tc.data))
			_, err := Extract(t.Context(), archive, filepath.Join(parent, "dest"), Limits{})
			checkRefused(t, err, "", tc.reason)
			if _, err := os.Lstat(filepath.Join(parent, "dest")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dest was created (%v)", err)
			}
		})
	}
}

func TestLzipTrailersAreChecked(t *testing.T) {
	good := lzipOf(t, bytes.Repeat([]byte("lzip "), 1000))
	flip := func(at int) []byte { b := bytes.Clone(good); b[len(b)-at] ^= 1; return b }
	for name, data := range map[string][]byte{
		"a CRC-32 that does not match":      flip(20),
		"a data size that does not match":   flip(16),
		"a member size that does not match": flip(8),
		"data after the last member":        append(bytes.Clone(good), "garbage!"...),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := newLzipReader(bytes.NewReader(data))
			if err == nil {
				_, err = io.ReadAll(r)
			}
			if err == nil {
				t.Fatal("read to the end without an error")
			}
			t.Log(err)
		})
	}
}

func TestLzipMembersAreReadInTurnAndAsAStream(t *testing.T) {
	one, two := bytes.Repeat([]byte("one "), 50_000), bytes.Repeat([]byte("two "), 50_000)
	both := append(lzipOf(t, one), lzipOf(t, two)...)
	r, err := newLzipReader(bytes.NewReader(both))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, append(bytes.Clone(one), two...)) {
		t.Fatalf("read %d bytes (%v), want both members' %d", len(got), err, len(one)+len(two))
	}

	// The first member comes out whole though the input breaks after it:
	// nothing waits for the end of the input.
	first := lzipOf(t, one)
	broken := io.MultiReader(bytes.NewReader(first), errReader{errors.New("the network broke")})
	r, err = newLzipReader(broken)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadFull(r, make([]byte, len(one))); err != nil {
		t.Fatalf("read %d bytes of the first member: %v", got, err)
	}
	if _, err := r.Read(make([]byte, 1)); err == nil || err.Error() != "the network broke" {
		t.Errorf("after the first member: %v, want the input's error", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
