// Package release keeps the CI/CD component's pinned SHA-256 digests equal to
// a release's SHA256SUMS: the component verifies every binary it downloads
// against the digest pinned in its own text, never against a file fetched
// beside the binary.
package release

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts"
)

// Template is the component, relative to the repository root.
const Template = "templates/siblings/template.yml"

const (
	beginMarker = "# pins: begin"
	endMarker   = "# pins: end"
	binaryStem  = "pipeline-artifacts-"
)

// Sums maps a platform ("linux-amd64") to the SHA-256 of its binary.
type Sums map[string]string

// ParseSums reads a SHA256SUMS file (sha256sum's format: digest, two spaces
// or " *", file name) and keeps the pipeline-artifacts binaries.
func ParseSums(r io.Reader) (Sums, error) {
	sums := Sums{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		digest, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		if !ok || !artifacts.IsSHA256Hex(digest) {
			return nil, fmt.Errorf("SHA256SUMS line %d is not \"<sha256>  <file>\"", n)
		}
		platform, ok := platformOf(name)
		if !ok {
			continue
		}
		sums[platform] = strings.ToLower(digest) // sha256sum's case, which the component compares with
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("SHA256SUMS lists no %s<os>-<arch> binary", binaryStem)
	}
	return sums, nil
}

func platformOf(name string) (string, bool) {
	p, ok := strings.CutPrefix(name, binaryStem)
	p = strings.TrimSuffix(p, ".exe")
	return p, ok && strings.Count(p, "-") == 1 && !strings.ContainsAny(p, "/ ")
}

// pinLine is one pin in the template's case statement.
var pinLine = regexp.MustCompile(`^(\s*)([0-9A-Za-z.+-]+)/([a-z0-9]+-[a-z0-9]+)\) pa_want=([0-9a-f]{64}) ;;$`)

// versionDefault is the version input's default line.
var versionDefault = regexp.MustCompile(`(?m)^(    version:\n(?:      .*\n)*?      default: )"[^"]*"$`)

// releaseTag is the version input's regex in the template: the catalog's semver.
var releaseTag = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$`)

// Pins returns the template's pins: version → platform → digest.
func Pins(template []byte) (map[string]Sums, error) {
	_, block, _, err := split(template)
	if err != nil {
		return nil, err
	}
	pins := map[string]Sums{}
	for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		if line == "" {
			continue
		}
		m := pinLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s: not a pin line: %q", Template, strings.TrimSpace(line))
		}
		if pins[m[2]] == nil {
			pins[m[2]] = Sums{}
		}
		pins[m[2]][m[3]] = m[4]
	}
	return pins, nil
}

// split cuts the template into what comes before the pins (through the
// begin marker's line), the pin lines, and the rest (from the end marker).
func split(template []byte) (head, block, tail string, err error) {
	s := string(template)
	b := strings.Index(s, beginMarker)
	e := strings.Index(s, endMarker)
	if b < 0 || e < b {
		return "", "", "", fmt.Errorf("%s: no %q … %q block", Template, beginMarker, endMarker)
	}
	b += strings.IndexByte(s[b:], '\n') + 1
	e = strings.LastIndexByte(s[:e], '\n') + 1
	return s[:b], s[b:e], s[e:], nil
}

// Pin writes version's digests into the template (replacing that version's
// pins, keeping the others) and makes version the input's default.
func Pin(template []byte, version string, sums Sums) ([]byte, error) {
	if !releaseTag.MatchString(version) {
		return nil, fmt.Errorf("version %q is not a release tag such as 1.2.3 (no leading v)", version)
	}
	pins, err := Pins(template)
	if err != nil {
		return nil, err
	}
	pins[version] = sums
	head, _, tail, _ := split(template)
	indent := head[strings.LastIndexByte(strings.TrimRight(head, "\n"), '\n')+1:]
	indent = indent[:len(indent)-len(strings.TrimLeft(indent, " "))]
	var block bytes.Buffer
	for _, v := range sortedKeys(pins) {
		for _, p := range sortedKeys(pins[v]) {
			fmt.Fprintf(&block, "%s%s/%s) pa_want=%s ;;\n", indent, v, p, pins[v][p])
		}
	}
	out := head + block.String() + tail
	if !versionDefault.MatchString(out) {
		return nil, fmt.Errorf("%s: no default for the version input", Template)
	}
	out = versionDefault.ReplaceAllString(out, `${1}"`+version+`"`)
	return []byte(out), nil
}

// Check lists every disagreement between the template's pins for version
// and sums, one line each; none means they agree.
func Check(template []byte, version string, sums Sums) ([]string, error) {
	pins, err := Pins(template)
	if err != nil {
		return nil, err
	}
	var bad []string
	have := pins[version]
	for _, p := range sortedKeys(sums) {
		switch got := have[p]; {
		case got == "":
			bad = append(bad, fmt.Sprintf("%s: %s is not pinned (SHA256SUMS has %s)", version, p, sums[p]))
		case got != sums[p]:
			bad = append(bad, fmt.Sprintf("%s: %s is pinned to %s but SHA256SUMS has %s", version, p, got, sums[p]))
		}
	}
	for _, p := range sortedKeys(have) {
		if sums[p] == "" {
			bad = append(bad, fmt.Sprintf("%s: %s is pinned but not in SHA256SUMS", version, p))
		}
	}
	return bad, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
