package artifacts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/extract"
)

// writebackEvery is how many bytes are written between two writeback kicks
// under Options.Fsync (Linux).
const writebackEvery = 16 << 20

// sink is the temporary file a download is written into. It is created on
// the first successful response, so waiting for an archive that never comes
// leaves no trace, and it lives next to the destination so that the final
// rename does not cross file systems.
type sink struct {
	dir, prefix string
	perm        os.FileMode
	openFile    func(name string, flag int, perm os.FileMode) (File, error)
	f           File
}

// file returns the temporary file, creating it on first use.
func (s *sink) file() (File, error) {
	if s.f != nil {
		return s.f, nil
	}
	for range 10 {
		// os.CreateTemp would force mode 0600; O_EXCL with our own name
		// lets the umask decide, as for any file a user downloads.
		f, err := s.openFile(filepath.Join(s.dir, s.prefix+randomSuffix()+".part"), os.O_RDWR|os.O_CREATE|os.O_EXCL, s.perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating a temporary file in %s: %w", s.dir, err)
		}
		s.f = f
		return f, nil
	}
	return nil, fmt.Errorf("creating a temporary file in %s: too many name clashes", s.dir)
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// reset empties the file for a download that restarts from byte 0.
func (s *sink) reset() error {
	if s.f == nil {
		return nil
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("truncating %s: %w", s.f.Name(), err)
	}
	return nil
}

// finish closes the file, making it durable first when asked to (--fsync
// on a file that stays: a staging file that is extracted or copied to
// stdout and then removed never needs it).
func (s *sink) finish(durable bool) error {
	if s.f == nil {
		return nil
	}
	if durable {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("writing %s: %w", s.f.Name(), err)
		}
	}
	return s.f.Close()
}

// discard closes and removes the file; after commit it does nothing.
func (s *sink) discard() {
	if s.f == nil {
		return
	}
	_ = s.f.Close()
	_ = os.Remove(s.f.Name())
	s.f = nil
}

// commit renames the finished file to path; rename replaces a file (or a
// symlink) at path atomically and never writes through it.
func (s *sink) commit(path string) error {
	if err := os.Rename(s.f.Name(), path); err != nil {
		return err
	}
	s.f = nil
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable. Best effort: not every file system can
// sync a directory, and the file itself is complete anyway.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// output is where a verified download goes: a file, a directory to extract
// into, or a writer.
type output struct {
	o    *Options
	sink *sink
}

func newOutput(o *Options) (*output, error) {
	s := &sink{openFile: o.OpenFile, perm: 0o600}
	switch {
	case o.Output == "-":
		s.dir, s.prefix = o.TempDir, "pipeline-artifacts-"
		if s.dir == "" {
			s.dir = os.TempDir()
		}
	case o.Output != "":
		if fi, err := os.Stat(o.Output); err == nil && fi.IsDir() {
			return nil, fmt.Errorf("output %s is a directory", o.Output)
		}
		// Like Dest, a missing parent directory is created only at commit.
		s.dir, s.prefix, s.perm = NearestExisting(filepath.Dir(o.Output)), "."+filepath.Base(o.Output)+".", 0o666
	default:
		// Inside Dest, or the nearest directory above it that exists: on
		// the same file system as what we extract, and nothing is created
		// (Dest least of all) before the extraction commits.
		s.dir, s.prefix = NearestExisting(o.Dest), ".pipeline-artifacts-"
	}
	return &output{o: o, sink: s}, nil
}

// discard removes whatever is left of the temporary file.
func (out *output) discard() { out.sink.discard() }

// deliver puts the finished, verified download where it belongs.
func (out *output) deliver(ctx context.Context, res *Result) error {
	stays := out.o.Output != "" && out.o.Output != "-"
	if err := out.sink.finish(stays && out.o.Fsync); err != nil {
		return err
	}
	name := out.sink.f.Name()
	switch {
	case out.o.Output == "-":
		return copyFile(out.o.Stdout, name)
	case out.o.Output != "":
		res.Path = out.o.Output
		if err := os.MkdirAll(filepath.Dir(out.o.Output), 0o777); err != nil {
			return err
		}
		return out.sink.commit(out.o.Output)
	}
	res.Dest = out.o.Dest
	er, err := extract.Extract(ctx, name, out.o.Dest, out.o.Limits)
	if err != nil {
		return err
	}
	res.Extract = &er
	return nil
}

// NearestExisting is dir, or its closest ancestor that exists: where a
// temporary file can wait, on the same file system, without creating dir
// before the download is complete (nothing is created at a destination
// until the commit).
func NearestExisting(dir string) string {
	dir = filepath.Clean(dir)
	for {
		_, err := os.Lstat(dir)
		parent := filepath.Dir(dir)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return dir
		}
		dir = parent
	}
}

func copyFile(w io.Writer, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("writing to stdout: %w", err)
	}
	return nil
}
