package hooks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ManifestVersion is the manifest format WriteManifest produces. Later
// versions may add fields; they will not change the meaning of these.
const ManifestVersion = 1

// Manifest is the JSON file PIPELINE_ARTIFACTS_MANIFEST points to. None of
// its types can hold a token.
type Manifest struct {
	Version    int    `json:"version"`
	PipelineID int64  `json:"pipeline_id"`
	ProjectID  string `json:"project_id"`
	JobID      int64  `json:"job_id"`
	// Source says where the sibling list came from: SourcePayload, SourceAPI,
	// or whatever the resolver records for a mix.
	Source   string    `json:"source"`
	Warnings []string  `json:"warnings,omitempty"`
	Siblings []Sibling `json:"siblings"`
}

// siblingJSON is a Sibling as the manifest spells it: snake_case, the
// archive details grouped under "artifact" and omitted when unknown.
type siblingJSON struct {
	Name     string        `json:"name"`
	Var      string        `json:"var"`
	Group    string        `json:"group,omitempty"`
	ID       int64         `json:"id"`
	Stage    string        `json:"stage,omitempty"`
	Status   string        `json:"status,omitempty"`
	Artifact *artifactJSON `json:"artifact,omitempty"`
	URL      string        `json:"url"`
	// PublicURL is the project's artifacts API URL of the same archive.
	PublicURL string `json:"public_url,omitempty"`
	Source    string `json:"source,omitempty"`
	Pipeline  int64  `json:"pipeline_id,omitempty"`
	Relation  string `json:"relation,omitempty"`
}

type artifactJSON struct {
	Filename string     `json:"filename,omitempty"`
	Size     int64      `json:"size,omitempty"`
	ExpireAt *time.Time `json:"expire_at,omitempty"`
}

// MarshalJSON writes s in the manifest's shape.
func (s Sibling) MarshalJSON() ([]byte, error) { return json.Marshal(s.toJSON()) }

func (s Sibling) toJSON() siblingJSON {
	j := siblingJSON{Name: s.Name, Var: s.Var, Group: s.Group, ID: s.ID, Stage: s.Stage,
		Status: s.Status, URL: s.URL, PublicURL: s.PublicURL, Source: s.Source, Pipeline: s.Pipeline, Relation: s.Relation}
	if s.ArtifactFilename != "" || s.ArtifactSize != 0 || s.ArtifactExpireAt != nil {
		j.Artifact = &artifactJSON{Filename: s.ArtifactFilename, Size: s.ArtifactSize, ExpireAt: s.ArtifactExpireAt}
	}
	return j
}

// manifestFile is a Manifest as WriteManifest encodes it: its Siblings
// field hides the embedded one, with the siblings already in their JSON
// shape, so that encoding/json does not call Sibling.MarshalJSON and then
// re-read its output once per sibling (half the encoding time of a
// 100-job pipeline's manifest, which every config stage writes).
type manifestFile struct {
	Manifest
	Siblings []siblingJSON `json:"siblings"`
}

// UnmarshalJSON reads s from the manifest's shape.
func (s *Sibling) UnmarshalJSON(data []byte) error {
	var j siblingJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*s = Sibling{Name: j.Name, Var: j.Var, Group: j.Group, ID: j.ID, Stage: j.Stage,
		Status: j.Status, URL: j.URL, PublicURL: j.PublicURL, Source: j.Source, Pipeline: j.Pipeline, Relation: j.Relation}
	if a := j.Artifact; a != nil {
		s.ArtifactFilename, s.ArtifactSize, s.ArtifactExpireAt = a.Filename, a.Size, a.ExpireAt
	}
	return nil
}

// WriteManifest writes m to path atomically: a reader sees the old file or
// the whole new one, never a torn one. The file has mode 0600 whatever the
// umask. A zero Version is written as ManifestVersion and nil Siblings as [].
func WriteManifest(path string, m Manifest) error {
	if m.Version == 0 {
		m.Version = ManifestVersion
	}
	file := manifestFile{Manifest: m, Siblings: make([]siblingJSON, 0, len(m.Siblings))}
	for _, s := range m.Siblings {
		file.Siblings = append(file.Siblings, s.toJSON())
	}
	data, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write manifest %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic writes a temporary file next to path and renames it over
// path, so a reader sees the old file or the whole new one. Rename replaces a
// symlink at path rather than following it. There is no fsync: both files it
// writes outlive no crash that matters (the manifest lives in a per-job
// directory, a cache entry torn by a power cut fails to parse and is a miss),
// and at job start every millisecond counts.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	// CreateTemp asks for 0600, which a umask such as 0277 narrows; chmod is
	// not subject to the umask.
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ReadManifest reads the manifest at path.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", path, err)
	}
	if m.Version < 1 {
		return nil, fmt.Errorf("parse manifest %s: no version, so not a pipeline-artifacts manifest", path)
	}
	return &m, nil
}
