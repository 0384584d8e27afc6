package executor_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
)

func TestWriteConfig(t *testing.T) {
	shared := true
	notShared := false
	tests := []struct {
		name string
		in   executor.ConfigOutput
		want string
	}{
		{
			name: "Every field uses the runner's key",
			in: executor.ConfigOutput{
				BuildsDir:         "/builds",
				CacheDir:          "/cache",
				BuildsDirIsShared: &shared,
				Hostname:          "runner-1",
				Driver:            executor.DriverInfo{Name: "pipeline-artifacts", Version: "v1.2.3"},
				JobEnv:            map[string]string{"B": "2", "A": "1"},
				Shell:             "bash",
			},
			want: `{"builds_dir":"/builds","cache_dir":"/cache","builds_dir_is_shared":true,"hostname":"runner-1",` +
				`"driver":{"name":"pipeline-artifacts","version":"v1.2.3"},"job_env":{"A":"1","B":"2"},"shell":"bash"}` + "\n",
		},
		{
			name: "An empty output keeps every config.toml value",
			want: "{}\n",
		},
		{
			name: "A false builds_dir_is_shared is still written",
			in:   executor.ConfigOutput{BuildsDirIsShared: &notShared},
			want: `{"builds_dir_is_shared":false}` + "\n",
		},
		{
			name: "URLs in job_env are not HTML-escaped",
			in: executor.ConfigOutput{JobEnv: map[string]string{
				"ARTIFACT_URL_BUILD": "https://gitlab.example.com/api/v4/projects/1/jobs/2/artifacts?a=1&b=2",
			}},
			want: `{"job_env":{"ARTIFACT_URL_BUILD":"https://gitlab.example.com/api/v4/projects/1/jobs/2/artifacts?a=1&b=2"}}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := executor.WriteConfig(&buf, tt.in); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("WriteConfig() wrote\n%s\nwant\n%s", buf.String(), tt.want)
			}
			if !json.Valid(buf.Bytes()) {
				t.Errorf("output is not valid JSON: %s", buf.String())
			}
		})
	}
}
