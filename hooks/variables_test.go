package hooks

import (
	"maps"
	"testing"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

func TestVariables(t *testing.T) {
	u := func(id string) string { return testAPI + "/jobs/" + id + "/artifacts" }
	tests := []struct {
		name     string
		jobs     []gitlab.Job
		selfID   int64
		manifest string
		want     map[string]string
	}{
		{
			name: "each sibling gets its URL and job id",
			jobs: []gitlab.Job{job(1, "build", "", ""), job(2, "deploy-prod", "", "")},
			want: map[string]string{
				"ARTIFACT_URL_BUILD": u("1"), "ARTIFACT_JOB_ID_BUILD": "1",
				"ARTIFACT_URL_DEPLOY_PROD": u("2"), "ARTIFACT_JOB_ID_DEPLOY_PROD": "2",
			},
		},
		{
			name:     "the manifest path is given when there is one",
			jobs:     []gitlab.Job{job(1, "build", "", "")},
			manifest: "/tmp/x/manifest.json",
			want: map[string]string{
				"ARTIFACT_URL_BUILD": u("1"), "ARTIFACT_JOB_ID_BUILD": "1",
				"PIPELINE_ARTIFACTS_MANIFEST": "/tmp/x/manifest.json",
			},
		},
		{
			name: "a parallel group lists its members by index value, not bytewise",
			jobs: []gitlab.Job{job(10, "test 10/10", "", ""), job(2, "test 2/10", "", ""), job(1, "test 1/10", "", "")},
			want: map[string]string{
				"ARTIFACT_URL_TEST_1_10": u("1"), "ARTIFACT_JOB_ID_TEST_1_10": "1",
				"ARTIFACT_URL_TEST_2_10": u("2"), "ARTIFACT_JOB_ID_TEST_2_10": "2",
				"ARTIFACT_URL_TEST_10_10": u("10"), "ARTIFACT_JOB_ID_TEST_10_10": "10",
				"ARTIFACT_URLS_TEST": u("1") + " " + u("2") + " " + u("10"),
			},
		},
		{
			name:   "a job's own group lists only the other members",
			jobs:   []gitlab.Job{job(1, "test 1/3", "", ""), job(2, "test 2/3", "", ""), job(3, "test 3/3", "", "")},
			selfID: 2,
			want: map[string]string{
				"ARTIFACT_URL_TEST_1_3": u("1"), "ARTIFACT_JOB_ID_TEST_1_3": "1",
				"ARTIFACT_URL_TEST_3_3": u("3"), "ARTIFACT_JOB_ID_TEST_3_3": "3",
				"ARTIFACT_URLS_TEST": u("1") + " " + u("3"),
			},
		},
		{
			name: "a matrix group lists its members in name order",
			jobs: []gitlab.Job{job(2, "build: [linux, arm64]", "", ""), job(1, "build: [linux, amd64]", "", "")},
			want: map[string]string{
				"ARTIFACT_URL_BUILD_LINUX_AMD64": u("1"), "ARTIFACT_JOB_ID_BUILD_LINUX_AMD64": "1",
				"ARTIFACT_URL_BUILD_LINUX_ARM64": u("2"), "ARTIFACT_JOB_ID_BUILD_LINUX_ARM64": "2",
				"ARTIFACT_URLS_BUILD": u("1") + " " + u("2"),
			},
		},
		{
			name: "colliding names get distinct variables",
			jobs: []gitlab.Job{job(1, "build 1/2", "", ""), job(2, "build_1_2", "", "")},
			want: map[string]string{
				"ARTIFACT_URL_BUILD_1_2": u("1"), "ARTIFACT_JOB_ID_BUILD_1_2": "1",
				"ARTIFACT_URL_BUILD_1_2_2": u("2"), "ARTIFACT_JOB_ID_BUILD_1_2_2": "2",
				"ARTIFACT_URLS_BUILD": u("1"),
			},
		},
		{
			name: "no siblings and no manifest give no variables",
			want: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sibs, _ := BuildSiblings(tt.jobs, tt.selfID, testAPI, testProject)
			got := Variables(sibs, tt.manifest)
			if !maps.Equal(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
			for name := range got {
				if !validVarName(name) {
					t.Errorf("%q is not a valid variable name", name)
				}
			}
		})
	}
}
