package hooks

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzAssignVarNames: whatever the names, every sibling gets a valid shell
// name of its own, and the same set of names always gives the same result.
func FuzzAssignVarNames(f *testing.F) {
	f.Add("build\x00BUILD\x00build 1/2\x00build_1_2\x00a\x00A\x00a 2")
	f.Add("\x00---\x00ß\x00_")
	f.Add("test 1/3\x00test 2/3\x00test 3/3\x00TEST_2")
	f.Fuzz(func(t *testing.T, joined string) {
		names := uniq(strings.Split(joined, "\x00"))
		got, _ := AssignVarNames(names)
		seen := map[string]string{}
		for _, n := range names {
			v := got[n]
			if !shellName.MatchString(v) {
				t.Fatalf("%q → %q is not a shell name", n, v)
			}
			if other, dup := seen[v]; dup {
				t.Fatalf("%q and %q both got %q", other, n, v)
			}
			seen[v] = n
		}
		reversed := append([]string(nil), names...)
		for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
			reversed[i], reversed[j] = reversed[j], reversed[i]
		}
		again, _ := AssignVarNames(reversed)
		for _, n := range names {
			if again[n] != got[n] {
				t.Fatalf("%q got %q, then %q with the names in another order", n, got[n], again[n])
			}
		}
	})
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// FuzzPayloadAndManifest: decoding arbitrary bytes never panics, and a
// payload's tokens never survive into what we keep or write.
func FuzzPayloadAndManifest(f *testing.F) {
	f.Add([]byte(payloadJSON))
	f.Add([]byte(`{"id":1,"git_info":{"repo_url":"https://gitlab-ci-token:tok-SECRET-1@gl.example/p.git"},"dependencies":[{"id":2,"name":"b","token":"tok-SECRET-1"}]}`))
	f.Add([]byte(`{"version":1,"siblings":[{"name":"x","var":"X","id":3,"url":"u","artifact":{"size":-1}}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.json")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if p, err := ReadPayload(in); err == nil {
			for _, secret := range payloadTokens(data) {
				if kept, _ := json.Marshal(p); bytes.Contains(kept, []byte(secret)) {
					t.Fatalf("token %q survived decoding: %s", secret, kept)
				}
			}
			sibs, _ := BuildSiblings(p.DependencyJobs(), p.ID, "https://gl/api/v4", "1")
			if err := WriteManifest(filepath.Join(dir, "m.json"), Manifest{Siblings: sibs}); err != nil {
				t.Fatal(err)
			}
		}
		if m, err := ReadManifest(in); err == nil {
			if err := WriteManifest(filepath.Join(dir, "again.json"), *m); err != nil {
				t.Fatalf("a manifest we read could not be written back: %v", err)
			}
		}
	})
}

// payloadTokens finds the values of "token" keys and repo_url passwords.
func payloadTokens(data []byte) []string {
	var v struct {
		Token   string `json:"token"`
		GitInfo struct {
			RepoURL string `json:"repo_url"`
		} `json:"git_info"`
		Dependencies []struct {
			Token string `json:"token"`
		} `json:"dependencies"`
	}
	_ = json.Unmarshal(data, &v)
	var out []string
	for _, s := range append([]string{v.Token}, depTokens(v.Dependencies)...) {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	return out
}

func depTokens(deps []struct {
	Token string `json:"token"`
}) []string {
	var out []string
	for _, d := range deps {
		out = append(out, d.Token)
	}
	return out
}

// FuzzRenderShRoundTrip: every value survives `eval "$(env)"` in a real
// bash unchanged, whatever bytes it holds, or Render refuses it.
func FuzzRenderShRoundTrip(f *testing.F) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		f.Skip("no bash")
	}
	for _, s := range []string{"plain", "it's", `$(touch pwned)`, "`id`", "a\nb", "\\", "'\"'", "\t\r\x7f\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		var script bytes.Buffer
		if err := Render(&script, "sh", map[string]string{"ARTIFACT_URL_X": value}); err != nil {
			if !strings.ContainsRune(value, 0) {
				t.Fatalf("Render refused %q: %v", value, err)
			}
			return
		}
		dir := t.TempDir()
		cmd := exec.Command(bash, "-c", `eval "$1"; printf %s "$ARTIFACT_URL_X"`, "bash", script.String())
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bash: %v", err)
		}
		if string(out) != value {
			t.Fatalf("value %q came back as %q", value, out)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("evaluating %q ran something: %v", value, entries)
		}
	})
}
