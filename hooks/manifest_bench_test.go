package hooks

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWriteManifest writes the manifest of a 100-job pipeline, as
// every config stage and env hook does.
func BenchmarkWriteManifest(b *testing.B) {
	expire := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	m := Manifest{PipelineID: 7001, ProjectID: "42", JobID: 9000, Source: SourceAPI}
	for i := range 99 {
		m.Siblings = append(m.Siblings, Sibling{Name: fmt.Sprintf("test %d/59", i), Var: fmt.Sprintf("TEST_%d_59", i),
			ID: int64(1000 + i), Stage: "test", Status: "success", URL: fmt.Sprintf("http://127.0.0.1:1/api/v4/jobs/%d/artifacts", 1000+i),
			PublicURL: fmt.Sprintf("http://127.0.0.1:1/api/v4/projects/42/jobs/%d/artifacts", 1000+i), Source: SourceAPI,
			Pipeline: 7001, ArtifactFilename: "artifacts.zip", ArtifactSize: 1 << 20, ArtifactExpireAt: &expire})
	}
	path := filepath.Join(b.TempDir(), "manifest.json")
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteManifest(path, m); err != nil {
			b.Fatal(err)
		}
	}
}
