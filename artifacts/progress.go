package artifacts

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// meter counts bytes for progress reports and for the retry loop's
// "did this round make progress" test. Workers update it concurrently.
type meter struct {
	done     atomic.Int64 // bytes in the file now (drops to 0 on a restart)
	total    atomic.Int64 // the body's length, -1 while unknown
	received atomic.Int64 // every byte ever received, restarts included
}

func (m *meter) add(n int) {
	m.done.Add(int64(n))
	m.received.Add(int64(n))
}

// clock is real time, replaced in tests so that nothing waits for it.
type clock struct {
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	ticker func(d time.Duration) (<-chan time.Time, func())
}

func (c clock) orReal() clock {
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.ticker == nil {
		c.ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// terminalRedraw is how often a terminal's progress bar is redrawn.
const terminalRedraw = 200 * time.Millisecond

// startProgress reports m's progress to o.Progress until the returned
// function is called. Nothing is printed before the first byte arrives, so
// waiting for an archive does not fill a job log with zeros.
func startProgress(o *Options, m *meter) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	every := o.ProgressEvery
	if o.Terminal {
		every = terminalRedraw
	}
	ticks, stopTicker := o.clock.ticker(every)
	r := &reporter{w: o.Progress, term: o.Terminal, label: o.Job, m: m, now: o.clock.now}
	r.lastAt = r.now()
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-ticks:
				r.tick()
			case <-quit:
				r.close()
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		stopTicker()
	}
}

// reporter renders progress: on a terminal one line redrawn with \r, in a
// CI log one line per tick.
type reporter struct {
	w     io.Writer
	term  bool
	label string
	m     *meter
	now   func() time.Time

	lastAt   time.Time
	lastDone int64
	rate     float64 // bytes per second over the last tick
	drawn    bool
}

func (r *reporter) tick() {
	done, now := r.m.done.Load(), r.now()
	if done == 0 && !r.drawn {
		r.lastAt = now
		return
	}
	if dt := now.Sub(r.lastAt).Seconds(); dt > 0 {
		r.rate = max(float64(done-r.lastDone), 0) / dt
	}
	r.lastAt, r.lastDone = now, done
	line := progressLine(r.label, done, r.m.total.Load(), r.rate, r.term)
	if r.term {
		fmt.Fprintf(r.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(r.w, line)
	}
	r.drawn = true
}

// close finishes a terminal's line so that the next output starts on its
// own; a CI log gets the caller's summary line instead.
func (r *reporter) close() {
	if r.term && r.drawn {
		r.tick()
		fmt.Fprintln(r.w)
	}
}

// progressLine is e.g. "job build: 120.0 MiB of 1.0 GiB (11%), 25.3 MiB/s,
// 35s left"; a terminal gets a bar in front instead of the label.
func progressLine(label string, done, total int64, rate float64, bar bool) string {
	var b strings.Builder
	if bar && total > 0 {
		const width = 20
		full := int(min(done, total) * width / total)
		b.WriteString("[" + strings.Repeat("=", full) + strings.Repeat(" ", width-full) + "] ")
	} else {
		b.WriteString(label + ": ")
	}
	b.WriteString(FormatBytes(done))
	if total >= 0 {
		fmt.Fprintf(&b, " of %s (%d%%)", FormatBytes(total), percent(done, total))
	}
	fmt.Fprintf(&b, ", %s/s", FormatBytes(int64(rate)))
	if total > done && rate > 0 {
		fmt.Fprintf(&b, ", %s left", eta(float64(total-done)/rate))
	}
	return b.String()
}

func percent(done, total int64) int64 {
	if total <= 0 {
		return 100
	}
	return min(done, total) * 100 / total
}

func eta(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%ds", int(d.Seconds()+0.5))
}

// FormatBytes renders n in binary units: "512 B", "1.5 KiB", "1.0 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
