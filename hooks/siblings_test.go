package hooks

import (
	"reflect"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

const (
	testAPI     = "https://gitlab.example.com/api/v4"
	testProject = "42"
)

func job(id int64, name, stage, status string) gitlab.Job {
	return gitlab.Job{ID: id, Name: name, Stage: stage, Status: status}
}

func withArtifact(j gitlab.Job, filename string, size int64) gitlab.Job {
	j.ArtifactsFile = &gitlab.ArtifactsFile{Filename: filename, Size: size}
	return j
}

func ids(jobs []gitlab.Job) map[string]int64 {
	m := make(map[string]int64, len(jobs))
	for _, j := range jobs {
		m[j.Name] = j.ID
	}
	return m
}

func names(jobs []gitlab.Job) []string { return jobNames(jobs) }

func TestLatestAttempts(t *testing.T) {
	tests := []struct {
		name string
		jobs []gitlab.Job
		want map[string]int64
	}{
		{
			name: "the highest id of a name wins whatever the list order",
			jobs: []gitlab.Job{job(12, "build", "build", "success"), job(10, "build", "build", "failed"), job(15, "build", "build", "running")},
			want: map[string]int64{"build": 15},
		},
		{
			name: "different names are kept apart",
			jobs: []gitlab.Job{job(3, "b", "", ""), job(1, "a", "", ""), job(2, "a", "", "")},
			want: map[string]int64{"a": 2, "b": 3},
		},
		{
			name: "an empty list gives an empty list",
			want: map[string]int64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LatestAttempts(tt.jobs)
			if !reflect.DeepEqual(ids(got), tt.want) || len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", ids(got), tt.want)
			}
		})
	}
}

