// Package runnersim drives a custom-executor driver the way gitlab-runner
// does (gitlab-protocol.md §1 and §7): stage order, environment
// composition, JOB_RESPONSE_FILE, TMPDIR as working directory, job_env passed
// unprefixed to later stages, argv `run <script> <stage>`, exit-code
// interpretation and SIGTERM to the process group on cancel. The end-to-end
// tests and the demo use it; it is not a runner, only its protocol.
package runnersim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Custom is the [runners.custom] section of a config.toml.
type Custom struct {
	ConfigExec, PrepareExec, RunExec, CleanupExec string
	ConfigArgs, PrepareArgs, RunArgs, CleanupArgs []string
}

// LoadCustom reads the [runners.custom] keys of a config.toml. It reads the
// subset of TOML that section uses (quoted strings and arrays of quoted
// strings, one key a line); exec paths found in rewrite are replaced, so
// that a test can point /usr/local/bin/pipeline-artifacts at a fresh build.
func LoadCustom(path string, rewrite map[string]string) (Custom, error) {
	f, err := os.Open(path)
	if err != nil {
		return Custom{}, err
	}
	defer f.Close()
	var c Custom
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = line == "[runners.custom]"
			continue
		}
		if !in || line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := c.set(line, rewrite); err != nil {
			return Custom{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	if c.RunExec == "" {
		return Custom{}, fmt.Errorf("%s: [runners.custom] has no run_exec", path)
	}
	return c, sc.Err()
}

func (c *Custom) set(line string, rewrite map[string]string) error {
	key, val, ok := strings.Cut(line, "=")
	if !ok {
		return fmt.Errorf("cannot read %q", line)
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	execs := map[string]*string{"config_exec": &c.ConfigExec, "prepare_exec": &c.PrepareExec, "run_exec": &c.RunExec, "cleanup_exec": &c.CleanupExec}
	args := map[string]*[]string{"config_args": &c.ConfigArgs, "prepare_args": &c.PrepareArgs, "run_args": &c.RunArgs, "cleanup_args": &c.CleanupArgs}
	if p, ok := execs[key]; ok {
		if err := json.Unmarshal([]byte(val), p); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if r, ok := rewrite[*p]; ok {
			*p = r
		}
		return nil
	}
	if p, ok := args[key]; ok {
		if err := json.Unmarshal([]byte(val), p); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		for i, a := range *p {
			if r, ok := rewrite[a]; ok {
				(*p)[i] = r
			}
		}
	}
	return nil
}
