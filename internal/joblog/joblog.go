// Package joblog writes lines the way a GitLab job log shows them: no
// timestamp (the runner stamps each line), WARNING:/ERROR: in the runner's
// own colours, and collapsible sections.
//
// Sections: https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections
package joblog

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ANSI colours of the runner's own job-log lines (yellow warnings, bold red
// errors), so that our lines read like the runner's.
const (
	ANSIWarn  = "\x1b[0;33m"
	ANSIError = "\x1b[31;1m"
	ANSIReset = "\x1b[0;m"
)

// Level is a line's severity.
type Level int

const (
	Info Level = iota
	Warn
	Error
)

// Field is a key and its value, appended to a line as key=value.
type Field struct{ Key, Value string }

// Line renders one log line, newline included.
func Line(l Level, msg string, fields []Field, colour bool) string {
	var b strings.Builder
	c, prefix := "", ""
	switch l {
	case Warn:
		c, prefix = ANSIWarn, "WARNING: "
	case Error:
		c, prefix = ANSIError, "ERROR: "
	}
	if !colour {
		c = ""
	}
	b.WriteString(c + prefix + OneLine(msg))
	for _, f := range fields {
		fmt.Fprintf(&b, " %s=%s", OneLine(f.Key), OneLine(f.Value))
	}
	if c != "" {
		b.WriteString(ANSIReset)
	}
	b.WriteByte('\n')
	return b.String()
}

// OneLine escapes every control character of s (line breaks, carriage
// returns, ANSI and OSC escapes, DEL, C1 controls; tabs stay) the way Go
// quotes them (\r, \x1b), and writes invalid UTF-8 as U+FFFD: a message
// may carry text a server chose (an error body, a job name), and one record
// must stay one line that cannot rewrite, recolour or forge another.
func OneLine(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !isControl(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		r == '\u2028' || r == '\u2029'
}

// InJobLog tells from the environment whether our output ends up in a GitLab
// job log, where sections and colours render: a job sees GITLAB_CI, a
// custom-executor driver CUSTOM_ENV_GITLAB_CI.
func InJobLog(getenv func(string) string) bool {
	return getenv("GITLAB_CI") != "" || getenv("CUSTOM_ENV_GITLAB_CI") != ""
}

// SectionStart opens a collapsed section; outside a job log it is the
// header alone. GitLab's markers carry Unix times.
func SectionStart(name, header string, at time.Time, inJobLog bool) string {
	header = OneLine(header)
	if !inJobLog {
		return header + "\n"
	}
	return fmt.Sprintf("\x1b[0Ksection_start:%d:%s[collapsed=true]\r\x1b[0K%s\n", at.Unix(), name, header)
}

// SectionEnd closes a section; outside a job log it is nothing.
func SectionEnd(name string, at time.Time, inJobLog bool) string {
	if !inJobLog {
		return ""
	}
	return fmt.Sprintf("\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", at.Unix(), name)
}

// Section renders a whole section: the header stays visible, the indented
// body folds away. Header and body lines may quote a server's text (a job's
// status, an archive's file name): each stays one line, as in Line.
func Section(name, header string, start, end time.Time, body []string, inJobLog bool) string {
	var b strings.Builder
	b.WriteString(SectionStart(name, header, start, inJobLog))
	for _, l := range body {
		b.WriteString("  " + OneLine(l) + "\n")
	}
	b.WriteString(SectionEnd(name, end, inJobLog))
	return b.String()
}

// Fold folds what is written to it (a download's progress lines) into a
// section, opened by the first write; Close ends it and does not close W.
type Fold struct {
	W            io.Writer
	Name, Header string
	InJobLog     bool
	opened       bool
}

func (f *Fold) Write(p []byte) (int, error) {
	if !f.opened {
		f.opened = true
		if _, err := io.WriteString(f.W, SectionStart(f.Name, f.Header, time.Now(), f.InJobLog)); err != nil {
			return 0, err
		}
	}
	return f.W.Write(p)
}

// Close ends the section, if one was opened.
func (f *Fold) Close() error {
	if !f.opened {
		return nil
	}
	_, err := io.WriteString(f.W, SectionEnd(f.Name, time.Now(), f.InJobLog))
	return err
}
