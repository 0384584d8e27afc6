package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// TestListPrintsEveryNameOnOneInertLine: entry names may hold line breaks,
// escape sequences, C1 controls (U+009B is CSI), line separators and
// right-to-left overrides. `list` prints one line per entry and `list
// --json` one line in all, and neither lets one of those reach the job log
// raw; the JSON still decodes to the names as stored.
func TestListPrintsEveryNameOnOneInertLine(t *testing.T) {
	t.Parallel()
	names := []string{"ok.txt", "evil\x1b[31mred\r\nforged line", "c1\u009b31mred", "bidi\u202eexe.txt", "sep\u2028line"}
	files := map[string]string{}
	for _, n := range names {
		files[n] = "x"
	}
	f := newDLFixture(t, gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_0}, gitlabtest.MakeZip(t, files))
	id := fmt.Sprint(f.build.ID)

	plain := f.run(t, "list", "--job-id", id)
	plain.want(t, 0)
	if lines := strings.Split(strings.TrimSuffix(plain.stdout, "\n"), "\n"); len(lines) != len(names) {
		t.Errorf("list printed %d lines for %d entries:\n%s", len(lines), len(names), plain.stdout)
	}
	js := f.run(t, "list", "--job-id", id, "--json")
	js.want(t, 0)
	if strings.Count(js.stdout, "\n") != 1 {
		t.Errorf("list --json printed %d lines", strings.Count(js.stdout, "\n"))
	}
	for _, out := range []string{plain.stdout, js.stdout} {
		for _, r := range out {
			if r != '\n' && !strconv.IsPrint(r) {
				t.Errorf("the output holds %U raw:\n%s", r, out)
			}
		}
	}
	var l struct{ Entries []struct{ Name string } }
	if err := json.Unmarshal([]byte(js.stdout), &l); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range l.Entries {
		got = append(got, e.Name)
	}
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("the JSON names %q, want %q", got, names)
	}
}
