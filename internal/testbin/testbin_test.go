package testbin

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSourceKey(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := func(flags ...string) string {
		t.Helper()
		k, err := sourceKey(root, flags)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write("go.mod", "module example.com/m\n")
	write("cmd/main.go", "package main\n")
	first := key("-race")
	if key("-race") != first {
		t.Error("the same sources and flags gave two keys")
	}
	if key() == first {
		t.Error("other flags gave the same key")
	}
	write("cmd/main_test.go", "package main\n")
	write(".git/HEAD", "ref: x\n")
	write("README.md", "docs\n")
	if key("-race") != first {
		t.Error("a test file, .git or documentation changed the key of the binary")
	}
	write("cmd/main.go", "package main\n\nfunc main() {}\n")
	if key("-race") == first {
		t.Error("a changed source file kept the key")
	}
}
