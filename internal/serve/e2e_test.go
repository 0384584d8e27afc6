package serve_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

func TestEnvGivesTheCallerItsSiblingsAndChildren(t *testing.T) {
	for _, c := range familySetups {
		t.Run(c.name, func(t *testing.T) {
			s, svc := c.start(t)
			code, body := get(t, svc.URL+"/v1/env", deployToken)
			if code != http.StatusOK {
				t.Fatalf("GET /v1/env: %d %s", code, body)
			}
			for _, want := range []string{
				// ARTIFACT_URL_<N> is the runner route: it takes the job token on every tier.
				fmt.Sprintf("export ARTIFACT_URL_BUILD='%s/jobs/%d/artifacts'", s.gl.APIURL(), s.build.ID),
				"export ARTIFACT_URLS_TEST='", "export ARTIFACT_URL_TRIGGER_DOCS__DOCS=",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("no %q in:\n%s", want, body)
				}
			}
			if strings.Contains(body, "DEPLOY") || strings.Contains(body, "PIPELINE_ARTIFACTS_MANIFEST") {
				t.Errorf("the caller itself or a manifest path in:\n%s", body)
			}
		})
	}
}

func TestEnvBefore19_2WithoutAnAdminTokenGivesSiblingsButNoChildren(t *testing.T) {
	for _, p := range []gitlabtest.Profile{ce18_9, eeFree180, eePrem189} {
		t.Run(p.String(), func(t *testing.T) {
			s, svc := setup{profile: p}.start(t)
			code, body := get(t, svc.URL+"/v1/env", deployToken)
			if code != http.StatusOK || !strings.Contains(body, "export ARTIFACT_URL_BUILD=") {
				t.Fatalf("GET /v1/env: %d %s", code, body)
			}
			if strings.Contains(body, "TRIGGER_DOCS") {
				t.Errorf("children without a token that may list bridges:\n%s", body)
			}
			if n := s.gl.Count(gitlabtest.RouteBridges); n == 0 {
				t.Errorf("the service did not try the job token on /bridges")
			}
		})
	}
}

func TestHookByCurlExportsTheVariablesIntoTheShell(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine")
	}
	s := newSeed(t)
	svc := startService(t, s.gl.URL)
	hook := `eval "$(curl -fsS -H "JOB-TOKEN: $CI_JOB_TOKEN" "$SERVER/v1/env")"; echo "build=$ARTIFACT_URL_BUILD"`
	out := shell(t, hook, "CI_JOB_TOKEN="+deployToken, "SERVER="+svc.URL)
	if want := fmt.Sprintf("build=%s/jobs/%d/artifacts", s.gl.APIURL(), s.build.ID); !strings.Contains(out, want) {
		t.Errorf("hook printed %q, want %q", out, want)
	}
}

func TestHookByCurlLeavesNothingToEvalWhenRefused(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on this machine")
	}
	s := newSeed(t)
	svc := startService(t, s.gl.URL)
	for name, server := range map[string]string{
		"a forged token":         svc.URL,
		"a service that is down": "http://127.0.0.1:1",
	} {
		t.Run(name, func(t *testing.T) {
			hook := `eval "$(curl -fsS -H "JOB-TOKEN: $CI_JOB_TOKEN" "$SERVER/v1/env" 2>/dev/null)"; echo "status=$? build=$ARTIFACT_URL_BUILD"`
			out := shell(t, hook, "CI_JOB_TOKEN=glcbt-FORGED-0000000", "SERVER="+server)
			if strings.TrimSpace(out) != "status=0 build=" {
				t.Errorf("hook printed %q", out)
			}
		})
	}
}

func shell(t *testing.T, script string, env ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "sh", "-c", script)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	return string(out)
}

