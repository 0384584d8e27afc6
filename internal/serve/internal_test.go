package serve

import (
	"errors"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/hooks"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

func TestCommentsKeepEveryWarningOnOneCommentLine(t *testing.T) {
	res := &hooks.Resolution{Warnings: []string{"child pipeline 7 of \"x\nexport EVIL='1'\" not listed\r\n$(touch /tmp/pwned)"}}
	for _, format := range []string{"sh", "powershell"} {
		got := comments(format, res)
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "# pipeline-artifacts: ") {
			t.Errorf("%s: %q", format, got)
		}
	}
	for _, format := range []string{"dotenv", "json"} {
		if got := comments(format, res); got != "" {
			t.Errorf("%s has no comments, got %q", format, got)
		}
	}
}

func TestCallOfNamesGitLabCallsWithoutIds(t *testing.T) {
	cases := map[string]string{
		"/api/v4/job":                                 "job",
		"/api/v4/version":                             "version",
		"/api/v4/projects/42/pipelines/7/jobs":        "jobs",
		"/api/v4/projects/42/pipelines/7/bridges":     "bridges",
		"/api/v4/jobs/1000/artifacts":                 "runner_artifacts",
		"/api/v4/projects/42/jobs/1000/artifacts/a/b": "artifact_file",
		"/bucket/1000/artifacts.zip":                  "object_store",
	}
	for path, want := range cases {
		if got := callOf(path); got != want {
			t.Errorf("callOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestTriggeredFindsChildrenOfTheRightProjectOnly(t *testing.T) {
	bridges := []gitlab.Job{
		{Name: "same project", DownstreamPipeline: &gitlab.Pipeline{ID: 8}},
		{Name: "other project", DownstreamPipeline: &gitlab.Pipeline{ID: 9, ProjectID: 77}},
		{Name: "not triggered yet"},
	}
	cases := []struct {
		name    string
		project string
		pid     int64
		want    bool
	}{
		{"a child in the bridge's own project", "42", 8, true},
		{"a child in another project", "77", 9, true},
		{"the right id in the wrong project", "42", 9, false},
		{"a pipeline no bridge triggered", "42", 10, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := triggered(bridges, "42", c.project, c.pid); got != c.want {
				t.Errorf("got %t", got)
			}
		})
	}
}

func TestOneLineKeepsEachErrorFindable(t *testing.T) {
	api := &gitlab.APIError{StatusCode: 404}
	err := oneLine{errors.New("job token: refused"), api}
	if strings.Contains(err.Error(), "\n") || !gitlab.IsStatus(err, 404) {
		t.Errorf("%q: status lost or more than one line", err.Error())
	}
}

func TestWithoutCallerLeavesOutEveryAttemptOfItsNameInItsPipelineOnly(t *testing.T) {
	family := &hooks.Resolution{Siblings: []hooks.Sibling{
		{Name: "build", ID: 1}, {Name: "deploy", ID: 2}, {Name: "deploy", ID: 5, Relation: hooks.RelationChild},
	}}
	got := withoutCaller(family, caller{JobID: 3, Name: "deploy"})
	if len(got.Siblings) != 2 || got.Siblings[0].Name != "build" || got.Siblings[1].Relation != hooks.RelationChild || got.JobID != 3 {
		t.Errorf("%+v", got.Siblings)
	}
	if len(family.Siblings) != 3 {
		t.Error("the shared family resolution was changed")
	}
}

func TestWarnMasksTheRequestsJobToken(t *testing.T) {
	var buf strings.Builder
	log := logrus.New()
	log.SetOutput(&buf)
	s := &Service{cfg: Config{Log: logrus.NewEntry(log)}}
	s.warn("glcbt-SECRET-0001", 7, "GitLab said glcbt-SECRET-0001 is bad")
	if strings.Contains(buf.String(), "glcbt-SECRET-0001") || !strings.Contains(buf.String(), "[MASKED]") {
		t.Errorf("log: %s", buf.String())
	}
}

func TestAttachmentNamesOnlyTheBaseNameSafely(t *testing.T) {
	cases := []struct{ name, entry, want string }{
		{"a plain name", "dist/app.tar", "attachment; filename=app.tar"},
		{"a name with a space", "dist/my app.txt", `attachment; filename="my app.txt"`},
		{"quotes and control characters", "x/a\"b\r\nc", `attachment; filename=a_b__c`},
		{"a name beyond ASCII", "docs/résumé.pdf", "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := attachment(c.entry); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestHoldBackPassesTheLastByteOnlyOnRelease(t *testing.T) {
	var out strings.Builder
	h := &holdBack{w: &out, room: 4}
	for _, p := range []string{"ab", "cd", "e", "XYZ"} { // 3 bytes more than declared
		if n, err := h.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if out.String() != "abcd" {
		t.Fatalf("before release: %q", out.String())
	}
	if err := h.release(); err != nil || out.String() != "abcde" {
		t.Errorf("after release: %q, %v", out.String(), err)
	}
}
