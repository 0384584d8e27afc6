package component_test

import (
	"strings"
	"testing"
)

// BenchmarkComponentStartUp is what the component adds to a job's start-up,
// before_script to first script line, against the fake on loopback: the
// first job of a runner (download and verify), a later one (the cached
// binary, verified again), and an image with the binary on PATH.
//
//	go test -run '^$' -bench ComponentStartUp ./internal/release/component/
func BenchmarkComponentStartUp(b *testing.B) {
	needTools(b, "gitlab-ci-local", "git", "node", "dash", "curl")
	w := newWorld(b)
	sh := shells(b)[0]
	dir := w.repo(b, map[string]any{}, w.digest)
	for _, bc := range []struct {
		name   string
		cached bool
		onPath bool
	}{
		{"download and verify", false, false},
		{"cached binary", true, false},
		{"binary on PATH", false, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			project := b.TempDir()
			if bc.cached {
				w.run(b, sh, dir, project, []string{"curl"}, false)
			}
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				p := project
				if !bc.cached {
					p = b.TempDir()
				}
				b.StartTimer()
				stdout, _, code := w.run(b, sh, dir, p, []string{"curl"}, bc.onPath)
				if code != 0 || !strings.Contains(stdout, "ARTIFACT_URL_BUILD=http") {
					b.Fatalf("exit %d\n%s", code, stdout)
				}
			}
		})
	}
}
