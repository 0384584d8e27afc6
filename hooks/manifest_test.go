package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testManifest(t *testing.T) Manifest {
	t.Helper()
	p, err := ReadPayload(writePayload(t, payloadJSON))
	if err != nil {
		t.Fatal(err)
	}
	deps := p.DependencyJobs()
	sibs, collisions := BuildSiblings(Merge(deps, nil), p.ID, testAPI, testProject)
	MarkSources(sibs, deps)
	var warnings []string
	if w := CollisionWarning(collisions); w != "" {
		warnings = append(warnings, w)
	}
	return Manifest{PipelineID: p.JobInfo.PipelineID, ProjectID: testProject, JobID: p.ID,
		Source: SourcePayload, Warnings: warnings, Siblings: sibs}
}

func TestWriteManifestRoundTrips(t *testing.T) {
	expire := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	m := testManifest(t)
	m.Warnings = []string{"pipeline job list unavailable"}
	m.Siblings = append(m.Siblings, Sibling{Name: "pack", Var: "PACK", ID: 9, Stage: "build", Status: "success",
		ArtifactFilename: "a.zip", ArtifactSize: 3, ArtifactExpireAt: &expire, URL: "u", Source: SourceAPI})
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := WriteManifest(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = ManifestVersion
	if !reflect.DeepEqual(*got, m) {
		t.Errorf("got  %+v\nwant %+v", *got, m)
	}
}

func TestWriteManifestShape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := WriteManifest(path, testManifest(t)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	first := raw["siblings"].([]any)[0].(map[string]any)
	want := map[string]any{
		"name": "build: [linux, amd64]", "var": "BUILD_LINUX_AMD64", "group": "BUILD", "id": 1001.0,
		"status": "success", "artifact": map[string]any{"filename": "artifacts.zip", "size": 10485.0},
		"url": testAPI + "/jobs/1001/artifacts", "public_url": testAPI + "/projects/42/jobs/1001/artifacts", "source": "payload",
	}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("first sibling = %v\nwant %v", first, want)
	}
	for _, key := range []string{"version", "pipeline_id", "project_id", "job_id", "source", "siblings"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("manifest lacks %q: %s", key, data)
		}
	}
}

// The file is byte for byte what encoding/json makes of a Manifest through
// Sibling.MarshalJSON, which ReadManifest's readers and older releases
// know; WriteManifest only takes a faster road to it.
func TestWriteManifestIsTheManifestsJSON(t *testing.T) {
	expire := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := testManifest(t)
	full.Version = ManifestVersion
	full.Siblings = append(full.Siblings, Sibling{Name: "<pack> & co", Var: "PACK_CO", ID: 9, Status: "success",
		ArtifactExpireAt: &expire, URL: "u?a=1&b=2", Relation: "child"})
	for name, m := range map[string]Manifest{"full": full, "no siblings": {Version: ManifestVersion, Siblings: []Sibling{}}} {
		path := filepath.Join(t.TempDir(), "manifest.json")
		if err := WriteManifest(path, m); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want)+"\n" {
			t.Errorf("%s: WriteManifest wrote\n%s\nencoding/json makes\n%s", name, got, want)
		}
	}
}

func TestWriteManifestNeverHoldsAToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	if err := WriteManifest(path, testManifest(t)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secretToken) || strings.Contains(strings.ToLower(string(data)), "token") {
		t.Errorf("manifest mentions a token:\n%s", data)
	}
}

func TestWriteManifestReplacesAndLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	for i := range 2 {
		if err := WriteManifest(path, Manifest{JobID: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.JobID != 1 || got.Siblings == nil || len(got.Siblings) != 0 {
		t.Errorf("got %+v, want job 1 with an empty sibling list", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only the manifest", entries)
	}
}

func TestWriteManifestErrors(t *testing.T) {
	dir := t.TempDir()
	inTheWay := filepath.Join(dir, "manifest.json")
	if err := os.Mkdir(inTheWay, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
	}{
		{"a missing directory is an error", filepath.Join(dir, "missing", "manifest.json")},
		{"a directory in the way is an error", inTheWay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteManifest(tt.path, Manifest{})
			if err == nil || !strings.HasPrefix(err.Error(), "write manifest ") {
				t.Errorf("err = %v, want a write manifest error", err)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("failed writes left %v behind", entries)
	}
}

func TestReadManifestErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, path, want string
	}{
		{"a missing file cannot be read", filepath.Join(dir, "nope.json"), "read manifest: "},
		{"broken JSON cannot be parsed", write("broken.json", "{"), "parse manifest "},
		{"JSON without a version is not a manifest", write("other.json", `{"siblings": []}`), "not a pipeline-artifacts manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadManifest(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
