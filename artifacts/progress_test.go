package artifacts

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatBytes(t *testing.T) {
	cases := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 25 << 20: "25.0 MiB", 1 << 30: "1.0 GiB"}
	for n, want := range cases {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	cases := []struct {
		name        string
		done, total int64
		rate        float64
		bar         bool
		want        string
	}{
		{"a CI log line with a known size", 120 << 20, 1 << 30, 25 << 20, false, "job build: 120.0 MiB of 1.0 GiB (11%), 25.0 MiB/s, 36s left"},
		{"a CI log line without a size", 3 << 20, -1, 1 << 20, false, "job build: 3.0 MiB, 1.0 MiB/s"},
		{"a long remainder in minutes", 0, 1 << 30, 1 << 20, false, "job build: 0 B of 1.0 GiB (0%), 1.0 MiB/s, 17m4s left"},
		{"a terminal bar", 1 << 29, 1 << 30, 1 << 20, true, "[==========          ] 512.0 MiB of 1.0 GiB (50%), 1.0 MiB/s, 8m32s left"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := progressLine("job build", tc.done, tc.total, tc.rate, tc.bar); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// progressRun feeds a reporter one tick per step, with a fake clock that
// moves 5 seconds between ticks.
func progressRun(t *testing.T, terminal bool, steps []int64) string {
	t.Helper()
	var out bytes.Buffer
	clk := newFakeClock()
	var m meter
	m.total.Store(4 << 20)
	r := &reporter{w: &out, term: terminal, label: "job build", m: &m, now: clk.now, lastAt: clk.now()}
	for _, done := range steps {
		m.done.Store(done)
		_ = clk.sleep(t.Context(), 5*time.Second)
		r.tick()
	}
	r.close()
	return out.String()
}

func TestStartProgressReportsOnEachTickUntilStopped(t *testing.T) {
	var out bytes.Buffer
	ticks := make(chan time.Time)
	clk := newFakeClock()
	o := Options{Job: "job build", Progress: &out, clock: clock{
		now:    clk.now,
		ticker: func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} },
	}}
	var m meter
	m.total.Store(-1)
	stop := startProgress(&o, &m)
	m.add(1 << 20)
	_ = clk.sleep(t.Context(), time.Second)
	ticks <- time.Time{}
	stop()
	if got := out.String(); got != "job build: 1.0 MiB, 1.0 MiB/s\n" {
		t.Errorf("got %q", got)
	}
}

func TestProgressInACILogPrintsALinePerTick(t *testing.T) {
	got := progressRun(t, false, []int64{0, 1 << 20, 4 << 20})
	want := "job build: 1.0 MiB of 4.0 MiB (25%), 204.8 KiB/s, 15s left\n" +
		"job build: 4.0 MiB of 4.0 MiB (100%), 614.4 KiB/s\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestProgressOnATerminalRedrawsOneLine(t *testing.T) {
	got := progressRun(t, true, []int64{2 << 20})
	if !strings.HasPrefix(got, "\r[==========          ] 2.0 MiB of 4.0 MiB (50%)") || !strings.HasSuffix(got, "\x1b[K\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("terminal output %q", got)
	}
}

func TestProgressPrintsNothingBeforeTheFirstByte(t *testing.T) {
	if got := progressRun(t, false, []int64{0, 0}); got != "" {
		t.Errorf("printed %q while nothing arrived", got)
	}
}
