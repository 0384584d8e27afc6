package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nastyValues must survive sh rendering byte for byte.
var nastyValues = map[string]string{
	"URL":         testAPI + "/projects/42/jobs/7/artifacts?a=1&b=2",
	"EMPTY":       "",
	"SPACES":      "  two  spaces  ",
	"NEWLINES":    "line one\nline two\n\n",
	"CR":          "dos\r\nline",
	"SQUOTE":      "it's",
	"SQUOTES":     "''''",
	"ESCAPED":     `'\''`,
	"DQUOTE":      `say "hi"`,
	"DOLLAR":      "$HOME ${HOME} $(touch pwned) $((1+1))",
	"BACKTICK":    "`touch pwned`",
	"BACKSLASH":   `C:\temp\ \n \\`,
	"BANG":        "!! !$ !-1",
	"GLOB":        "* ? [a-z] ~",
	"SEMICOLON":   "; touch pwned; #",
	"DASH":        "-n",
	"TAB":         "a\tb",
	"UTF8":        "straße ıi ✓",
	"INVALID_UTF": "\xff\xfe\x80",
	"CONTROL":     "\x01\x07\x1b[31m\x7f",
}

func allBytes() string {
	var b []byte
	for c := 1; c < 256; c++ {
		b = append(b, byte(c))
	}
	return string(b)
}

func TestRenderShRoundTripsThroughBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	vars := maps.Clone(nastyValues)
	vars["ALL_BYTES"] = allBytes()
	var script bytes.Buffer
	if err := Render(&script, "sh", vars); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, want := range vars {
		t.Run("a value like "+name+" survives eval", func(t *testing.T) {
			cmd := exec.Command(bash, "-c", `eval "$1"; printf %s "$`+name+`"`, "bash", script.String())
			cmd.Dir = dir
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("bash: %v", err)
			}
			if string(got) != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	t.Run("sourcing it as a file works too and runs nothing", func(t *testing.T) {
		file := filepath.Join(dir, "env.sh")
		if err := os.WriteFile(file, script.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, "-euc", `. "$1"; printf %s "$SQUOTE$DOLLAR"`, "bash", file)
		cmd.Dir = dir
		got, err := cmd.Output()
		if err != nil || string(got) != vars["SQUOTE"]+vars["DOLLAR"] {
			t.Errorf("got %q, %v", got, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a value was executed: %v", err)
		}
	})
}

func TestRender(t *testing.T) {
	vars := map[string]string{"B": "it's", "A": "x", "ARTIFACT_URLS_T": "u1 u2"}
	tests := []struct {
		name, format, want string
	}{
		{"sh is the default", "", "export A='x'\nexport ARTIFACT_URLS_T='u1 u2'\nexport B='it'\\''s'\n"},
		{"sh single-quotes and escapes quotes", "sh", "export A='x'\nexport ARTIFACT_URLS_T='u1 u2'\nexport B='it'\\''s'\n"},
		{"dotenv writes values verbatim", "dotenv", "A=x\nARTIFACT_URLS_T=u1 u2\nB=it's\n"},
		{"powershell doubles single quotes", "powershell", "$env:A = 'x'\n$env:ARTIFACT_URLS_T = 'u1 u2'\n$env:B = 'it''s'\n"},
		{"json writes one sorted object", "json", "{\n  \"A\": \"x\",\n  \"ARTIFACT_URLS_T\": \"u1 u2\",\n  \"B\": \"it's\"\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Render(&b, tt.format, vars); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestRenderPowerShellEscaping(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"an ASCII quote is doubled", "it's", `$env:V = 'it''s'`},
		{"typographic single quotes are doubled too", "\u2018a\u2019 \u201ab\u201b", "$env:V = '\u2018\u2018a\u2019\u2019 \u201a\u201ab\u201b\u201b'"},
		{"dollar signs and backticks stay literal", "$env:HOME `n $(x)", "$env:V = '$env:HOME `n $(x)'"},
		{"double quotes stay as they are", `"q"`, `$env:V = '"q"'`},
		{"a newline stays inside the string", "a\nb", "$env:V = 'a\nb'"},
		{"invalid UTF-8 passes unchanged", "\xff'\xfe", "$env:V = '\xff''\xfe'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Render(&b, "powershell", map[string]string{"V": tt.value}); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(b.String(), "\n"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderJSONRoundTrips(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, "json", nastyValues); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	delete(got, "INVALID_UTF") // JSON has no way to carry invalid UTF-8
	want := maps.Clone(nastyValues)
	delete(want, "INVALID_UTF")
	if !maps.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Contains(b.String(), `\u0026`) {
		t.Errorf("& in URLs was escaped: %s", b.String())
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, format string
		vars         map[string]string
		want         string
	}{
		{"an unknown format lists the valid ones", "yaml", map[string]string{"A": "x"}, `unknown format "yaml": valid formats are sh, dotenv, json, powershell`},
		{"a name with a dash is refused", "sh", map[string]string{"A-B": "x"}, `"A-B" is not a valid variable name`},
		{"a name starting with a digit is refused", "json", map[string]string{"1A": "x"}, `"1A" is not a valid variable name`},
		{"an empty name is refused", "powershell", map[string]string{"": "x"}, `"" is not a valid variable name`},
		{"a NUL byte is refused in any format", "json", map[string]string{"A": "a\x00b"}, "value of A contains a NUL byte"},
		{"dotenv refuses a multi-line value", "dotenv", map[string]string{"A": "a\nb"}, "value of A spans lines"},
		{"dotenv refuses a carriage return", "dotenv", map[string]string{"A": "a\rb"}, "value of A spans lines"},
		{"dotenv refuses blanks at the ends", "dotenv", map[string]string{"A": " a"}, "value of A starts or ends with blanks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			err := Render(&b, tt.format, tt.vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q despite the error", b.String())
			}
		})
	}
}

func TestRenderWritesNothingWhenALaterValueFails(t *testing.T) {
	var b strings.Builder
	err := Render(&b, "dotenv", map[string]string{"A": "fine", "Z": "two\nlines"})
	if err == nil || b.Len() != 0 {
		t.Errorf("err = %v, wrote %q; want an error and no output", err, b.String())
	}
}
