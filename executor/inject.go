package executor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// InjectVariables writes a copy of the stage script at src to dst with vars
// set at its top. An inner driver that runs the job in a VM or container
// passes no environment along (job_env is not part of the generated script:
// docs/gitlab.md, "Environment of a stage"), so the variables must travel
// inside the script.
// PowerShell scripts (.ps1) get $env: assignments, everything else bash
// exports after the shebang line. When manifest is not nil, the script
// recreates it in its own temporary directory and points manifestVar there,
// because our manifest path does not exist where the inner driver runs.
func InjectVariables(src, dst string, vars map[string]string, manifestVar string, manifest []byte) error {
	script, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading stage script: %w", err)
	}
	var prelude string
	if strings.EqualFold(filepath.Ext(src), ".ps1") {
		prelude = powershellPrelude(vars, manifestVar, manifest)
	} else {
		prelude = bashPrelude(vars, manifestVar, manifest)
	}
	return os.WriteFile(dst, insertAfterShebang(script, prelude), 0o700)
}

func insertAfterShebang(script []byte, prelude string) []byte {
	var out bytes.Buffer
	if bytes.HasPrefix(script, []byte("#!")) {
		line, rest, _ := bytes.Cut(script, []byte("\n"))
		out.Write(line)
		out.WriteByte('\n')
		script = rest
	}
	out.WriteString(prelude)
	out.Write(script)
	return out.Bytes()
}

func bashPrelude(vars map[string]string, manifestVar string, manifest []byte) string {
	var b strings.Builder
	for _, k := range sortedKeys(vars) {
		if k != manifestVar || manifest == nil {
			fmt.Fprintf(&b, "export %s=%s\n", k, bashQuote(vars[k]))
		}
	}
	if manifest != nil {
		fmt.Fprintf(&b, "export %s=\"$(mktemp)\"\nprintf '%%s' %s > \"$%s\"\n", manifestVar, bashQuote(string(manifest)), manifestVar)
	}
	return b.String()
}

func powershellPrelude(vars map[string]string, manifestVar string, manifest []byte) string {
	var b strings.Builder
	for _, k := range sortedKeys(vars) {
		if k != manifestVar || manifest == nil {
			fmt.Fprintf(&b, "$env:%s = %s\n", k, psQuote(vars[k]))
		}
	}
	if manifest != nil {
		fmt.Fprintf(&b, "$env:%s = [System.IO.Path]::GetTempFileName()\n", manifestVar)
		fmt.Fprintf(&b, "[System.IO.File]::WriteAllText($env:%s, %s)\n", manifestVar, psQuote(string(manifest)))
	}
	return b.String()
}

// bashQuote single-quotes s; inside single quotes only ' itself needs care.
func bashQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psQuote single-quotes s for PowerShell, which doubles a quote to escape
// it and also takes the typographic single quotes as quotes.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
