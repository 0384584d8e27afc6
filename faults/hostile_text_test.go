package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
)

// forged is what a hostile GitLab puts into every string it controls: a
// line break, a carriage return and ANSI sequences that would rewrite the
// job log's line into a forged one, and shell syntax for whoever evals.
const forged = "x\n\rERROR: forged\x1b[2K\x1b[32mJob succeeded\x1b]8;;http://evil/\x07$(touch pwned)`touch pwned2`'\"\x00"

// controlFree reports the first control character of out other than a
// line break and our own colour sequences, or "".
func controlFree(out string) string {
	for _, ours := range []string{"\r\x1b[0K", "\x1b[0;33m", "\x1b[31;1m", "\x1b[0;m", "\x1b[0K"} {
		out = strings.ReplaceAll(out, ours, "")
	}
	for _, r := range out {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Sprintf("%q", r)
		}
	}
	return ""
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFaultHostileText: server-controlled strings (job names, error
// messages) reach the job log as one line without control characters, and
// env's output evaluates to exactly the names GitLab sent.
func TestFaultHostileText(t *testing.T) {
	t.Parallel()
	jobs := fmt.Sprintf(`[{"id":1000,"name":%s,"stage":"build","status":"success","artifacts_file":{"filename":"a.zip","size":10}},`+
		`{"id":1001,"name":"build","stage":"build","status":"success","artifacts_file":{"filename":"a.zip","size":10}},`+
		`{"id":1002,"name":"lint","stage":"build","status":%s,"artifacts_file":{"filename":%s,"size":10}},`+
		`{"id":1003,"name":"deploy","stage":"deploy","status":"running"}]`, jsonString(forged), jsonString("success\r\x1b[2Kforged"), jsonString("a.zip\nERROR: forged"))
	message := fmt.Sprintf(`{"message":%s}`, jsonString("404 Not found\r\x1b[2K\x1b[32mJob succeeded"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/pipelines/7001/jobs") {
			w.Write([]byte(jobs))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(message))
	}))
	t.Cleanup(srv.Close)
	env := []string{"CI_JOB_TOKEN=" + jobToken, "CI_API_V4_URL=" + srv.URL + "/api/v4", "CI_PROJECT_ID=42",
		"CI_PIPELINE_ID=7001", "CI_JOB_ID=1003", "CI_JOB_NAME=deploy", "GITLAB_CI=true", "PIPELINE_ARTIFACTS_DEBUG=1"}

	t.Run("env with a job name full of control characters and shell syntax", func(t *testing.T) {
		t.Parallel()
		inject(t, "a job name holds a line break, CR, ANSI and OSC sequences, NUL and shell syntax",
			"env exits 0, its output evals without running anything, the log has no control character")
		dir := t.TempDir()
		p := run(t, dir, env, "env")
		if p.code() != 0 {
			t.Fatalf("env failed the job: %v", p)
		}
		if c := controlFree(p.stderr.String()); c != "" {
			t.Errorf("the log holds the control character %s:\n%s", c, p.stderr.String())
		}
		bash := exec.Command("bash", "-c", `set -eu; eval "$0"; echo "ok $ARTIFACT_URL_BUILD"`, p.stdout.String())
		bash.Dir = dir
		if out, err := bash.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok http") {
			t.Errorf("eval of env's output: %v\n%s", err, out)
		}
		nothingLost(t, dir, map[string]string{})
	})

	t.Run("download whose error message holds CR and ANSI sequences", func(t *testing.T) {
		t.Parallel()
		inject(t, "GitLab's 404 message holds a CR and ANSI sequences that would forge a success line",
			"exit 3 with one error line without control characters")
		p := run(t, t.TempDir(), env, "download", "--job-id", "1001", "-o", "out.zip")
		if p.code() != 3 {
			t.Fatalf("want exit 3: %v", p)
		}
		if c := controlFree(p.stderr.String()); c != "" {
			t.Errorf("the log holds the control character %s:\n%q", c, p.stderr.String())
		}
	})
}
