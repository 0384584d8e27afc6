package gitlabtest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

// TestAuthMatrix runs every credential on every route against every profile.
func TestAuthMatrix(t *testing.T) {
	type row struct {
		name   string
		path   string // after /api/v4; %[1]d build job id, %[2]d other project's job id
		header []string
		want   func(p gitlabtest.Profile) int
	}
	always := func(code int) func(gitlabtest.Profile) int { return func(gitlabtest.Profile) int { return code } }
	// A route that ignores the job token answers as to an anonymous caller:
	// the fixture's project is private, so 404.
	since := func(ok func(gitlabtest.Profile) bool) func(gitlabtest.Profile) int {
		return func(p gitlabtest.Profile) int {
			if ok(p) {
				return 200
			}
			return 404
		}
	}
	sinceOr := func(ok func(gitlabtest.Profile) bool, otherwise int) func(gitlabtest.Profile) int {
		return func(p gitlabtest.Profile) int {
			if ok(p) {
				return 200
			}
			return otherwise
		}
	}
	lists := gitlabtest.Profile.JobTokenListsJobs
	bridges := gitlabtest.Profile.JobTokenListsBridges
	publicArtifacts := gitlabtest.Profile.PublicArtifactsTakeJobToken
	jobs := fmt.Sprintf("/projects/%d/pipelines/%d/jobs", projectID, pipelineID)
	rows := []row{
		{"an access token lists its project's jobs", jobs, []string{"PRIVATE-TOKEN", patProject}, always(200)},
		{"an access token may travel as Bearer", jobs, []string{"Authorization", "Bearer " + patProject}, always(200)},
		{"an admin token reads every project", jobs, []string{"PRIVATE-TOKEN", patAdmin}, always(200)},
		{"a running job's token lists jobs from 18.0", jobs, []string{"JOB-TOKEN", tokRunning}, since(lists)},
		{"a job token may travel as Bearer where it is taken", jobs, []string{"Authorization", "Bearer " + tokRunning}, sinceOr(lists, 401)},
		{"a job token may travel as job_token=", jobs + "?job_token=" + tokRunning, nil, since(lists)},
		{"a finished job's token is unknown where job tokens are looked at", jobs, []string{"JOB-TOKEN", tokFinished},
			func(p gitlabtest.Profile) int { return map[bool]int{true: 401, false: 404}[lists(p)] }},
		{"no token reads nothing of a private project", jobs, nil, always(404)},
		{"a job token in PRIVATE-TOKEN is unknown", jobs, []string{"PRIVATE-TOKEN", tokRunning}, always(401)},
		{"another project's job token is forbidden where job tokens are looked at", jobs, []string{"JOB-TOKEN", tokOther},
			func(p gitlabtest.Profile) int { return map[bool]int{true: 403, false: 404}[lists(p)] }},
		{"an access token does not see other projects", fmt.Sprintf("/projects/%d/pipelines/%d/jobs", otherProject, otherPipe), []string{"PRIVATE-TOKEN", patProject}, always(404)},
		{"an unknown project is not found", "/projects/999/pipelines/1/jobs", []string{"PRIVATE-TOKEN", patAdmin}, always(404)},
		{"a pipeline of another project is not found", fmt.Sprintf("/projects/%d/pipelines/%d/jobs", projectID, otherPipe), []string{"PRIVATE-TOKEN", patAdmin}, always(404)},
		{"bridges take the job token only from 19.2", fmt.Sprintf("/projects/%d/pipelines/%d/bridges", projectID, pipelineID), []string{"JOB-TOKEN", tokRunning}, since(bridges)},
		{"bridges take an access token everywhere", fmt.Sprintf("/projects/%d/pipelines/%d/bridges", projectID, pipelineID), []string{"PRIVATE-TOKEN", patProject}, always(200)},
		{"trigger_jobs exists from 19.2", fmt.Sprintf("/projects/%d/pipelines/%d/trigger_jobs", projectID, pipelineID), []string{"PRIVATE-TOKEN", patProject}, since(gitlabtest.Profile.HasTriggerJobs)},
		{"trigger_jobs takes the job token", fmt.Sprintf("/projects/%d/pipelines/%d/trigger_jobs", projectID, pipelineID), []string{"JOB-TOKEN", tokRunning}, since(gitlabtest.Profile.HasTriggerJobs)},
		{"a job token reads its pipeline from 18.0", fmt.Sprintf("/projects/%d/pipelines/%d", projectID, pipelineID), []string{"JOB-TOKEN", tokRunning}, since(lists)},
		{"a job token lists pipelines from 18.0", fmt.Sprintf("/projects/%d/pipelines", projectID), []string{"JOB-TOKEN", tokRunning}, since(lists)},
		{"a single job needs an access token", "/projects/7/jobs/%[1]d", []string{"PRIVATE-TOKEN", patProject}, always(200)},
		{"a single job ignores the job token: 401", "/projects/7/jobs/%[1]d", []string{"JOB-TOKEN", tokRunning}, always(401)},
		{"the job token downloads archives except on EE Free", "/projects/7/jobs/%[1]d/artifacts", []string{"JOB-TOKEN", tokRunning}, since(publicArtifacts)},
		{"an access token downloads archives", "/projects/7/jobs/%[1]d/artifacts", []string{"PRIVATE-TOKEN", patProject}, always(200)},
		{"an archive of a private project without a token is not found", "/projects/7/jobs/%[1]d/artifacts", nil, always(404)},
		{"the job token reads one file except on EE Free", "/projects/7/jobs/%[1]d/artifacts/dist/app.txt", []string{"JOB-TOKEN", tokRunning}, since(publicArtifacts)},
		{"the runner API takes JOB-TOKEN on every tier", "/jobs/%[1]d/artifacts", []string{"JOB-TOKEN", tokRunning}, always(200)},
		{"the runner API takes token=", "/jobs/%[1]d/artifacts?token=" + tokRunning, nil, always(200)},
		{"the runner API refuses access tokens", "/jobs/%[1]d/artifacts", []string{"PRIVATE-TOKEN", patAdmin}, always(401)},
		{"the runner API refuses a finished job's token", "/jobs/%[1]d/artifacts", []string{"JOB-TOKEN", tokFinished}, always(401)},
		{"the runner API refuses another project's job", "/jobs/%[2]d/artifacts", []string{"JOB-TOKEN", tokRunning}, always(403)},
		{"GET /job answers a job token", "/job", []string{"JOB-TOKEN", tokRunning}, always(200)},
		{"GET /job answers a Bearer job token", "/job", []string{"Authorization", "Bearer " + tokRunning}, always(200)},
		{"GET /job has no job for an access token", "/job", []string{"PRIVATE-TOKEN", patAdmin}, always(404)},
		{"GET /job refuses a finished job's token", "/job", []string{"JOB-TOKEN", tokFinished}, always(401)},
		{"version answers an access token", "/version", []string{"PRIVATE-TOKEN", patAdmin}, always(200)},
		{"version never takes a job token", "/version", []string{"JOB-TOKEN", tokRunning}, always(401)},
		{"metadata never takes a job token", "/metadata", []string{"JOB-TOKEN", tokRunning}, always(401)},
		{"version refuses anonymous requests", "/version", nil, always(401)},
		{"an unknown route is not found", "/nope", []string{"PRIVATE-TOKEN", patAdmin}, always(404)},
	}
	for _, p := range gitlabtest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			f := newFixture(t, gitlabtest.WithProfile(p))
			c := newClient(t)
			for _, r := range rows {
				t.Run(r.name, func(t *testing.T) {
					path := r.path
					if strings.Contains(path, "%[") {
						path = fmt.Sprintf(path, f.build.ID, f.other.ID)
					}
					resp, body := get(t, c, f.s.APIURL()+path, r.header...)
					wantStatus(t, resp, body, r.want(p))
					if resp.StatusCode >= 400 && !regexp.MustCompile(`^\{"(message|error)":"\d{3} `).Match(body) {
						t.Errorf("error body %s is not GitLab's {\"message\": \"NNN …\"}", body)
					}
				})
			}
		})
	}
}

