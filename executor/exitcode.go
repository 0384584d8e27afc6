package executor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// WriteBuildExitCode records the job script's real exit status in path, the
// stage's BUILD_EXIT_CODE_FILE. The runner (≥17.9) reads it when the stage
// exits with BUILD_FAILURE_EXIT_CODE and reports that code instead, which is
// what allow_failure:exit_codes matches. An empty path, as older runners give,
// is a no-op.
func WriteBuildExitCode(path string, code int) error {
	if path == "" {
		return nil
	}
	// The job script can write to TMPDIR too; replacing whatever is at path,
	// rather than opening it, never follows a symlink the job planted there.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write build exit code: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write build exit code: %w", err)
	}
	_, err = f.WriteString(strconv.Itoa(code) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write build exit code: %w", err)
	}
	return nil
}