func TestRefusalsSayNothingAboutOtherPipelines(t *testing.T) {
	s := newSeed(t)
	s.gl.AddPipeline(project, 9001)
	s.gl.AddJob(project, 9001, gitlabtest.JobSpec{Name: "build", Artifact: s.zip})
	s.gl.AddJob(project, pipelineID, gitlabtest.JobSpec{Name: "finished", Status: "success", Token: "glcbt-JOBTOKEN-finished-01"})
	svc := startService(t, s.gl.URL)
	seedURL := func(pid int) string {
		return fmt.Sprintf("%s/api/v4/projects/42/pipelines/%d/artifacts?job=build", svc.URL, pid)
	}
	cases := []struct {
		name, url, token string
		want             int
	}{
		{"no token is 401", svc.URL + "/v1/env", "", 401},
		{"a forged token is 401", svc.URL + "/v1/env", "glcbt-FORGED-0000000", 401},
		{"a finished job's token is 401", svc.URL + "/v1/env", "glcbt-JOBTOKEN-finished-01", 401},
		{"a forged token on the seed endpoint is 401", seedURL(pipelineID), "glcbt-FORGED-0000000", 401},
		{"another pipeline of the project is 404", seedURL(9001), deployToken, 404},
		{"a pipeline that does not exist is 404 too", seedURL(123456), deployToken, 404},
		{"a job name the pipeline lacks is 404", svc.URL + "/api/v4/projects/42/pipelines/7001/artifacts?job=nope", deployToken, 404},
		{"an unknown format is 400", svc.URL + "/v1/env?format=yaml", deployToken, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, c.url, c.token)
			if code != c.want {
				t.Errorf("%d %s, want %d", code, body, c.want)
			}
			if strings.Contains(body, "export ") {
				t.Errorf("an error body holds exports: %s", body)
			}
		})
	}
	_, other := get(t, seedURL(9001), deployToken)
	_, missing := get(t, seedURL(123456), deployToken)
	if other != missing {
		t.Errorf("an existing pipeline answers %q, a missing one %q: the difference tells", other, missing)
	}
}

func TestSeedEndpointServesArchivesOfTheFamily(t *testing.T) {
	for _, c := range familySetups {
		t.Run(c.name, func(t *testing.T) {
			s, svc := c.start(t)
			cases := []struct {
				name, path, token, want string
			}{
				{"own pipeline's archive", "pipelines/7001/artifacts?job=build", deployToken, string(s.zip)},
				{"a child pipeline's archive", "pipelines/7002/artifacts?job=docs", deployToken, string(s.zip)},
				{"the parent's archive, asked from the child", "pipelines/7001/artifacts?job=build", s.childToken, string(s.zip)},
			}
			// One file is read by ranges from the runner route, which takes
			// a job token on every tier.
			cases = append(cases, struct{ name, path, token, want string }{
				"one file of it", "pipelines/7001/artifacts/public/index.html?job=build", deployToken, "<h1>hello</h1>"})
			for _, k := range cases {
				code, body := get(t, svc.URL+"/api/v4/projects/42/"+k.path, k.token)
				if code != http.StatusOK || body != k.want {
					t.Errorf("%s: %d, %d bytes, want 200 and %d bytes", k.name, code, len(body), len(k.want))
				}
			}
			whole, ranged := runnerReads(s.gl)
			if whole != 3 || ranged == 0 {
				t.Errorf("GitLab's runner route saw %d whole downloads and %d ranged reads, want 3 and some", whole, ranged)
			}
			if n := s.gl.Count(gitlabtest.RouteArtifactFile); n != 0 {
				t.Errorf("the single-file route (job tokens refused on EE Free) saw %d requests", n)
			}
			if n := s.gl.Count(gitlabtest.RouteArtifacts); n != 0 {
				t.Errorf("the public archive route (job tokens refused on EE Free) saw %d requests", n)
			}
		})
	}
}

func TestSeedEndpointBefore19_2WithoutAnAdminTokenServesOnlyTheOwnPipeline(t *testing.T) {
	s, svc := setup{profile: ce18_9}.start(t)
	if code, body := get(t, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts?job=build", deployToken); code != 200 || body != string(s.zip) {
		t.Errorf("own pipeline: %d, %d bytes", code, len(body))
	}
	// The family is unknown without a token that may list bridges: a child
	// is as unknown as any other pipeline.
	if code, _ := get(t, svc.URL+"/api/v4/projects/42/pipelines/7002/artifacts?job=docs", deployToken); code != http.StatusNotFound {
		t.Errorf("child pipeline: %d, want 404", code)
	}
}

