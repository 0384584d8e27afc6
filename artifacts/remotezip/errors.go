package remotezip

import (
	"errors"
	"fmt"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/internal/entryname"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// Errors callers branch on (errors.Is).
var (
	// ErrNoRanges: the server answered a ranged request with the whole
	// body. Nothing more was read; the caller may fall back to downloading
	// the whole archive.
	ErrNoRanges = errors.New("the server does not answer HTTP Range requests")
	// ErrChanged: the archive changed between two reads (its ETag,
	// Last-Modified or length differs), so its pieces cannot be combined.
	ErrChanged = errors.New("the archive changed while it was being read")
	// ErrFormat: the bytes are not a zip archive this package can read.
	ErrFormat = errors.New("not a readable zip archive")
	// ErrChecksum: an entry's data does not match its CRC-32 or size.
	ErrChecksum = errors.New("entry data does not match its checksum")
	// ErrUnsupported: the entry exists but cannot be extracted as one file
	// (a directory, a symlink, encrypted, an unknown compression method).
	ErrUnsupported = errors.New("entry cannot be extracted")
	// ErrNotFound is matched by every *NotFoundError.
	ErrNotFound = errors.New("no such entry in the archive")
)

func formatError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// NotFoundError names a missing entry and up to a few entries whose names
// are close to it.
type NotFoundError struct {
	Name  string
	Close []string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no entry %s in the archive", entryname.Quote(e.Name))
	if len(e.Close) == 0 {
		return msg
	}
	q := make([]string, len(e.Close))
	for i, c := range e.Close {
		q[i] = entryname.Quote(c)
	}
	return msg + " (did you mean " + strings.Join(q, ", ") + "?)"
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// stopError marks an error no retry can cure. gitlab.Client.Do unwraps
// gitlab.Permanent before returning, so this type is how the resume loop
// still recognises it afterwards.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

func stop(err error) error { return gitlab.Permanent(&stopError{err: err}) }

func isStop(err error) bool {
	var s *stopError
	return errors.As(err, &s)
}
