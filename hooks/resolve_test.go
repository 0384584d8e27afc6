package hooks

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab/gitlabtest"
)

const (
	fakeProject  = 42
	testPipeline = 500
	adminToken   = "glpat-admin-resolve-test"
)

type fixture struct {
	gl           *gitlabtest.Server
	build, self  *gitlabtest.FakeJob
	jobTok, priv Source
}

func newFixture(t *testing.T, opts ...gitlabtest.Option) fixture {
	t.Helper()
	gl := gitlabtest.NewTest(t, opts...)
	gl.AddProject(fakeProject)
	gl.AddPipeline(fakeProject, testPipeline)
	gl.AddToken(adminToken, fakeProject)
	f := fixture{gl: gl}
	f.build = gl.AddJob(fakeProject, testPipeline, gitlabtest.JobSpec{Name: "build", Stage: "build", Artifact: gitlabtest.MakeZip(t, map[string]string{"a": "b"})})
	gl.AddJob(fakeProject, testPipeline, gitlabtest.JobSpec{Name: "lint", Stage: "build"})
	f.self = gl.AddJob(fakeProject, testPipeline, gitlabtest.JobSpec{Name: "deploy", Stage: "deploy", Token: "glcbt-self-token"})
	f.jobTok = Source{Name: "job token", Lister: client(t, gl, gitlab.Credential{Kind: gitlab.JobToken, Token: f.self.Token})}
	f.priv = Source{Name: "admin token", Lister: client(t, gl, gitlab.Credential{Kind: gitlab.PrivateToken, Token: adminToken}), SameProjectOnly: true}
	return f
}

func client(t *testing.T, gl *gitlabtest.Server, cred gitlab.Credential) *gitlab.Client {
	t.Helper()
	c, err := gitlab.New(gitlab.Options{BaseURL: gl.APIURL(), Credential: cred, MinWait: time.Millisecond, MaxWait: time.Millisecond, RetryMax: 2})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f fixture) target() Target {
	return Target{APIURL: f.gl.APIURL(), ProjectID: "42", PipelineID: testPipeline, JobID: f.self.ID}
}

func varsOf(sibs []Sibling) string {
	var n []string
	for _, s := range sibs {
		n = append(n, s.Var)
	}
	return strings.Join(n, " ")
}

func TestResolveTriesSourcesInOrderOnEveryProfile(t *testing.T) {
	payload := func(f fixture) *Payload {
		return &Payload{ID: f.self.ID, Dependencies: []PayloadDependency{{ID: f.build.ID, Name: "build", ArtifactsFile: gitlab.ArtifactsFile{Filename: "artifacts.zip", Size: 9}}}}
	}
	for _, p := range gitlabtest.Profiles() {
		for _, withAdmin := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, admin token %t", p, withAdmin), func(t *testing.T) {
				f := newFixture(t, gitlabtest.WithProfile(p))
				sources := []Source{f.jobTok}
				if withAdmin {
					sources = append(sources, f.priv)
				}
				wantSource, wantVars, wantErr := "api (job token)", "BUILD LINT", false
				switch {
				case !p.JobTokenListsJobs() && withAdmin:
					wantSource = "api (admin token)"
				case !p.JobTokenListsJobs():
					wantSource, wantVars, wantErr = "payload", "BUILD", true
				}
				r := Resolve(t.Context(), f.target(), payload(f), sources, nil)
				if r.Source != wantSource || varsOf(r.Siblings) != wantVars || (r.APIErr != nil) != wantErr {
					t.Fatalf("source %q vars %q err %v; want %q %q err=%v", r.Source, varsOf(r.Siblings), r.APIErr, wantSource, wantVars, wantErr)
				}
				if r.APIErr != nil && strings.Contains(r.APIErr.Error(), f.self.Token) {
					t.Error("the error shows the job token")
				}
			})
		}
	}
}

func TestResolveDropsDependenciesOfOtherPipelines(t *testing.T) {
	f := newFixture(t)
	p := &Payload{Dependencies: []PayloadDependency{{ID: 9999, Name: "needs-project-job", ArtifactsFile: gitlab.ArtifactsFile{Filename: "a.zip"}}}}
	r := Resolve(t.Context(), f.target(), p, []Source{f.jobTok}, nil)
	if varsOf(r.Siblings) != "BUILD LINT" {
		t.Fatalf("vars %q: a needs:project dependency became a sibling", varsOf(r.Siblings))
	}
}

