package cli

import (
	"bytes"
	"fmt"
	"os"
	"sort"

	"github.com/sirupsen/logrus"
	"golang.org/x/term"
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
	b.WriteString(colour + prefix + e.Message)
	if e.Logger.IsLevelEnabled(logrus.DebugLevel) && len(e.Data) > 0 {
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%v", k, e.Data[k])
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
