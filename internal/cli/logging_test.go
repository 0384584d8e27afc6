package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestJobLogOutput(t *testing.T) {
	var buf bytes.Buffer
	setupLogging(&buf, true)
	t.Cleanup(func() { setupLogging(os.Stderr, false) })
	t.Setenv("GITLAB_CI", "true")
	t.Setenv("NO_COLOR", "")
	maskSecret("glpat-0123456789-very-secret")
	start := time.Unix(1700000000, 0)

	section("pipeline_artifacts_siblings", "pipeline-artifacts: 2 siblings", start, start.Add(time.Second), []string{"ARTIFACT_URL_A", "ARTIFACT_URL_B"})
	logrus.WithField("detail", "token=glpat-0123456789-very-secret").Warn("refused glpat-0123456789-very-secret")
	logrus.Debug("a debug line")
	out := buf.String()

	for _, want := range []string{
		"\x1b[0Ksection_start:1700000000:pipeline_artifacts_siblings[collapsed=true]\r\x1b[0Kpipeline-artifacts: 2 siblings\n",
		"  ARTIFACT_URL_B\n",
		"\x1b[0Ksection_end:1700000001:pipeline_artifacts_siblings\r\x1b[0K\n",
		ansiWarn + "WARNING: refused [MASKED] detail=token=[MASKED]" + ansiReset + "\n",
		"a debug line\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "very-secret") {
		t.Error("a registered secret was printed")
	}
	if strings.Contains(out, "time=") || strings.Contains(out, "level=") {
		t.Error("log lines carry timestamps or levels of their own")
	}
}
