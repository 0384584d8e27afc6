package cli

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestVersionFlagAndCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"the version command prints version, commit and Go version", []string{"pipeline-artifacts", "version"}},
		{"the --version flag prints the same line", []string{"pipeline-artifacts", "--version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Main(context.Background(), tc.args, &out, &errb); code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errb.String())
			}
			line := strings.SplitN(out.String(), "\n", 2)[0]
			if !strings.Contains(line, version) || !strings.Contains(line, runtime.Version()) {
				t.Fatalf("first line %q lacks version %q or %s", line, version, runtime.Version())
			}
		})
	}
}
