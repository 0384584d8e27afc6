package download

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/remotezip"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// openRanged opens the archive at u by ranges, polling while it may still
// appear (--wait).
func openRanged(ctx context.Context, o *Options, t target, u string) (*remotezip.Archive, *remotezip.HTTPSource, error) {
	c, err := newClient(o, baseOf(t, u), u)
	if err != nil {
		return nil, nil, err
	}
	var src *remotezip.HTTPSource
	var a *remotezip.Archive
	err = artifacts.Poll(ctx, engineOptions(o, t, c, u), func(ctx context.Context) error {
		s, err := remotezip.NewHTTPWith(ctx, c, u, remotezip.HTTPOptions{StallTimeout: o.StallTimeout})
		if err != nil {
			return err
		}
		src = s
		a, err = remotezip.Open(ctx, s)
		return err
	})
	if errors.Is(err, remotezip.ErrNoRanges) {
		return nil, nil, noRanges(t.label)
	}
	if err != nil && !errors.Is(err, artifacts.ErrNotFound) && gitlab.Cause(err) == gitlab.NotRefused {
		err = fmt.Errorf("reading %s: %w", t.label, err)
	}
	return a, src, err
}

// oneFile reads o.Path out of the archive at u by ranges: the archive's
// tail, then the one entry; never the whole archive.
func oneFile(ctx context.Context, o *Options, t target, u string, out *Outcome) (*artifacts.Result, error) {
	start := time.Now()
	a, src, err := openRanged(ctx, o, t, u)
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	e, err := a.Lookup(o.Path)
	if err == nil && o.MaxSize > 0 && e.Size > o.MaxSize {
		err = fmt.Errorf("%s: %s is %d bytes, more than --max-size: %w", t.label, o.Path, e.Size, artifacts.ErrTooLarge)
	}
	if err == nil {
		err = o.Limits.CheckEntry(e.Name, uint64(e.Size), uint64(e.CompressedSize))
	}
	var n int64
	var sum string
	if err == nil {
		n, sum, err = saveEntry(ctx, o, a, e)
	}
	var missing *remotezip.NotFoundError
	if errors.As(err, &missing) {
		return nil, &artifacts.NotFoundError{Job: t.label, URL: redactURL(u), Reason: "has " + missing.Error(), Err: err}
	}
	if err != nil {
		return nil, err
	}
	requests, read := src.Stats()
	out.ArchiveBytes, out.ReadBytes = src.Size(), read
	res := &artifacts.Result{Job: t.label, URL: redactURL(u), Bytes: n, Elapsed: time.Since(start),
		Attempts: int(requests), Streams: 1, VerifiedBy: "crc-32 (zip)"}
	if o.Output != "-" {
		res.Path = o.Output
	}
	if sum != "" {
		res.SHA256, res.VerifiedBy = sum, "sha256 (--sha256)"
	}
	return res, nil
}

// saveEntry extracts e into a temporary file, checks it and delivers it:
// renamed to o.Output (its directory created only then) or copied to
// o.Stdout. It returns the bytes and, with --sha256, the checked digest.
func saveEntry(ctx context.Context, o *Options, a *remotezip.Archive, e remotezip.Entry) (int64, string, error) {
	dir := os.TempDir()
	if o.Output != "-" {
		dir = artifacts.NearestExisting(filepath.Dir(o.Output))
	}
	// Created with the entry's permission bits, so that the umask applies
	// to them as it does when an archive is extracted.
	f, err := os.OpenFile(filepath.Join(dir, ".pipeline-artifacts-"+rand.Text()[:12]+".part"), os.O_RDWR|os.O_CREATE|os.O_EXCL, entryPerm(e))
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var w io.Writer = f
	h := sha256.New()
	if o.SHA256 != "" { // hashed only where a digest is there to check
		w = io.MultiWriter(f, h)
	}
	n, err := a.Extract(ctx, e.Name, w)
	if err != nil {
		return n, "", err
	}
	sum := ""
	if o.SHA256 != "" {
		sum = hex.EncodeToString(h.Sum(nil))
		if !strings.EqualFold(sum, o.SHA256) {
			return n, "", &artifacts.IntegrityError{What: "sha256", Want: strings.ToLower(o.SHA256), Got: sum}
		}
	}
	return n, sum, deliver(o, f, e)
}

// entryPerm is the file mode an entry is saved with (remotezip.Entry.Perm);
// the umask applies at creation.
func entryPerm(e remotezip.Entry) os.FileMode { return e.Perm() }

func deliver(o *Options, f *os.File, e remotezip.Entry) error {
	if o.Output == "-" {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, err := io.Copy(o.Stdout, f)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_ = os.Chtimes(f.Name(), time.Time{}, e.Modified)
	if err := os.MkdirAll(filepath.Dir(o.Output), 0o777); err != nil {
		return err
	}
	return os.Rename(f.Name(), o.Output)
}
