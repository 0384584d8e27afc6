package cli

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/runnersim"
)

// BenchmarkRunConfigPayload99 is the config stage of a job that declares
// 99 dependencies, from the payload alone (no job token: no API call): the
// per-sibling work every config stage does whatever the source.
func BenchmarkRunConfigPayload99(b *testing.B) {
	spec := runnersim.Spec{APIURL: "http://127.0.0.1:1/api/v4", ProjectID: 42, PipelineID: 7001, JobID: 9000,
		Name: "deploy", Stage: "deploy"}
	for i := range 99 {
		spec.Dependencies = append(spec.Dependencies, runnersim.Dependency{ID: int64(1000 + i), Name: fmt.Sprintf("test %d/99", i)})
	}
	tmp := b.TempDir()
	env, err := runnersim.StageEnv(tmp, spec.Job())
	if err != nil {
		b.Fatal(err)
	}
	opts := StageOptions{Settings: Settings{ResolveTimeout: 10 * time.Second, CacheTTL: 0}, Environ: env,
		Stdout: &bytes.Buffer{}, Stderr: io.Discard}
	b.ReportAllocs()
	for b.Loop() {
		opts.Stdout.(*bytes.Buffer).Reset()
		if err := runConfig(b.Context(), opts); err != nil {
			b.Fatal(err)
		}
	}
}
