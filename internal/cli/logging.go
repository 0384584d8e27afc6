package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/term"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// ANSI colours of the runner's own job-log lines (yellow warnings, bold red
// errors), so our lines read like the runner's.
const (
	ansiWarn  = "\x1b[0;33m"
	ansiError = "\x1b[31;1m"
	ansiReset = "\x1b[0;m"
)

// jobLogFormatter writes one plain line per entry: no timestamp (the runner
// stamps job-log lines), a WARNING:/ERROR: prefix in the runner's colours,
// fields only at debug level.
type jobLogFormatter struct{}

func (f *jobLogFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b bytes.Buffer
	colour, prefix := "", ""
	switch e.Level {
	case logrus.WarnLevel:
		colour, prefix = ansiWarn, "WARNING: "
	case logrus.ErrorLevel, logrus.FatalLevel, logrus.PanicLevel:
		colour, prefix = ansiError, "ERROR: "
	}
	if !useColour() {
		colour = ""
	}
	b.WriteString(colour + prefix + secret.Mask(e.Message))
	if e.Logger.IsLevelEnabled(logrus.DebugLevel) && len(e.Data) > 0 {
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%s", k, secret.Mask(fmt.Sprint(e.Data[k])))
		}
	}
	if colour != "" {
		b.WriteString(ansiReset)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// useColour: in a job log (the runner renders ANSI) or on a terminal.
func useColour() bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	if os.Getenv("GITLAB_CI") != "" || os.Getenv("CUSTOM_ENV_GITLAB_CI") != "" {
		return true
	}
	return term.IsTerminal(int(os.Stderr.Fd()))
}

// maskSecret registers a token with the process-wide register every output
// path masks with.
func maskSecret(v string) { secret.Register(v) }

// inJobLog tells whether stderr ends up in a GitLab job log, where
// collapsible sections render.
func inJobLog() bool {
	return os.Getenv("GITLAB_CI") != "" || os.Getenv("CUSTOM_ENV_GITLAB_CI") != ""
}

// section writes a collapsed GitLab job-log section: the header stays
// visible, the body folds away. Outside a job log it writes the header and
// an indented body. GitLab's markers need Unix times; the lines themselves
// carry no timestamp (the runner adds its own).
func section(name, header string, start, end time.Time, body []string) {
	var b strings.Builder
	b.WriteString(sectionStart(name, header, start))
	for _, l := range body {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString(sectionEnd(name, end))
	_, _ = io.WriteString(logrus.StandardLogger().Out, secret.Mask(b.String()))
}

func sectionStart(name, header string, at time.Time) string {
	if !inJobLog() {
		return header + "\n"
	}
	return fmt.Sprintf("\x1b[0Ksection_start:%d:%s[collapsed=true]\r\x1b[0K%s\n", at.Unix(), name, header)
}

func sectionEnd(name string, at time.Time) string {
	if !inJobLog() {
		return ""
	}
	return fmt.Sprintf("\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", at.Unix(), name)
}

// sectionWriter folds what is written to it (a download's progress lines)
// into a collapsed section, opened by the first write; Close ends it.
type sectionWriter struct {
	w            io.Writer
	name, header string
	opened       bool
}

func (s *sectionWriter) Write(p []byte) (int, error) {
	if !s.opened {
		s.opened = true
		if _, err := io.WriteString(s.w, sectionStart(s.name, s.header, time.Now())); err != nil {
			return 0, err
		}
	}
	return s.w.Write(p)
}

func (s *sectionWriter) Close() error {
	if !s.opened {
		return nil
	}
	_, err := io.WriteString(s.w, sectionEnd(s.name, time.Now()))
	return err
}
