package cli

import (
	"io"
	"os"

	ucli "github.com/urfave/cli/v2"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/secret"
)

// streams carries the process's streams through the app; logic never sees
// *ucli.Context. stdout and stderr mask every registered credential.
type streams struct {
	stdout, stderr io.Writer
	environ        func() []string
}

// maskedStream passes what we write through secret.Mask, except once raw
// is set: the archive `download -o -` streams is binary data, which masking
// could corrupt and which holds no message of ours.
type maskedStream struct {
	w   io.Writer
	raw bool
}

func (m *maskedStream) Write(p []byte) (int, error) {
	if m.raw {
		return m.w.Write(p)
	}
	return secret.Writer{W: m.w}.Write(p)
}

// Unmasked is the stream itself, for child processes (a stage script, an
// inner driver), which get the file descriptor as they would from the runner.
func (m *maskedStream) Unmasked() io.Writer { return m.w }

// maskedFile keeps a terminal recognisable: Fd lets progress output see
// that stderr is one.
type maskedFile struct {
	*maskedStream
	f *os.File
}

func (m maskedFile) Fd() uintptr { return m.f.Fd() }

func masking(w io.Writer) (io.Writer, *maskedStream) {
	m := &maskedStream{w: w}
	if f, ok := w.(*os.File); ok {
		return maskedFile{m, f}, m
	}
	return m, m
}

// unmasked returns the stream under a masking one, for child processes.
func unmasked(w io.Writer) io.Writer {
	if u, ok := w.(interface{ Unmasked() io.Writer }); ok {
		return u.Unmasked()
	}
	return w
}

// binaryStdout turns masking off for stdout when the download command
// writes the archive there.
func binaryStdout(cmds []*ucli.Command, stdout *maskedStream) {
	for _, cmd := range cmds {
		if cmd.Name != "download" {
			continue
		}
		before := cmd.Before
		cmd.Before = func(c *ucli.Context) error {
			stdout.raw = c.String("output") == "-"
			if before != nil {
				return before(c)
			}
			return nil
		}
	}
}