// TestResolveAddsParentAndChildPipelines runs on every profile: GitLab 18.x
// lists jobs but not bridges for the job token, so children come from the
// admin token when there is one, and otherwise cost a debug note — never a
// warning in every job of a pipeline that may have no children at all.
func TestResolveAddsParentAndChildPipelines(t *testing.T) {
	for _, p := range gitlabtest.Profiles() {
		for _, withAdmin := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, admin token %t", p, withAdmin), func(t *testing.T) {
				resolveRelated(t, p, withAdmin)
			})
		}
	}
}

func resolveRelated(t *testing.T, p gitlabtest.Profile, withAdmin bool) {
	f := newFixture(t, gitlabtest.WithProfile(p))
	const child = 600
	f.gl.AddPipeline(fakeProject, child, gitlabtest.ChildOf(testPipeline, "trigger-docs"))
	f.gl.AddJob(fakeProject, child, gitlabtest.JobSpec{Name: "docs 1/2"})
	f.gl.AddJob(fakeProject, child, gitlabtest.JobSpec{Name: "docs 2/2"})
	childJob := f.gl.AddJob(fakeProject, child, gitlabtest.JobSpec{Name: "publish", Token: "glcbt-child-token"})
	sources := func(job Source) []Source {
		if withAdmin {
			return []Source{job, f.priv}
		}
		return []Source{job}
	}

	parentView := f.target()
	parentView.Children = true
	r := Resolve(t.Context(), parentView, nil, sources(f.jobTok), nil)
	listsJobs := withAdmin || p.JobTokenListsJobs()
	seesChildren := withAdmin || p.JobTokenListsBridges()
	want := "BUILD LINT TRIGGER_DOCS__DOCS_1_2 TRIGGER_DOCS__DOCS_2_2 TRIGGER_DOCS__PUBLISH"
	switch {
	case !listsJobs:
		want = ""
	case !seesChildren:
		want = "BUILD LINT"
		if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "child pipelines not looked for") {
			t.Errorf("notes %q: a refused bridges call must be one debug note", r.Notes)
		}
	}
	if got := varsOf(r.Siblings); got != want || len(r.Warnings) != 0 {
		t.Errorf("parent sees %q with warnings %q; want %q and no warning", got, r.Warnings, want)
	}
	if vars := Variables(r.Siblings, ""); seesChildren && listsJobs && vars["ARTIFACT_URLS_TRIGGER_DOCS__DOCS"] == "" {
		t.Errorf("no group variable for the child's parallel jobs: %v", vars)
	}

	childView := Target{APIURL: f.gl.APIURL(), ProjectID: "42", PipelineID: child, JobID: childJob.ID, ParentPipelineID: testPipeline}
	childTok := Source{Name: "job token", Lister: client(t, f.gl, gitlab.Credential{Kind: gitlab.JobToken, Token: childJob.Token})}
	r = Resolve(t.Context(), childView, nil, sources(childTok), nil)
	if !listsJobs {
		if r.APIErr == nil {
			t.Errorf("the job token listed jobs on %s", p)
		}
		return
	}
	if got := varsOf(r.Siblings); got != "DOCS_1_2 DOCS_2_2 PARENT__BUILD PARENT__DEPLOY PARENT__LINT" {
		t.Errorf("child sees %q (warnings %v)", got, r.Warnings)
	}
	for _, s := range r.Siblings {
		if s.Relation == RelationParent && (s.Pipeline != testPipeline || !strings.Contains(s.PublicURL, "/projects/42/jobs/") ||
			s.URL != gitlab.RunnerArtifactsURL(f.gl.APIURL(), s.ID)) {
			t.Errorf("parent sibling %+v", s)
		}
	}
}

// TestAParentListingRefusedIsAWarning: the job asked for its parent's jobs
// (CI_UPSTREAM_PIPELINE_ID), so not getting them is worth a warning.
func TestAParentListingRefusedIsAWarning(t *testing.T) {
	f := newFixture(t)
	f.gl.AddProject(77)
	f.gl.AddPipeline(77, 700)
	tg := f.target()
	tg.ParentPipelineID, tg.ParentProjectID = 700, "77"
	r := Resolve(t.Context(), tg, nil, []Source{f.jobTok}, nil)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "parent pipeline 700 not listed") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// TestThePipelineIDIsTheJobsOwn: a pipeline may redefine CI_PIPELINE_ID;
