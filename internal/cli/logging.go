package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/term"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/joblog"
	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// jobLogFormatter hands logrus entries to joblog: one masked line, fields
// only at debug level.
type jobLogFormatter struct{}

func (f *jobLogFormatter) Format(e *logrus.Entry) ([]byte, error) {
	level := joblog.Info
	switch e.Level {
	case logrus.WarnLevel:
		level = joblog.Warn
	case logrus.ErrorLevel, logrus.FatalLevel, logrus.PanicLevel:
		level = joblog.Error
	}
	var fields []joblog.Field
	if e.Logger.IsLevelEnabled(logrus.DebugLevel) {
		for k, v := range e.Data {
			fields = append(fields, joblog.Field{Key: k, Value: secret.Mask(fmt.Sprint(v))})
		}
		sort.Slice(fields, func(i, j int) bool { return fields[i].Key < fields[j].Key })
	}
	return []byte(joblog.Line(level, secret.Mask(e.Message), fields, useColour())), nil
}

// useColour: in a job log (the runner renders ANSI) or on a terminal.
func useColour() bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	return inJobLog() || term.IsTerminal(int(os.Stderr.Fd()))
}

// maskSecret registers a token with the process-wide register every output
// path masks with.
func maskSecret(v string) { secret.Register(v) }

func inJobLog() bool { return joblog.InJobLog(os.Getenv) }

// section writes a collapsed job-log section to the log.
func section(name, header string, start, end time.Time, body []string) {
	_, _ = io.WriteString(logrus.StandardLogger().Out, secret.Mask(joblog.Section(name, header, start, end, body, inJobLog())))
}

// sectionWriter folds a download's progress lines into a section.
type sectionWriter struct {
	w            io.Writer
	name, header string
	fold         *joblog.Fold
}

func (s *sectionWriter) Write(p []byte) (int, error) {
	if s.fold == nil {
		s.fold = &joblog.Fold{W: s.w, Name: s.name, Header: s.header, InJobLog: inJobLog()}
	}
	return s.fold.Write(p)
}

func (s *sectionWriter) Close() error {
	if s.fold == nil {
		return nil
	}
	return s.fold.Close()
}
