package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSeedStory keeps examples/ working: config.toml registers the real
// binary, .gitlab-ci.yml's jobs run through it, deploy.sh and
// remote-deploy.sh fetch build's artifact while the pipeline runs.
func TestSeedStory(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, "."); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"build's artifacts are at http://127.0.0.1:",
		"the web server now serves: <h1>Built by job 1000 of pipeline 100</h1>",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
