package executor

import (
	"encoding/json"
	"fmt"
	"io"
)

// ConfigOutput is the JSON the config stage prints on stdout. The runner
// ignores keys it does not know and treats every omitted key as "keep
// config.toml's value".
type ConfigOutput struct {
	BuildsDir string `json:"builds_dir,omitempty"`
	CacheDir  string `json:"cache_dir,omitempty"`
	// BuildsDirIsShared is a pointer because false is a meaningful override.
	BuildsDirIsShared *bool  `json:"builds_dir_is_shared,omitempty"`
	Hostname          string `json:"hostname,omitempty"`
	// Driver is printed in the job log's "Using Custom executor with driver" line.
	Driver DriverInfo `json:"driver,omitzero"`
	// JobEnv reaches prepare, every run and cleanup as plain NAME=value
	// (runner ≥13.6); the runner does not put it into the job script.
	JobEnv map[string]string `json:"job_env,omitempty"`
	// Shell overrides config.toml's shell (runner ≥15.10).
	Shell string `json:"shell,omitempty"`
}

// DriverInfo names the driver in the job log.
type DriverInfo struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// WriteConfig writes c as one line of JSON followed by a newline. w is
// normally stdout, which is protocol: nothing else may be written to it.
func WriteConfig(w io.Writer, c ConfigOutput) error {
	enc := json.NewEncoder(w)
	// URLs in job_env values stay readable in debug output.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("write config output: %w", err)
	}
	return nil
}
