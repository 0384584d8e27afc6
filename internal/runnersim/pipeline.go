package runnersim

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// JobDef is the part of a .gitlab-ci.yml job the simulation runs.
type JobDef struct {
	Stage     string            `yaml:"stage"`
	Script    []string          `yaml:"script"`
	After     []string          `yaml:"after_script"`
	Variables map[string]string `yaml:"variables"`
}

// ScriptText joins the job's script lines as the runner's build_script runs
// them: one after another under errexit.
func (j JobDef) ScriptText() string { return strings.Join(j.Script, "\n") }

// LoadPipeline reads the jobs of a .gitlab-ci.yml: every top-level key with
// a script (hidden jobs and keywords are skipped).
func LoadPipeline(path string) (map[string]JobDef, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	jobs := map[string]JobDef{}
	for name, node := range raw {
		if strings.HasPrefix(name, ".") || node.Kind != yaml.MappingNode {
			continue
		}
		var j JobDef
		if err := node.Decode(&j); err != nil {
			return nil, fmt.Errorf("%s: job %q: %w", path, name, err)
		}
		if len(j.Script) > 0 {
			jobs[name] = j
		}
	}
	return jobs, nil
}
