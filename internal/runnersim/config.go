// Package runnersim drives a custom-executor driver the way gitlab-runner
// does (docs/gitlab.md, "Custom executor"): stage order, environment
// composition, JOB_RESPONSE_FILE, TMPDIR as working directory, job_env passed
// unprefixed to later stages, argv `run <script> <stage>`, exit-code
// interpretation and SIGTERM to the process group on cancel. The end-to-end
// tests and the demo use it; it is not a runner, only its protocol.
package runnersim

import (
	"fmt"

	"github.com/BurntSushi/toml"
)

// Custom is the [runners.custom] section of a config.toml.
type Custom struct {
	ConfigExec  string   `toml:"config_exec"`
	ConfigArgs  []string `toml:"config_args"`
	PrepareExec string   `toml:"prepare_exec"`
	PrepareArgs []string `toml:"prepare_args"`
	RunExec     string   `toml:"run_exec"`
	RunArgs     []string `toml:"run_args"`
	CleanupExec string   `toml:"cleanup_exec"`
	CleanupArgs []string `toml:"cleanup_args"`
}

// Runner is one [[runners]] entry of a config.toml.
type Runner struct {
	Name      string `toml:"name"`
	URL       string `toml:"url"`
	Executor  string `toml:"executor"`
	BuildsDir string `toml:"builds_dir"`
	CacheDir  string `toml:"cache_dir"`
	Custom    Custom `toml:"custom"`
}

// LoadConfig reads a gitlab-runner config.toml and returns its custom
// executors. Every exec path or argument found in rewrite is replaced, so
// that a test can point /usr/local/bin/pipeline-artifacts at a fresh build.
func LoadConfig(path string, rewrite map[string]string) ([]Runner, error) {
	var cfg struct {
		Runners []Runner `toml:"runners"`
	}
	_, err := toml.DecodeFile(path, &cfg)
	if err != nil {
		return nil, err
	}
	var out []Runner
	for _, r := range cfg.Runners {
		if r.Executor != "custom" {
			continue
		}
		if r.Custom.RunExec == "" {
			return nil, fmt.Errorf("%s: runner %q has no run_exec", path, r.Name)
		}
		r.Custom.rewrite(rewrite)
		out = append(out, r)
	}
	return out, nil
}

func (c *Custom) rewrite(m map[string]string) {
	for _, p := range []*string{&c.ConfigExec, &c.PrepareExec, &c.RunExec, &c.CleanupExec} {
		if r, ok := m[*p]; ok {
			*p = r
		}
	}
	for _, args := range [][]string{c.ConfigArgs, c.PrepareArgs, c.RunArgs, c.CleanupArgs} {
		for i, a := range args {
			if r, ok := m[a]; ok {
				args[i] = r
			}
		}
	}
}

// InstallPath is where README.md and the examples install the binary.
const InstallPath = "/usr/local/bin/pipeline-artifacts"

// LoadDriver reads the one custom executor of a config.toml with
// InstallPath pointed at binary (and any other path in rewrite replaced).
func LoadDriver(path, binary string, rewrite map[string]string) (Custom, error) {
	m := map[string]string{InstallPath: binary}
	for k, v := range rewrite {
		m[k] = v
	}
	runners, err := LoadConfig(path, m)
	if err != nil {
		return Custom{}, err
	}
	if len(runners) != 1 {
		return Custom{}, fmt.Errorf("%s: want one custom executor, found %d", path, len(runners))
	}
	return runners[0].Custom, nil
}
