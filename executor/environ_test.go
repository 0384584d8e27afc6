package executor_test

import (
	"slices"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
)

func TestJobEnvironment(t *testing.T) {
	dropSecrets := func(key string) bool { return strings.HasPrefix(key, "PIPELINE_ARTIFACTS_") }
	tests := []struct {
		name    string
		environ []string
		add     map[string]string
		drop    func(string) bool
		want    []string
	}{
		{
			name:    "Dropped keys disappear and the rest keeps its order",
			environ: []string{"PATH=/bin", "PIPELINE_ARTIFACTS_API_TOKEN_FILE=/etc/token", "HOME=/root"},
			drop:    dropSecrets,
			want:    []string{"PATH=/bin", "HOME=/root"},
		},
		{
			name:    "Added variables are appended sorted and override inherited ones",
			environ: []string{"ARTIFACT_URL_BUILD=stale", "PATH=/bin"},
			add:     map[string]string{"ARTIFACT_URL_TEST": "t", "ARTIFACT_URL_BUILD": "b"},
			want:    []string{"PATH=/bin", "ARTIFACT_URL_BUILD=b", "ARTIFACT_URL_TEST=t"},
		},
		{
			name:    "A nil drop keeps everything, malformed entries included",
			environ: []string{"PATH=/bin", "malformed", "EMPTY="},
			want:    []string{"PATH=/bin", "malformed", "EMPTY="},
		},
		{
			name:    "Added variables survive a drop that matches them",
			environ: []string{"PIPELINE_ARTIFACTS_MANIFEST=old"},
			add:     map[string]string{"PIPELINE_ARTIFACTS_MANIFEST": "/tmp/manifest.json"},
			drop:    dropSecrets,
			want:    []string{"PIPELINE_ARTIFACTS_MANIFEST=/tmp/manifest.json"},
		},
		{
			name: "Nothing in gives nothing out",
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := executor.JobEnvironment(tt.environ, tt.add, tt.drop)
			if !slices.Equal(got, tt.want) {
				t.Errorf("JobEnvironment() = %q, want %q", got, tt.want)
			}
		})
	}
}
