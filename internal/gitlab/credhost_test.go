package gitlab

import "testing"

func TestCredentialForSendsATokenOnlyToItsGitLab(t *testing.T) {
	job := Credential{Kind: JobToken, Token: "t"}
	const api = "https://gitlab.example.com/api/v4"
	cases := []struct {
		name, api, target string
		trusted           []string
		want              bool
	}{
		{"the GitLab of CI_API_V4_URL gets it", api, "https://gitlab.example.com/api/v4/jobs/1/artifacts", nil, true},
		{"another host does not", api, "https://store.example.com/bucket/a.zip", nil, false},
		{"the same host over http does not", api, "http://gitlab.example.com/api/v4/jobs/1/artifacts", nil, false},
		{"a trusted service does", api, "https://pa.example.com/api/v4/projects/1/pipelines/2/artifacts", []string{"https://pa.example.com"}, true},
		{"without CI_API_V4_URL the URL names GitLab", "", "https://gitlab.example.com/api/v4/jobs/1/artifacts", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CredentialFor(job, tc.api, tc.target, tc.trusted...)
			if ok != tc.want || (got.Token != "") != tc.want {
				t.Errorf("CredentialFor = %v, %v; want sent %v", got.Kind, ok, tc.want)
			}
		})
	}
}
