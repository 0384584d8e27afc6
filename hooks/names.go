package hooks

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// emptyVarName is what a job name without any ASCII letter or digit maps to
// (e.g. "---" or "ß"). The contract's rule would give "", which would make
// ARTIFACT_URL_ a variable that names nothing. "_" extends the rule the same
// way the digit guard does, and no other name can produce it: the rule strips
// underscores at both ends, and the digit guard's "_" is followed by a digit.
const emptyVarName = "_"

// VarName returns the <N> a job name maps to, by the contract's rule:
// upper-case it, replace every run of characters outside A–Z 0–9 by one "_",
// strip "_" at both ends and prefix "_" if the result starts with a digit.
//
// Only ASCII is upper-cased. Every other byte, including each byte of a
// multi-byte UTF-8 character, is outside A–Z 0–9: Unicode case mapping would
// turn "ı" or "ſ" into ASCII letters and make the result depend on tables
// users cannot see. A name with no ASCII letter or digit maps to "_".
//
// The result is never empty and always matches [A-Z_][A-Z0-9_]*.
func VarName(jobName string) string {
	var b strings.Builder
	b.Grow(len(jobName) + 1)
	gap := false
	for i := range len(jobName) {
		c := upperASCII(jobName[i])
		if !isUpperAlnum(c) {
			gap = b.Len() > 0 // a gap before the first kept byte is stripped
			continue
		}
		if gap {
			b.WriteByte('_')
			gap = false
		}
		b.WriteByte(c)
	}
	return guardVarName(b.String())
}

// guardVarName applies the rule's last step and the empty-name extension.
func guardVarName(s string) string {
	switch {
	case s == "":
		return emptyVarName
	case isDigit(s[0]):
		return "_" + s
	}
	return s
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isUpperAlnum(c byte) bool { return 'A' <= c && c <= 'Z' || isDigit(c) }

// GroupName returns the <G> of a parallel or parallel:matrix job: VarName of
// the name before a trailing " i/N" (1 ≤ i ≤ N) or before the first ": [" of a
// name ending in "]". It returns "" for any other job.
//
// The first ": [" is taken because GitLab appends the matrix values to the
// job's key; a value may contain ": [", while a key that does is unlikely.
func GroupName(jobName string) string {
	base, ok := groupBase(jobName)
	if !ok {
		return ""
	}
	return VarName(base)
}

// groupBase returns the part of a job name its parallel or matrix group
// shares, or false if the name is not a group member's.
func groupBase(name string) (string, bool) {
	if base, ok := parallelBase(name); ok {
		return base, true
	}
	return matrixBase(name)
}

// parallelBase recognises GitLab's "name i/N" (parallel: N, and matrix jobs
// before GitLab 13.5). An index outside 1..N is a name someone typed, such as
// "release 2024/25", not a parallel member.
func parallelBase(name string) (string, bool) {
	sp := strings.LastIndexByte(name, ' ')
	if sp <= 0 {
		return "", false
	}
	index, total, ok := strings.Cut(name[sp+1:], "/")
	i, iok := smallUint(index)
	n, nok := smallUint(total)
	if !ok || !iok || !nok || i < 1 || i > n {
		return "", false
	}
	return name[:sp], true
}

// smallUint parses a run of at most 9 ASCII digits; strconv.Atoi would also
// accept signs.
func smallUint(s string) (int, bool) {
	if s == "" || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// matrixBase recognises GitLab's "name: [v1, v2]".
func matrixBase(name string) (string, bool) {
	i := strings.Index(name, ": [")
	if i <= 0 || !strings.HasSuffix(name[i+2:], "]") { // name[i+2] is the "["
		return "", false
	}
	return name[:i], true
}

// AssignVarNames maps every distinct job name to its unique <N>.
//
// Names that share a VarName are sorted bytewise; the first keeps the name,
// the others get <N>_2, <N>_3, … in that order. A generated suffix is never
// one that another job already holds by the plain rule: if "a" and "A" collide
// while a job "a 2" owns A_2, "a" gets A_3. Plain names are claimed first, then
// collision groups are handled in bytewise order of <N>, so the result depends
// only on the set of names. (Two groups cannot generate the same suffix: the
// part after the last "_" of N_k is k.)
//
// collisions lists each group of colliding names, sorted, in bytewise order
// of their shared <N>; it is nil when there is none. Duplicate input names
// count once.
func AssignVarNames(names []string) (assigned map[string]string, collisions [][]string) {
	byVar := make(map[string][]string)
	for _, name := range names {
		n := VarName(name)
		if !slices.Contains(byVar[n], name) {
			byVar[n] = append(byVar[n], name)
		}
	}
	assigned = make(map[string]string, len(names))
	taken := make(map[string]bool, len(byVar))
	for n, group := range byVar {
		slices.Sort(group)
		assigned[group[0]] = n
		taken[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(byVar)) {
		if group := byVar[n]; len(group) > 1 {
			suffixCollisions(n, group[1:], assigned, taken)
			collisions = append(collisions, group)
		}
	}
	return assigned, collisions
}

// suffixCollisions gives each of names the next free <n>_k, k ≥ 2.
func suffixCollisions(n string, names []string, assigned map[string]string, taken map[string]bool) {
	k := 2
	for _, name := range names {
		for taken[n+"_"+strconv.Itoa(k)] {
			k++
		}
		v := n + "_" + strconv.Itoa(k)
		assigned[name], taken[v] = v, true
	}
}

// CollisionWarning is the one job-log line the contract asks for when names
// share a variable suffix (job names for <N>, group base names for <G>), or
// "" when collisions is empty. Names are quoted, so the line stays one line.
func CollisionWarning(collisions [][]string) string {
	if len(collisions) == 0 {
		return ""
	}
	groups := make([]string, len(collisions))
	for i, names := range collisions {
		quoted := make([]string, len(names))
		for j, name := range names {
			quoted[j] = strconv.Quote(name)
		}
		groups[i] = strings.Join(quoted, ", ")
	}
	return "names map to the same variable suffix, so all but the first of each list (sorted bytewise) " +
		"get _2, _3, … (see $PIPELINE_ARTIFACTS_MANIFEST): " + strings.Join(groups, "; ")
}

// WriteVarNames prints VarName of each name on its own line, in input order:
// the output of the var-name subcommand. It applies no collision handling,
// since the names given need not be a whole pipeline.
func WriteVarNames(w io.Writer, names []string) error {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(VarName(name))
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write variable names: %w", err)
	}
	return nil
}

// compareJobNames orders job names as people read them: runs of ASCII digits
// compare by value, so "test 2/10" comes before "test 10/10" and
// "build: [py3.9]" before "build: [py3.10]"; other bytes compare bytewise.
// Names equal that way ("a01", "a1") fall back to bytewise order, so the
// order is total and deterministic.
func compareJobNames(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			ei, ej := digitsEnd(a, i), digitsEnd(b, j)
			if c := compareDigits(a[i:ei], b[j:ej]); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		if a[i] != b[j] {
			return cmp.Compare(a[i], b[j])
		}
		i, j = i+1, j+1
	}
	if c := cmp.Compare(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// compareDigits compares two digit runs by value without parsing them, so
// any length works.
func compareDigits(x, y string) int {
	x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
	if c := cmp.Compare(len(x), len(y)); c != 0 {
		return c
	}
	return strings.Compare(x, y)
}
