package executor_test

import (
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/executor"
)

func TestPinnedHost(t *testing.T) {
	tests := []struct {
		name, apiURL, host string
		ok                 bool
	}{
		{"the runner's own GitLab passes", "https://gitlab.example.com/api/v4", "gitlab.example.com", true},
		{"a port is part of the host", "http://127.0.0.1:8080/api/v4", "127.0.0.1:8080", true},
		{"a payload without a host pins nothing", "https://anywhere.example/api/v4", "", true},
		{"a pipeline pointing CI_API_V4_URL elsewhere is refused", "https://evil.example/api/v4", "gitlab.example.com", false},
		{"a look-alike subdomain is refused", "https://gitlab.example.com.evil.example/api/v4", "gitlab.example.com", false},
		{"another port on the same host is refused", "http://127.0.0.1:9999/api/v4", "127.0.0.1:8080", false},
		{"an unparsable URL is refused", "http://[::1", "gitlab.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := executor.PinnedHost(tt.apiURL, tt.host); (err == nil) != tt.ok {
				t.Errorf("PinnedHost(%q, %q) = %v, want ok=%v", tt.apiURL, tt.host, err, tt.ok)
			}
		})
	}
}
