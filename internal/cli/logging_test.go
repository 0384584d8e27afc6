package cli

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/joblog"
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
		joblog.ANSIWarn + "WARNING: refused [MASKED] detail=token=[MASKED]" + joblog.ANSIReset + "\n",
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

func TestDownloadProgressFoldsIntoASection(t *testing.T) {
	t.Setenv("GITLAB_CI", "true")
	var buf bytes.Buffer
	sw := &sectionWriter{w: &buf, name: "pipeline_artifacts_download", header: "pipeline-artifacts: downloading job 7"}
	if err := sw.Close(); err != nil || buf.Len() != 0 {
		t.Fatalf("a section with no progress line was written: %q", buf.String())
	}
	_, _ = io.WriteString(sw, "12 MiB of 40 MiB\n")
	_, _ = io.WriteString(sw, "24 MiB of 40 MiB\n")
	_ = sw.Close()
	out := buf.String()
	if strings.Count(out, "section_start:") != 1 || strings.Count(out, "section_end:") != 1 ||
		!strings.Contains(out, "[collapsed=true]\r\x1b[0Kpipeline-artifacts: downloading job 7\n12 MiB of 40 MiB\n24 MiB") {
		t.Errorf("section: %q", out)
	}
}
