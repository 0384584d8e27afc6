package serve_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The fleet examples name settings by their environment variables and
// flags; a rename must not leave them behind.
func TestFleetExamplesUseSettingsServeKnows(t *testing.T) {
	help, err := exec.Command(binary, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, help)
	}
	for _, file := range []string{
		"../../examples/fleet/kubernetes/deployment.yaml",
		"../../examples/fleet/pipeline-artifacts.service",
		"../../examples/fleet/README.md",
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range regexp.MustCompile(`PIPELINE_ARTIFACTS_[A-Z_]+`).FindAllString(string(data), -1) {
			if !strings.Contains(string(help), "$"+name) && !clientSetting[name] {
				t.Errorf("%s names %s, which serve does not read", file, name)
			}
		}
		for _, flag := range regexp.MustCompile(`serve --[a-z-]+(?: [^ \\\n]+)?(?: --[a-z-]+)*`).FindAllString(string(data), -1) {
			for _, f := range regexp.MustCompile(`--[a-z-]+`).FindAllString(flag, -1) {
				if !strings.Contains(string(help), f+" ") && !strings.Contains(string(help), f+"=") && f != "--help" {
					t.Errorf("%s passes %s, which serve does not take", file, f)
				}
			}
		}
	}
}

// clientSetting are variables the job side reads, not the service.
var clientSetting = map[string]bool{
	"PIPELINE_ARTIFACTS_SERVER": true, "PIPELINE_ARTIFACTS_MANIFEST": true, "PIPELINE_ARTIFACTS_PARENT_PIPELINE_ID": true,
}

func TestKubernetesManifestsParse(t *testing.T) {
	for _, f := range []string{"deployment.yaml", "service.yaml", "secret.yaml"} {
		data, err := os.ReadFile("../../examples/fleet/kubernetes/" + f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil || doc.Kind == "" || doc.APIVersion == "" {
			t.Errorf("%s: %v (kind %q)", f, err, doc.Kind)
		}
	}
}