func TestRedirectModeSendsTheCallerToGitLabWithoutACredential(t *testing.T) {
	s := newSeed(t)
	svc := startService(t, s.gl.URL, "--redirect-artifacts")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, svc.URL+"/api/v4/projects/42/pipelines/7001/artifacts?job=build", nil)
	req.Header.Set("JOB-TOKEN", deployToken)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if want := fmt.Sprintf("%s/jobs/%d/artifacts", s.gl.APIURL(), s.build.ID); resp.StatusCode != 307 || loc != want {
		t.Errorf("%d Location %q, want 307 %q", resp.StatusCode, loc, want)
	}
}

func TestOlderGitLabListsWithTheAdminTokenOnly(t *testing.T) {
	s := newSeed(t, gitlabtest.OlderGitLab())
	file := adminTokenFile(t, s.gl)
	without := startService(t, s.gl.URL)
	if code, body := get(t, without.URL+"/v1/env", deployToken); code != http.StatusBadGateway {
		t.Errorf("without an admin token: %d %s, want 502", code, body)
	}
	with := startService(t, s.gl.URL, "--api-token-file", file)
	if code, body := get(t, with.URL+"/v1/env", deployToken); code != http.StatusOK || !strings.Contains(body, "ARTIFACT_URL_BUILD") {
		t.Errorf("with an admin token: %d %s", code, body)
	}
}

func TestServiceStartsWhileGitLabIsDownAndRecovers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // GitLab is down: nothing listens there
	svc := startService(t, "http://"+addr)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		if code, _ := get(t, svc.URL+path, ""); code != want {
			t.Errorf("%s while GitLab is down: %d, want %d", path, code, want)
		}
	}
	if code, body := get(t, svc.URL+"/v1/env", deployToken); code != http.StatusServiceUnavailable {
		t.Errorf("/v1/env while GitLab is down: %d %s, want 503", code, body)
	}

	gl := gitlabtest.New()
	ts := httptest.NewUnstartedServer(gl)
	if ts.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	ts.Start()
	gl.URL = ts.URL
	t.Cleanup(func() { ts.Close(); gl.Close() })
	addSeed(t, gl)
	if code, body := get(t, svc.URL+"/v1/env", deployToken); code != http.StatusOK || !strings.Contains(body, "ARTIFACT_URL_BUILD") {
		t.Errorf("/v1/env once GitLab is up: %d %s", code, body)
	}

	ts.CloseClientConnections()
	ts.Close() // GitLab goes away mid-way
	if code, body := get(t, svc.URL+"/v1/env", "glcbt-JOBTOKEN-child-0001"); code != http.StatusServiceUnavailable {
		t.Errorf("/v1/env for a new token after GitLab went away: %d %s, want 503", code, body)
	}
	if code, _ := get(t, svc.URL+"/healthz", ""); code != 200 {
		t.Errorf("/healthz after GitLab went away: %d", code)
	}
}

func TestMetricsCountRequestsListingsAndTokenChecks(t *testing.T) {
	// 19.2: the job token lists the child's jobs too, so GitLab sees two listings.
	_, svc := setup{profile: ce19_2}.start(t)
	for range 3 {
		get(t, svc.URL+"/v1/env", deployToken)
	}
	_, m := get(t, svc.URL+"/metrics", "")
	for _, want := range []string{
		`pipeline_artifacts_http_requests_total{code="200",route="env"} 3`,
		`pipeline_artifacts_token_checks_total{result="valid"} 1`,
		`pipeline_artifacts_gitlab_requests_total{call="jobs",code="200"} 2`, // own + child pipeline
		`pipeline_artifacts_cache_hits_total{cache="family"} 2`,
		`pipeline_artifacts_listings_saved_total`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("no %q in /metrics", want)
		}
	}
}

func TestPublicURLIsWhatJobsAreTold(t *testing.T) {
	s := newSeed(t)
	svc := startService(t, s.gl.URL, "--public-url", "https://gitlab.example.com/")
	code, body := get(t, svc.URL+"/v1/env", deployToken)
	want := fmt.Sprintf("export ARTIFACT_URL_BUILD='https://gitlab.example.com/api/v4/jobs/%d/artifacts'", s.build.ID)
	if code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("%d, no %q in:\n%s", code, want, body)
	}
}
