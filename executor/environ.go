package executor

import (
	"maps"
	"slices"
	"strings"
)

// JobEnvironment composes the environment of a job script from environ (our
// own, usually os.Environ()): entries whose key drop reports true are left
// out, so secrets of ours such as PIPELINE_ARTIFACTS_API_TOKEN_FILE never
// reach the job, and add is appended sorted by key, replacing same-named
// entries. A nil drop keeps everything. The result's order is deterministic
// and free of duplicate add keys, so the job sees exactly one value for each.
func JobEnvironment(environ []string, add map[string]string, drop func(key string) bool) []string {
	env := make([]string, 0, len(environ)+len(add))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, overridden := add[k]; overridden || (drop != nil && drop(k)) {
			continue
		}
		env = append(env, kv)
	}
	for _, k := range slices.Sorted(maps.Keys(add)) {
		env = append(env, k+"="+add[k])
	}
	return env
}
