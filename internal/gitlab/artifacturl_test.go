package gitlab

import (
	"net/url"
	"strings"
	"testing"
)

func TestArtifactURLsRoundTrip(t *testing.T) {
	const api = "https://gitlab.example.com/gitlab/api/v4"
	cases := []struct {
		name string
		ref  ArtifactRef
		want string
	}{
		{"the runner route", ArtifactRef{API: api, JobID: 12}, api + "/jobs/12/artifacts"},
		{"the public route escapes a project path", ArtifactRef{API: api, ProjectID: "group/sub project", JobID: 12},
			api + "/projects/group%2Fsub%20project/jobs/12/artifacts"},
		{"a file path is escaped segment by segment", ArtifactRef{API: api, ProjectID: "42", JobID: 12, Path: "dist/a b?#.txt"},
			api + "/projects/42/jobs/12/artifacts/dist/a%20b%3F%23.txt"},
		{"a query stays after the file path", ArtifactRef{API: api, ProjectID: "42", JobID: 12, Path: "dist/app.txt", Query: url.Values{"x": {"y"}}},
			api + "/projects/42/jobs/12/artifacts/dist/app.txt?x=y"},
		{"the runner route keeps its query", ArtifactRef{API: api, JobID: 12, Query: url.Values{"direct_download": {"true"}}},
			api + "/jobs/12/artifacts?direct_download=true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ref.String(); got != tc.want {
				t.Fatalf("String() = %s, want %s", got, tc.want)
			}
			back, err := ParseArtifactURL(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if back.String() != tc.want || back.ProjectID != tc.ref.ProjectID || back.Path != tc.ref.Path || back.JobID != 12 || back.API != api {
				t.Errorf("ParseArtifactURL(%s) = %+v", tc.want, back)
			}
		})
	}
}

func TestWithPathGoesIntoThePathNotTheQuery(t *testing.T) {
	ref, err := ParseArtifactURL("http://gl:8080/api/v4/projects/7/jobs/3/artifacts?x=y")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ref.WithPath("/public/index.html").String(), "http://gl:8080/api/v4/projects/7/jobs/3/artifacts/public/index.html?x=y"; got != want {
		t.Errorf("WithPath = %s, want %s", got, want)
	}
	if ref.Path != "" || ref.Query.Get("x") != "y" {
		t.Errorf("WithPath changed its receiver: %+v", ref)
	}
}

func TestConstructorsAgreeWithTheRef(t *testing.T) {
	if got := RunnerArtifactsURL("http://gl/api/v4/", 9); got != "http://gl/api/v4/jobs/9/artifacts" {
		t.Errorf("RunnerArtifactsURL = %s", got)
	}
	if got := PublicArtifactsURL("http://gl/api/v4", "a/b", 9); got != "http://gl/api/v4/projects/a%2Fb/jobs/9/artifacts" {
		t.Errorf("PublicArtifactsURL = %s", got)
	}
}

func TestParseArtifactURLRefusesOtherURLs(t *testing.T) {
	for _, raw := range []string{
		"ftp://gl/api/v4/jobs/1/artifacts",
		"http://gl/jobs/1/artifacts",
		"http://gl/api/v4/jobs/x/artifacts",
		"http://gl/api/v4/jobs/0/artifacts",
		"http://gl/api/v4/projects/7/jobs/1/trace",
		"http://gl/api/v4/jobs/1/artifacts/one/file",
		"http://user:secret-password@gl/api/v4/jobs/1/artifacts",
		"http://gl/api/v4/projects//jobs/1/artifacts",
	} {
		if ref, err := ParseArtifactURL(raw); err == nil {
			t.Errorf("ParseArtifactURL(%q) = %+v, want an error", raw, ref)
		} else if strings.Contains(err.Error(), "secret-password") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