// TestRefusalBodiesAreGitLabs pins the exact messages the client classifies.
func TestRefusalBodiesAreGitLabs(t *testing.T) {
	free := gitlabtest.Profile{Edition: gitlabtest.EEFree, Version: gitlabtest.Version18_9}
	f := newFixture(t, gitlabtest.WithProfile(free))
	c := newClient(t)
	cases := []struct {
		name, path string
		header     []string
		want       string
	}{
		{"EE Free ignores the job token on the artifacts API", "/projects/7/jobs/%d/artifacts", []string{"JOB-TOKEN", tokRunning}, `{"message":"404 Project Not Found"}`},
		{"a finished job's token is 401", "/jobs/%d/artifacts", []string{"JOB-TOKEN", tokFinished}, `{"message":"401 Unauthorized"}`},
		{"GET /job without a job is Job Not Found", "/job", []string{"PRIVATE-TOKEN", patAdmin}, `{"message":"404 Job Not Found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if strings.Contains(path, "%d") {
				path = fmt.Sprintf(path, f.build.ID)
			}
			_, body := get(t, c, f.s.APIURL()+path, tc.header...)
			if string(body) != tc.want {
				t.Errorf("body = %s, want %s", body, tc.want)
			}
		})
	}
}

// TestPublicProjectsAnswerAnonymousCallers: a route that ignores the job
// token serves a public project's data anyway, so a 200 does not prove the
// token was taken.
func TestPublicProjectsAnswerAnonymousCallers(t *testing.T) {
	for _, p := range gitlabtest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			f := newFixture(t, gitlabtest.WithProfile(p))
			f.s.AddProject(projectID, gitlabtest.Public())
			c := newClient(t)
			for _, path := range []string{"/projects/7/pipelines/100/jobs", "/projects/7/pipelines/100/bridges", fmt.Sprintf("/projects/7/jobs/%d/artifacts", f.build.ID)} {
				resp, body := get(t, c, f.s.APIURL()+path, "JOB-TOKEN", tokRunning)
				wantStatus(t, resp, body, 200)
				resp, body = get(t, c, f.s.APIURL()+path)
				wantStatus(t, resp, body, 200)
			}
			resp, body := get(t, c, fmt.Sprintf("%s/projects/7/jobs/%d", f.s.APIURL(), f.build.ID))
			wantStatus(t, resp, body, 401)
		})
	}
}

func TestListingPagesThroughLinkHeaders(t *testing.T) {
	s := gitlabtest.NewTest(t)
	s.AddPipeline(projectID, pipelineID)
	s.AddToken(patProject, projectID)
	for i := range 45 {
		s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: fmt.Sprintf("job %d", i)})
	}
	c := newClient(t)
	next := s.APIURL() + fmt.Sprintf("/projects/%d/pipelines/%d/jobs?scope[]=success&include_retried=false", projectID, pipelineID)
	var ids []int64
	for page := 1; next != ""; page++ {
		resp, body := get(t, c, next, "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 200)
		links := parseLinks(t, resp.Header.Get("Link"))
		h := resp.Header
		want := map[string]string{"X-Page": fmt.Sprint(page), "X-Per-Page": "20", "X-Total": "45", "X-Total-Pages": "3",
			"X-Next-Page": map[bool]string{true: fmt.Sprint(page + 1), false: ""}[page < 3],
			"X-Prev-Page": map[bool]string{true: fmt.Sprint(page - 1), false: ""}[page > 1]}
		for k, v := range want {
			if vs := h.Values(k); len(vs) != 1 || vs[0] != v {
				t.Errorf("page %d: %s = %q, want %q", page, k, vs, v)
			}
		}
		if !strings.HasPrefix(links["first"], s.URL+"/api/v4/") || !strings.Contains(links["last"], "page=3") {
			t.Errorf("page %d: Link first=%q last=%q, want absolute URLs ending at page 3", page, links["first"], links["last"])
		}
		if u, _ := url.Parse(links["first"]); u.Query().Get("scope[]") != "success" || u.Query().Get("include_retried") != "false" {
			t.Errorf("page %d: Link %q dropped the other parameters", page, links["first"])
		}
		if _, ok := links["prev"]; ok != (page > 1) {
			t.Errorf("page %d: rel=prev present = %v", page, ok)
		}
		for _, j := range decode[[]jobJSON](t, body) {
			ids = append(ids, j.ID)
		}
		next = links["next"]
	}
	if len(ids) != 45 || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) || ids[0] != 1044 {
		t.Errorf("ids = %v, want 1044 down to 1000", ids)
	}
}

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(\w+)"`)

func parseLinks(t *testing.T, header string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, part := range strings.Split(header, ", ") {
		m := linkRE.FindStringSubmatch(part)
		if m == nil {
			t.Fatalf("malformed Link part %q in %q", part, header)
		}
		out[m[2]] = m[1]
	}
	return out
}

func TestPerPage(t *testing.T) {
	cases := []struct {
		name  string
		opts  []gitlabtest.Option
		query string
		want  string
	}{
		{"per_page defaults to 20", nil, "", "20"},
		{"per_page is capped at 100", nil, "?per_page=500", "100"},
		{"PerPageMax lowers the cap", []gitlabtest.Option{gitlabtest.PerPageMax(5)}, "?per_page=50", "5"},
		{"a non-positive per_page means the default", nil, "?per_page=0", "20"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			resp, body := get(t, newClient(t), f.s.APIURL()+"/projects/7/pipelines/100/jobs"+tc.query, "PRIVATE-TOKEN", patProject)
			wantStatus(t, resp, body, 200)
			if got := resp.Header.Get("X-Per-Page"); got != tc.want {
				t.Errorf("X-Per-Page = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a non-numeric page is a bad request", func(t *testing.T) {
		f := newFixture(t)
		resp, body := get(t, newClient(t), f.s.APIURL()+"/projects/7/pipelines/100/jobs?page=x", "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 400)
	})
}

func TestOmitTotalsHidesTotalsAndLast(t *testing.T) {
	s := gitlabtest.NewTest(t, gitlabtest.OmitTotals())
	s.AddPipeline(projectID, pipelineID)
	s.AddToken(patProject)
	for i := range 3 {
		s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: fmt.Sprint(i)})
	}
	c := newClient(t)
	next, pages := s.APIURL()+"/projects/7/pipelines/100/jobs?per_page=2", 0
	for ; next != ""; pages++ {
		resp, body := get(t, c, next, "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 200)
		for _, k := range []string{"X-Total", "X-Total-Pages"} {
			if _, ok := resp.Header[k]; ok {
				t.Errorf("%s present with OmitTotals", k)
			}
		}
		links := parseLinks(t, resp.Header.Get("Link"))
		if _, ok := links["last"]; ok {
			t.Errorf("rel=last present with OmitTotals")
		}
		next = links["next"]
		if (next == "") != (resp.Header.Get("X-Next-Page") == "") {
			t.Errorf("rel=next %q disagrees with X-Next-Page %q", next, resp.Header.Get("X-Next-Page"))
		}
	}
	if pages != 2 {
		t.Errorf("followed %d pages, want 2", pages)
	}
}

func TestRetriedJobsAppearOnlyWhenAskedFor(t *testing.T) {
	s := gitlabtest.NewTest(t)
	s.AddPipeline(projectID, pipelineID)
	s.AddToken(patProject)
	first := s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: "build", Status: "failed"})
	second := s.Retry(pipelineID, "build")
	if second.ID <= first.ID || second.Name != "build" {
		t.Fatalf("retry = %+v, want a newer attempt of build than %d", second, first.ID)
	}
	c := newClient(t)
	list := func(query string) []int64 {
		resp, body := get(t, c, s.APIURL()+"/projects/7/pipelines/100/jobs"+query, "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 200)
		var ids []int64
		for _, j := range decode[[]jobJSON](t, body) {
			ids = append(ids, j.ID)
		}
		return ids
	}
	if got := list(""); !slices.Equal(got, []int64{second.ID}) {
		t.Errorf("default listing = %v, want only the new attempt %d", got, second.ID)
	}
	if got := list("?include_retried=true"); !slices.Equal(got, []int64{second.ID, first.ID}) {
		t.Errorf("include_retried listing = %v, want %d then %d", got, second.ID, first.ID)
	}
}

func TestScopeFiltersByStatus(t *testing.T) {
	s := gitlabtest.NewTest(t)
	s.AddPipeline(projectID, pipelineID)
	s.AddToken(patProject)
	for _, st := range []string{"success", "failed", "running", "manual", "success"} {
		s.AddJob(projectID, pipelineID, gitlabtest.JobSpec{Name: st, Status: st})
	}
	cases := []struct {
		name, query string
		want        int
	}{
		{"scope[] repeats", "?scope[]=success&scope[]=failed", 3},
		{"scope takes one status", "?scope=running", 1},
		{"scope and scope[] combine", "?scope=manual&scope[]=running", 2},
		{"no scope lists everything", "", 5},
	}
	c := newClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, s.APIURL()+"/projects/7/pipelines/100/jobs"+tc.query, "PRIVATE-TOKEN", patProject)
			wantStatus(t, resp, body, 200)
			if got := len(decode[[]jobJSON](t, body)); got != tc.want {
				t.Errorf("%d jobs, want %d", got, tc.want)
			}
		})
	}
	t.Run("an unknown status is a bad request", func(t *testing.T) {
		resp, body := get(t, c, s.APIURL()+"/projects/7/pipelines/100/jobs?scope[]=bogus", "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 400)
	})
}

func TestJobJSONLooksLikeGitLab(t *testing.T) {
	f := newFixture(t)
	resp, body := get(t, newClient(t), f.s.APIURL()+"/projects/7/pipelines/100/jobs", "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	jobs := decode[[]jobJSON](t, body)
	byName := map[string]jobJSON{}
	for _, j := range jobs {
		byName[j.Name] = j
	}
	if _, ok := byName["trigger-child"]; ok {
		t.Errorf("the jobs listing includes the bridge: %s", body)
	}
	b := byName["build"]
	if b.ID != f.build.ID || b.Stage != "build" || b.Status != "success" || b.Ref != "main" || b.CreatedAt == "" ||
		b.Pipeline.ID != pipelineID || b.Pipeline.ProjectID != projectID || len(b.Pipeline.SHA) != 40 {
		t.Errorf("build = %+v", b)
	}
	if b.ArtifactsFile == nil || b.ArtifactsFile.Filename != "artifacts.zip" || b.ArtifactsFile.Size != int64(len(f.zip)) {
		t.Errorf("build artifacts_file = %+v, want artifacts.zip of %d bytes", b.ArtifactsFile, len(f.zip))
	}
	if c := byName["consumer"]; c.Status != "running" || c.ArtifactsFile != nil || strings.Contains(string(body), tokRunning) {
		t.Errorf("consumer = %+v; a job without archive has no artifacts_file and no token is ever rendered", c)
	}
}

func TestChildPipelinesHangOffBridges(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	f = newFixture(t, gitlabtest.WithProfile(gitlabtest.Profile{Version: gitlabtest.Version19_2}))
	for _, route := range []string{"bridges", "trigger_jobs"} {
		resp, body := get(t, c, f.s.APIURL()+"/projects/7/pipelines/100/"+route, "PRIVATE-TOKEN", patProject)
		wantStatus(t, resp, body, 200)
		bridges := decode[[]jobJSON](t, body)
		if len(bridges) != 1 || bridges[0].Name != "trigger-child" || bridges[0].DownstreamPipeline == nil ||
			bridges[0].DownstreamPipeline.ID != pipelineID+1 || bridges[0].DownstreamPipeline.Source != "parent_pipeline" {
			t.Errorf("%s = %s, want trigger-child → pipeline %d", route, body, pipelineID+1)
		}
	}
	resp, body := get(t, c, f.s.APIURL()+"/projects/7/pipelines/101/jobs", "PRIVATE-TOKEN", patProject)
	wantStatus(t, resp, body, 200)
}

func TestPipelinesBySHA(t *testing.T) {
	s := gitlabtest.NewTest(t)
	s.AddToken(patProject)
	s.AddPipeline(projectID, 10, gitlabtest.WithSHA("abc123"))
	s.AddPipeline(projectID, 11, gitlabtest.WithSHA("abc123"), gitlabtest.WithRef("feature"))
	s.AddPipeline(projectID, 12, gitlabtest.WithSHA("abc123"), gitlabtest.ChildOf(11, "child"))
	s.AddPipeline(projectID, 13, gitlabtest.WithSHA("def456"))
	type pipe struct {
		ID     int64  `json:"id"`
		SHA    string `json:"sha"`
		Source string `json:"source"`
	}
	c := newClient(t)
	cases := []struct {
		name, query string
		want        []int64
	}{
		{"the newest pipeline of a commit comes first, children hidden", "?sha=abc123", []int64{11, 10}},
		{"child pipelines show with source=parent_pipeline", "?sha=abc123&source=parent_pipeline", []int64{12}},
		{"ref narrows further", "?sha=abc123&ref=main", []int64{10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, s.APIURL()+"/projects/7/pipelines"+tc.query, "PRIVATE-TOKEN", patProject)
			wantStatus(t, resp, body, 200)
			var got []int64
			for _, p := range decode[[]pipe](t, body) {
				got = append(got, p.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("pipelines = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCurrentJobAndSingleJob(t *testing.T) {
	f := newFixture(t)
	c := newClient(t)
	resp, body := get(t, c, f.s.APIURL()+"/job", "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, 200)
	if j := decode[jobJSON](t, body); j.ID != f.consumer.ID || j.Pipeline.ID != pipelineID {
		t.Errorf("/job = %+v, want job %d of pipeline %d", j, f.consumer.ID, pipelineID)
	}

	f.s.SetStatus(f.build.ID, "failed")
	resp, body = get(t, c, fmt.Sprintf("%s/projects/7/jobs/%d", f.s.APIURL(), f.build.ID), "PRIVATE-TOKEN", patProject)
	wantStatus(t, resp, body, 200)
	if j := decode[jobJSON](t, body); j.Status != "failed" {
		t.Errorf("status = %q after SetStatus(failed)", j.Status)
	}

	f.s.SetStatus(f.consumer.ID, "success")
	resp, body = get(t, c, f.s.APIURL()+"/job", "JOB-TOKEN", tokRunning)
	wantStatus(t, resp, body, http.StatusUnauthorized)
}

func TestVersion(t *testing.T) {
	cases := []struct {
		name string
		opts []gitlabtest.Option
		want string
	}{
		{"the default profile reports 18.9.0", nil, "18.9.0"},
		{"older GitLab reports 17.9.0", []gitlabtest.Option{gitlabtest.OlderGitLab()}, "17.9.0"},
		{"EE reports its edition", []gitlabtest.Option{gitlabtest.WithProfile(gitlabtest.Profile{Edition: gitlabtest.EEPremium, Version: gitlabtest.Version19_2})}, "19.2.0-ee"},
		{"WithVersion wins", []gitlabtest.Option{gitlabtest.OlderGitLab(), gitlabtest.WithVersion("16.11.2")}, "16.11.2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			resp, body := get(t, newClient(t), f.s.APIURL()+"/version", "PRIVATE-TOKEN", patAdmin)
			wantStatus(t, resp, body, 200)
			if v := decode[map[string]string](t, body)["version"]; v != tc.want {
				t.Errorf("version = %q, want %q", v, tc.want)
			}
		})
	}
}
