package joblog_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/joblog"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name   string
		level  joblog.Level
		fields []joblog.Field
		colour bool
		want   string
	}{
		{"an info line is the message alone", joblog.Info, nil, true, "resolved\n"},
		{"a warning carries the runner's prefix and colour", joblog.Warn, nil, true, joblog.ANSIWarn + "WARNING: resolved" + joblog.ANSIReset + "\n"},
		{"without colour only the prefix stays", joblog.Error, nil, false, "ERROR: resolved\n"},
		{"fields follow as key=value", joblog.Info, []joblog.Field{{"stage", "config"}, {"job_id", "7"}}, false, "resolved stage=config job_id=7\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := joblog.Line(tt.level, "resolved", tt.fields, tt.colour); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSectionOutsideAJobLogIsHeaderAndBody(t *testing.T) {
	at := time.Unix(1700000000, 0)
	got := joblog.Section("s", "2 siblings", at, at, []string{"A", "B"}, false)
	if want := "2 siblings\n  A\n  B\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFoldOpensOnFirstWriteOnly(t *testing.T) {
	var buf bytes.Buffer
	f := &joblog.Fold{W: &buf, Name: "dl", Header: "downloading", InJobLog: false}
	if err := f.Close(); err != nil || buf.Len() != 0 {
		t.Fatalf("an empty fold wrote %q", buf.String())
	}
	_, _ = io.WriteString(f, "1 MiB\n")
	_ = f.Close()
	if want := "downloading\n1 MiB\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestALineWithAServersTextStaysOneLine(t *testing.T) {
	msg := "404 Not found\r\x1b[2K\x1b[32mJob succeeded\nERROR: forged\x1b]8;;http://evil/\a\u009b\u2028\xff\tend"
	got := joblog.Line(joblog.Warn, msg, []joblog.Field{{Key: "job", Value: "a\nb"}}, true)
	want := joblog.ANSIWarn + `WARNING: 404 Not found\r\x1b[2K\x1b[32mJob succeeded\nERROR: forged\x1b]8;;http://evil/\a\u009b\u2028` + "\uFFFD\tend" +
		` job=a\nb` + joblog.ANSIReset + "\n"
	if got != want {
		t.Errorf("Line =\n%q\nwant\n%q", got, want)
	}
}

func TestASectionWithAServersTextKeepsItsLines(t *testing.T) {
	at := time.Unix(1700000000, 0)
	got := joblog.Section("s", "head\rforged", at, at, []string{"a.zip\nERROR: forged", "success\x1b[2K"}, true)
	want := "\x1b[0Ksection_start:1700000000:s[collapsed=true]\r\x1b[0Khead\\rforged\n" +
		"  a.zip\\nERROR: forged\n  success\\x1b[2K\n" +
		"\x1b[0Ksection_end:1700000000:s\r\x1b[0K\n"
	if got != want {
		t.Errorf("Section =\n%q\nwant\n%q", got, want)
	}
}
