package executor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Names of the variables the runner sets for every stage executable.
const (
	EnvTmpDir                = "TMPDIR"
	EnvBuildFailureExitCode  = "BUILD_FAILURE_EXIT_CODE"
	EnvSystemFailureExitCode = "SYSTEM_FAILURE_EXIT_CODE"
	EnvBuildExitCodeFile     = "BUILD_EXIT_CODE_FILE"
	EnvJobResponseFile       = "JOB_RESPONSE_FILE"

	// JobVarPrefix marks a job variable: the runner passes the job's KEY as
	// CUSTOM_ENV_KEY.
	JobVarPrefix = "CUSTOM_ENV_"
)

// The runner has sent these values since the custom executor exists; they
// apply when a stage is run by hand without them.
const (
	DefaultBuildFailureExitCode  = 1
	DefaultSystemFailureExitCode = 2
)

// StageEnv is what the runner tells every stage executable through its
// environment.
type StageEnv struct {
	// TmpDir is the per-job directory the runner created; it is also the
	// stage's working directory and is deleted after cleanup.
	TmpDir string
	// BuildFailureExitCode is the stage's exit status for a failed job script.
	BuildFailureExitCode int
	// SystemFailureExitCode is the stage's exit status for a failure of ours,
	// which the runner retries.
	SystemFailureExitCode int
	// BuildExitCodeFile is where the job's real exit status goes (runner ≥17.9);
	// empty with older runners.
	BuildExitCodeFile string
	// JobResponseFile is the runner's copy of the job payload (runner ≥14.1).
	JobResponseFile string
	// JobVars holds the job's variables, keyed without the CUSTOM_ENV_ prefix.
	JobVars map[string]string
}

// LoadStageEnv parses a stage's environment, usually os.Environ(). Later
// entries win over earlier ones, as with exec. Every problem is reported in one
// joined error; even then the returned StageEnv is usable, with defaults in
// place of invalid exit codes, so the caller can still exit with a system
// failure code.
func LoadStageEnv(environ []string) (*StageEnv, error) {
	env := &StageEnv{JobVars: make(map[string]string)}
	plain := make(map[string]string)
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if name, isJobVar := strings.CutPrefix(k, JobVarPrefix); isJobVar && name != "" {
			env.JobVars[name] = v
			continue
		}
		plain[k] = v
	}
	env.TmpDir = plain[EnvTmpDir]
	env.BuildExitCodeFile = plain[EnvBuildExitCodeFile]
	env.JobResponseFile = plain[EnvJobResponseFile]
	return env, env.parseExitCodes(plain)
}

// JobVar returns the job variable key, or "" when the job has none.
func (e *StageEnv) JobVar(key string) string {
	return e.JobVars[key]
}

func (e *StageEnv) parseExitCodes(plain map[string]string) error {
	var errs []error
	var err error
	e.BuildFailureExitCode, err = exitCode(plain, EnvBuildFailureExitCode, DefaultBuildFailureExitCode)
	errs = append(errs, err)
	e.SystemFailureExitCode, err = exitCode(plain, EnvSystemFailureExitCode, DefaultSystemFailureExitCode)
	errs = append(errs, err)
	// With equal codes the runner could not tell a failed job from a failure
	// of ours, and would never retry the latter.
	if e.BuildFailureExitCode == e.SystemFailureExitCode {
		errs = append(errs, fmt.Errorf("%s and %s are both %d",
			EnvBuildFailureExitCode, EnvSystemFailureExitCode, e.BuildFailureExitCode))
	}
	return errors.Join(errs...)
}

// exitCode reads one exit-code variable; on error it returns def so the caller
// still has a code to exit with.
func exitCode(plain map[string]string, key string, def int) (int, error) {
	s := strings.TrimSpace(plain[key])
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return def, fmt.Errorf("%s=%q is not an integer", key, plain[key])
	}
	// 0 means success and codes above 255 do not survive exit(2).
	if n < 1 || n > 255 {
		return def, fmt.Errorf("%s=%d is outside 1–255", key, n)
	}
	return n, nil
}
