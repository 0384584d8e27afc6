package gitlabtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

func TestGenericPackagesAndReleasePermalinksAnswerAsGitLab(t *testing.T) {
	gl := gitlabtest.NewTest(t)
	gl.AddProject(7, gitlabtest.Public())
	gl.AddProject(8) // private
	gl.AddToken("glpat-up", 7, 8)
	pkg := func(project, file string) string {
		return gl.APIURL() + "/projects/" + project + "/packages/generic/pipeline-artifacts/1.2.3/" + file
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, url, token, body string) (int, string, http.Header) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("PRIVATE-TOKEN", token)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	for _, tc := range []struct {
		name, method, url, token, body string
		status                         int
		want                           string
	}{
		{"an upload without a credential is refused", "PUT", pkg("7", "f"), "", "x", 401, "401 Unauthorized"},
		{"an upload with the project's token is created", "PUT", pkg("7", "f"), "glpat-up", "bytes", 201, "201 Created"},
		{"a public project's file downloads anonymously", "GET", pkg("7", "f"), "", "", 200, "bytes"},
		{"a missing file is 404 Package Not Found", "GET", pkg("7", "nope"), "", "", 404, "404 Package Not Found"},
		{"a private project is not found anonymously", "GET", pkg("8", "f"), "", "", 404, "404 Project Not Found"},
		{"an unknown token is 401 even on a public project", "GET", pkg("7", "f"), "glpat-wrong", "", 401, "401 Unauthorized"},
		{"a file name outside GitLab's format is 400", "PUT", pkg("7", "a%20b"), "glpat-up", "x", 400, "400 Bad request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := do(tc.method, tc.url, tc.token, tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.url, status, body, tc.status, tc.want)
			}
		})
	}
	t.Run("a release permalink redirects to its link's URL", func(t *testing.T) {
		gl.AddReleaseLink(7, "group/tool", "1.2.3", "/f", pkg("7", "f"))
		status, _, h := do("GET", gl.URL+"/group/tool/-/releases/1.2.3/downloads/f", "", "")
		if status != http.StatusFound || h.Get("Location") != pkg("7", "f") {
			t.Errorf("permalink: %d Location %q", status, h.Get("Location"))
		}
		if status, _, _ := do("GET", gl.URL+"/group/tool/-/releases/1.2.3/downloads/other", "", ""); status != http.StatusNotFound {
			t.Errorf("an unknown asset: %d, want 404", status)
		}
		gl.AddReleaseLink(8, "group/private", "1.2.3", "/f", pkg("8", "f"))
		if status, _, h := do("GET", gl.URL+"/group/private/-/releases/1.2.3/downloads/f", "", ""); status != http.StatusFound || h.Get("Location") != gl.URL+"/users/sign_in" {
			t.Errorf("a private project's permalink, anonymously: %d Location %q, want the sign-in page", status, h.Get("Location"))
		}
	})
}
