package hooks

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// DefaultFormat is the format Render uses for "".
const DefaultFormat = "sh"

// lineFormat renders one variable as one line (without the newline) in
// format, nil for a format that is not line by line. A switch, not a map
// built at every process's start.
func lineFormat(format string) func(name, value string) (string, error) {
	switch format {
	case "sh":
		return shLine
	case "dotenv":
		return dotenvLine
	case "powershell":
		return powershellLine
	}
	return nil
}

// Formats lists the formats Render accepts, the default first.
func Formats() []string {
	return []string{"sh", "dotenv", "json", "powershell"}
}

// Render writes vars in a format, sorted by name:
//
//   - sh: export NAME='value', for bash and any POSIX shell to eval or source.
//     Any value survives, newlines, quotes, $ and backticks included.
//   - dotenv: NAME=value, verbatim. GitLab's dotenv report and docker's
//     --env-file take the rest of the line literally (GitLab strips blanks at
//     both ends and keeps quotes), so quoting would put quote characters into
//     the value. A value with a line break or blanks at either end cannot
//     survive that and is an error.
//   - json: one object of name → value.
//   - powershell: $env:NAME = 'value'.
//
// Every name must match [A-Za-z_][A-Za-z0-9_]* and no value may contain a
// NUL byte, which no environment can hold. Nothing is written on error.
func Render(w io.Writer, format string, vars map[string]string) error {
	format = cmp.Or(format, DefaultFormat)
	if !slices.Contains(Formats(), format) {
		return fmt.Errorf("unknown format %q: valid formats are %s", format, strings.Join(Formats(), ", "))
	}
	if err := checkVars(vars); err != nil {
		return err
	}
	out, err := render(format, vars)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, out)
	return err
}

// render builds the whole output first, so that an error leaves w untouched.
func render(format string, vars map[string]string) (string, error) {
	if format == "json" {
		return renderJSON(vars)
	}
	return renderLines(vars, lineFormat(format))
}

func checkVars(vars map[string]string) error {
	for name, value := range vars {
		if !validVarName(name) {
			return fmt.Errorf("render variables: %q is not a valid variable name", name)
		}
		if strings.IndexByte(value, 0) >= 0 {
			return fmt.Errorf("render variables: value of %s contains a NUL byte", name)
		}
	}
	return nil
}

// validVarName reports whether s is a name every shell can export.
func validVarName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := range len(s) {
		if c := upperASCII(s[i]); !isUpperAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

func renderLines(vars map[string]string, line func(name, value string) (string, error)) (string, error) {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		l, err := line(name, vars[name])
		if err != nil {
			return "", err
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// shLine single-quotes the value: inside '…' a shell interprets nothing, so
// only a quote itself needs care: close the quoting, add \', reopen.
func shLine(name, value string) (string, error) {
	return "export " + name + "='" + strings.ReplaceAll(value, "'", `'\''`) + "'", nil
}

// dotenvLine writes the value verbatim; see Render for why it is not quoted.
func dotenvLine(name, value string) (string, error) {
	if strings.ContainsAny(value, "\n\r") {
		return "", fmt.Errorf("render dotenv: value of %s spans lines, which dotenv cannot hold", name)
	}
	if strings.TrimSpace(value) != value {
		return "", fmt.Errorf("render dotenv: value of %s starts or ends with blanks, which dotenv readers strip", name)
	}
	return name + "=" + value, nil
}

// psQuotes are the characters PowerShell accepts as a single quote; each is
// escaped by doubling it, like '.
const psQuotes = "'\u2018\u2019\u201a\u201b"

// powershellLine single-quotes the value, in which PowerShell expands nothing
// and a line break is literal.
func powershellLine(name, value string) (string, error) {
	var b strings.Builder
	b.WriteString("$env:" + name + " = '")
	for i := 0; i < len(value); {
		// Copy bytes, not decoded runes: invalid UTF-8 must pass unchanged.
		r, size := utf8.DecodeRuneInString(value[i:])
		if strings.ContainsRune(psQuotes, r) {
			b.WriteString(value[i : i+size])
		}
		b.WriteString(value[i : i+size])
		i += size
	}
	b.WriteString("'")
	return b.String(), nil
}

func renderJSON(vars map[string]string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep & in URLs readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(vars); err != nil { // sorts the keys
		return "", fmt.Errorf("render json: %w", err)
	}
	return b.String(), nil
}
