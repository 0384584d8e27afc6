package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestOneFileOfABombIsRefusedLikeAnExtraction: --path reads one entry by
// ranges, and that entry must meet the caps an extraction of the archive
// would apply to it: a deflate bomb is refused by its ratio before a byte is
// written, with or without --max-size, and nothing is left behind.
func TestOneFileOfABombIsRefusedLikeAnExtraction(t *testing.T) {
	t.Parallel()
	archive := gitlabtest.MakeZip(t, map[string]string{"zeros.bin": strings.Repeat("\x00", 8<<20), "ok.txt": "ok"})
	f := newDLFixture(t, gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_0}, archive)
	id := fmt.Sprint(f.build.ID)
	for _, args := range [][]string{
		{"--dest", "out"},
		{"--path", "zeros.bin", "--dest", "out"},
		{"--path", "zeros.bin", "-o", "out/zeros.bin"},
		{"--path", "zeros.bin", "-o", "out/zeros.bin", "--max-size", "1G"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := f.run(t, append([]string{"download", "-q", "--job-id", id, "--max-ratio", "100"}, args...)...)
			r.want(t, 1, "zeros.bin", "compression ratio")
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines != 0 {
				t.Errorf("stderr has %d lines: %s", lines+1, r.stderr)
			}
			if left, _ := os.ReadDir(r.dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
	r := f.run(t, "download", "-q", "--job-id", id, "--max-ratio", "100", "--path", "ok.txt", "--dest", "out")
	r.want(t, 0)
	if got := r.file(t, filepath.Join("out", "ok.txt")); got != "ok" {
		t.Errorf("ok.txt holds %q", got)
	}
}