// the job's own id (from the payload) is in the listing of its real
// pipeline, and GET /job settles any doubt.
func TestThePipelineIDIsTheJobsOwn(t *testing.T) {
	f := newFixture(t)
	f.gl.AddPipeline(fakeProject, 501)
	f.gl.AddJob(fakeProject, 501, gitlabtest.JobSpec{Name: "elsewhere"})
	self := f.jobTok
	self.Self = self.Lister.(*gitlab.Client)
	cases := []struct {
		name      string
		pipeline  int64
		wantVars  string
		wantWarn  bool
		wantCalls int
	}{
		{"the right id costs no GET /job", testPipeline, "BUILD LINT", false, 0},
		{"an overridden id is corrected by GET /job", 501, "BUILD LINT", true, 1},
		{"an unknown id is found by GET /job", 0, "BUILD LINT", false, 1},
		{"an id of no pipeline at all is corrected by GET /job", 424242, "BUILD LINT", true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.gl.Count(gitlabtest.RouteJob)
			tg := f.target()
			tg.PipelineID = tc.pipeline
			r := Resolve(t.Context(), tg, nil, []Source{self}, nil)
			if varsOf(r.Siblings) != tc.wantVars || (len(r.Warnings) > 0) != tc.wantWarn || r.PipelineID != testPipeline {
				t.Errorf("vars %q, warnings %q, pipeline %d", varsOf(r.Siblings), r.Warnings, r.PipelineID)
			}
			if n := f.gl.Count(gitlabtest.RouteJob) - before; n != tc.wantCalls {
				t.Errorf("%d GET /job, want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestAdminTokenStaysInItsProject(t *testing.T) {
	f := newFixture(t, gitlabtest.OlderGitLab())
	f.gl.AddProject(77)
	f.gl.AddPipeline(77, 700)
	f.gl.AddJob(77, 700, gitlabtest.JobSpec{Name: "secret-build"})
	f.gl.AddToken("glpat-wide", 42, 77)
	wide := Source{Name: "admin token", Lister: client(t, f.gl, gitlab.Credential{Kind: gitlab.PrivateToken, Token: "glpat-wide"}), SameProjectOnly: true}
	tg := f.target()
	tg.ParentPipelineID, tg.ParentProjectID = 700, "77" // what a pipeline's author could set
	r := Resolve(t.Context(), tg, nil, []Source{f.jobTok, wide}, nil)
	if strings.Contains(varsOf(r.Siblings), "SECRET") || len(r.Warnings) != 1 {
		t.Fatalf("siblings %q, warnings %v: the admin token read another project", varsOf(r.Siblings), r.Warnings)
	}
}

func TestCacheSharesOneListingAndExpires(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Cache{Dir: t.TempDir(), TTL: 10 * time.Second, Now: func() time.Time { return now }}
	for range 3 {
		if r := Resolve(t.Context(), f.target(), nil, []Source{f.jobTok}, c); varsOf(r.Siblings) != "BUILD LINT" {
			t.Fatalf("vars %q", varsOf(r.Siblings))
		}
	}
	if n := f.gl.Count(gitlabtest.RouteJobs); n != 1 {
		t.Errorf("%d listings for 3 resolutions, want 1", n)
	}
	now = now.Add(11 * time.Second)
	r := Resolve(t.Context(), f.target(), nil, []Source{f.jobTok}, c)
	if n := f.gl.Count(gitlabtest.RouteJobs); n != 2 || !strings.Contains(r.Source, "job token") {
		t.Errorf("%d listings after the TTL, want 2 (source %q)", n, r.Source)
	}
	entries, _ := filepath.Glob(filepath.Join(c.Dir, "*.json"))
	for _, e := range entries {
		if st, _ := os.Stat(e); st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", e, st.Mode().Perm())
		}
		if b, _ := os.ReadFile(e); strings.Contains(string(b), f.self.Token) {
			t.Errorf("%s holds the job token", e)
		}
	}
}

func TestCachedIDsYieldToThePayload(t *testing.T) {
	f := newFixture(t)
	c := &Cache{Dir: t.TempDir(), TTL: time.Hour}
	Resolve(t.Context(), f.target(), nil, []Source{f.jobTok}, c)
	retried := f.gl.Retry(testPipeline, "build") // the cache still holds the old id
	p := &Payload{Dependencies: []PayloadDependency{{ID: retried.ID, Name: "build", ArtifactsFile: gitlab.ArtifactsFile{Filename: "artifacts.zip"}}}}
	r := Resolve(t.Context(), f.target(), p, []Source{f.jobTok}, c)
	if r.Siblings[0].Name != "build" || r.Siblings[0].ID != retried.ID {
		t.Fatalf("build resolved to %d, want the retried %d", r.Siblings[0].ID, retried.ID)
	}
}

func TestCacheIgnoresTornAndForeignEntries(t *testing.T) {
	f := newFixture(t)
	c := &Cache{Dir: t.TempDir(), TTL: time.Hour}
	Resolve(t.Context(), f.target(), nil, []Source{f.jobTok}, c)
	entries, _ := filepath.Glob(filepath.Join(c.Dir, "*.json"))
	if len(entries) == 0 {
		t.Fatal("nothing cached")
	}
	for _, e := range entries {
		if err := os.WriteFile(e, []byte(`{"key":"pipeline|false|http`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if r := Resolve(t.Context(), f.target(), nil, []Source{f.jobTok}, c); varsOf(r.Siblings) != "BUILD LINT" {
		t.Fatalf("a torn entry was used: %q", varsOf(r.Siblings))
	}
}

// TestCacheSurvivesAWriterKilledMidWrite runs a real second process that
// takes the cache lock, writes half an entry and is killed with SIGKILL.
// The kernel drops its lock; the next resolution must fetch afresh and never
// read the half-written file.
func TestCacheSurvivesAWriterKilledMidWrite(t *testing.T) {
	if dir := os.Getenv("HOOKS_TEST_HALF_WRITER"); dir != "" {
		halfWriter(dir)
		return
	}
	f := newFixture(t)
	c := &Cache{Dir: t.TempDir(), TTL: time.Hour, LockPoll: time.Millisecond}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCacheSurvivesAWriterKilledMidWrite$")
	key := resolver{t: f.target()}.cacheKey("42", testPipeline, false) // the key Resolve uses
	cmd.Env = append(os.Environ(), "HOOKS_TEST_HALF_WRITER="+c.Dir, "HOOKS_TEST_KEY="+key)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("writer said %q", line)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	r := Resolve(t.Context(), f.target(), nil, []Source{f.jobTok}, c)
	if varsOf(r.Siblings) != "BUILD LINT" || r.APIErr != nil {
		t.Fatalf("after the kill: vars %q, err %v", varsOf(r.Siblings), r.APIErr)
	}
}

// halfWriter is the child of TestCacheSurvivesAWriterKilledMidWrite.
func halfWriter(dir string) {
	c := &Cache{Dir: dir}
	_ = os.MkdirAll(dir, 0o700)
	key := os.Getenv("HOOKS_TEST_KEY")
	if _, err := c.lock(context.Background(), c.path(key)+".lock"); err != nil {
		os.Exit(3)
	}
	tmp, _ := os.CreateTemp(dir, ".entry-*")
	_, _ = tmp.WriteString(`{"key":"pipeline|`)
	os.Stdout.WriteString("locked\n")
	select {} // until SIGKILL
}

// TestAnUnconfirmedPipelineIsUsedWithAWarning: when the listing of
// CI_PIPELINE_ID does not hold the job and GET /job cannot settle it, the
// siblings found are used, and the job log says they are unconfirmed.
func TestAnUnconfirmedPipelineIsUsedWithAWarning(t *testing.T) {
	f := newFixture(t)
	f.gl.AddPipeline(fakeProject, 501)
	f.gl.AddJob(fakeProject, 501, gitlabtest.JobSpec{Name: "elsewhere"})
	self := f.jobTok
	self.Self = client(t, f.gl, gitlab.Credential{Kind: gitlab.JobToken, Token: "glcbt-not-a-running-job"})
	tg := f.target()
	tg.PipelineID = 501
	r := Resolve(t.Context(), tg, nil, []Source{self}, nil)
	if varsOf(r.Siblings) != "ELSEWHERE" || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "did not confirm") {
		t.Errorf("vars %q, warnings %q", varsOf(r.Siblings), r.Warnings)
	}
}