func TestLatestAttemptsSortsByNameBytewise(t *testing.T) {
	got := names(LatestAttempts([]gitlab.Job{job(1, "b", "", ""), job(2, "B", "", ""), job(3, "a", "", ""), job(4, "test 10/10", "", ""), job(5, "test 2/10", "", "")}))
	want := []string{"B", "a", "b", "test 10/10", "test 2/10"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMerge(t *testing.T) {
	expire := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	apiBuild := withArtifact(job(10, "build", "build", "success"), "artifacts.zip", 100)
	apiBuild.ArtifactsExpireAt = &expire
	tests := []struct {
		name    string
		payload []gitlab.Job
		api     []gitlab.Job
		want    []gitlab.Job
	}{
		{
			name:    "a retried sibling takes the payload's new id and keeps the API's stage",
			payload: []gitlab.Job{withArtifact(job(20, "build", "", "success"), "artifacts.zip", 7)},
			api:     []gitlab.Job{apiBuild, job(11, "lint", "test", "running")},
			want:    []gitlab.Job{withArtifact(job(20, "build", "build", "success"), "artifacts.zip", 7), job(11, "lint", "test", "running")},
		},
		{
			name:    "the same job keeps the richer API record",
			payload: []gitlab.Job{withArtifact(job(10, "build", "", "success"), "artifacts.zip", 100)},
			api:     []gitlab.Job{apiBuild},
			want:    []gitlab.Job{apiBuild},
		},
		{
			name:    "a stale API record of the same job learns the payload's artifact and status",
			payload: []gitlab.Job{withArtifact(job(10, "build", "", "success"), "artifacts.zip", 100)},
			api:     []gitlab.Job{job(10, "build", "build", "running")},
			want:    []gitlab.Job{withArtifact(job(10, "build", "build", "success"), "artifacts.zip", 100)},
		},
		{
			name:    "a finished API status is not overwritten by the payload's assumption",
			payload: []gitlab.Job{withArtifact(job(10, "build", "", "success"), "artifacts.zip", 100)},
			api:     []gitlab.Job{job(10, "build", "build", "failed")},
			want:    []gitlab.Job{withArtifact(job(10, "build", "build", "failed"), "artifacts.zip", 100)},
		},
		{
			name:    "the payload overrides even an API attempt with a higher id",
			payload: []gitlab.Job{job(10, "build", "", "")},
			api:     []gitlab.Job{job(30, "build", "build", "pending")},
			want:    []gitlab.Job{job(10, "build", "build", "")},
		},
		{
			name:    "without an API answer the payload is the list",
			payload: []gitlab.Job{job(2, "b", "", ""), job(1, "a", "", "")},
			want:    []gitlab.Job{job(1, "a", "", ""), job(2, "b", "", "")},
		},
		{
			name: "older API attempts are dropped",
			api:  []gitlab.Job{job(1, "a", "s", "failed"), job(5, "a", "s", "success")},
			want: []gitlab.Job{job(5, "a", "s", "success")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(tt.payload, tt.api)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestBuildSiblings(t *testing.T) {
	expire := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	build := withArtifact(job(101, "build", "build", "success"), "artifacts.zip", 2048)
	build.ArtifactsExpireAt = &expire
	jobs := []gitlab.Job{
		job(105, "test 2/2", "test", "running"),
		build,
		job(104, "test 1/2", "test", "running"), // this job
		job(99, "test 1/2", "test", "failed"),   // an earlier attempt of this job
		job(102, "deploy-prod", "deploy", "created"),
	}
	sibs, collisions := BuildSiblings(jobs, 104, testAPI+"/", testProject)
	want := []Sibling{
		{Name: "build", Var: "BUILD", ID: 101, Stage: "build", Status: "success",
			ArtifactFilename: "artifacts.zip", ArtifactSize: 2048, ArtifactExpireAt: &expire,
			URL: testAPI + "/jobs/101/artifacts", PublicURL: testAPI + "/projects/42/jobs/101/artifacts"},
		{Name: "deploy-prod", Var: "DEPLOY_PROD", ID: 102, Stage: "deploy", Status: "created",
			URL: testAPI + "/jobs/102/artifacts", PublicURL: testAPI + "/projects/42/jobs/102/artifacts"},
		{Name: "test 2/2", Var: "TEST_2_2", Group: "TEST", ID: 105, Stage: "test", Status: "running",
			URL: testAPI + "/jobs/105/artifacts", PublicURL: testAPI + "/projects/42/jobs/105/artifacts"},
	}
	if !reflect.DeepEqual(sibs, want) {
		t.Errorf("got  %+v\nwant %+v", sibs, want)
	}
	if collisions != nil {
		t.Errorf("collisions = %q, want none", collisions)
	}
}

func TestBuildSiblingsExcludesTheJobItself(t *testing.T) {
	tests := []struct {
		name   string
		jobs   []gitlab.Job
		selfID int64
		want   []string
	}{
		{
			name:   "the job is left out by id",
			jobs:   []gitlab.Job{job(1, "a", "", ""), job(2, "b", "", "")},
			selfID: 2,
			want:   []string{"a"},
		},
		{
			name:   "an earlier attempt of the job does not become a sibling",
			jobs:   []gitlab.Job{job(1, "a", "", "failed"), job(2, "a", "", "running"), job(3, "b", "", "")},
			selfID: 2,
			want:   []string{"b"},
		},
		{
			name:   "a job missing from the list leaves every job a sibling",
			jobs:   []gitlab.Job{job(1, "a", "", ""), job(3, "b", "", "")},
			selfID: 2,
			want:   []string{"a", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sibs, _ := BuildSiblings(tt.jobs, tt.selfID, testAPI, testProject)
			var got []string
			for _, s := range sibs {
				got = append(got, s.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// build_1_2 collides with "build 1/2", and build-1-2-2 already holds
// BUILD_1_2_2, so build_1_2 gets BUILD_1_2_3.
func TestBuildSiblingsAssignsVarsAndGroups(t *testing.T) {
	jobs := []gitlab.Job{
		job(1, "build 1/2", "", ""), job(2, "build 2/2", "", ""), job(3, "build_1_2", "", ""),
		job(4, "Test: [a]", "", ""), job(5, "test: [b]", "", ""),
		job(6, "compile: [linux, amd64]", "", ""), job(7, "build-1-2-2", "", ""),
	}
	sibs, collisions := BuildSiblings(jobs, 0, testAPI, testProject)
	got := make(map[string][2]string)
	for _, s := range sibs {
		got[s.Name] = [2]string{s.Var, s.Group}
	}
	want := map[string][2]string{
		"build 1/2": {"BUILD_1_2", "BUILD"}, "build 2/2": {"BUILD_2_2", "BUILD"}, "build_1_2": {"BUILD_1_2_3", ""},
		"Test: [a]": {"TEST_A", "TEST"}, "test: [b]": {"TEST_B", "TEST_2"},
		"compile: [linux, amd64]": {"COMPILE_LINUX_AMD64", "COMPILE"}, "build-1-2-2": {"BUILD_1_2_2", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	wantCollisions := [][]string{{"build 1/2", "build_1_2"}, {"Test", "test"}}
	if !reflect.DeepEqual(collisions, wantCollisions) {
		t.Errorf("collisions = %q, want %q", collisions, wantCollisions)
	}
}

func TestBuildSiblingsURL(t *testing.T) {
	tests := []struct {
		name, api, project, want string
	}{
		{"a numeric project id is used as is", testAPI, "42", testAPI + "/projects/42/jobs/7/artifacts"},
		{"a trailing slash of the API URL is dropped", testAPI + "/", "42", testAPI + "/projects/42/jobs/7/artifacts"},
		{"a project path is escaped", testAPI, "group/sub project", testAPI + "/projects/group%2Fsub%20project/jobs/7/artifacts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sibs, _ := BuildSiblings([]gitlab.Job{job(7, "a", "", "")}, 0, tt.api, tt.project)
			if sibs[0].PublicURL != tt.want {
				t.Errorf("PublicURL = %q, want %q", sibs[0].PublicURL, tt.want)
			}
			// ARTIFACT_URL_<N> is the runner route: every tier takes the job token there.
			if want := testAPI + "/jobs/7/artifacts"; sibs[0].URL != want {
				t.Errorf("URL = %q, want %q", sibs[0].URL, want)
			}
		})
	}
}

func TestMarkSources(t *testing.T) {
	payload := []gitlab.Job{job(20, "build", "", "success")}
	sibs, _ := BuildSiblings(Merge(payload, []gitlab.Job{job(10, "build", "build", "success"), job(11, "lint", "test", "success")}), 0, testAPI, testProject)
	MarkSources(sibs, payload)
	got := map[string]string{sibs[0].Name: sibs[0].Source, sibs[1].Name: sibs[1].Source}
	want := map[string]string{"build": SourcePayload, "lint": SourceAPI}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
