package artifacts

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// errStalled is the read error of a body that delivered nothing for the
// stall timeout. It is retried (and resumed) like any broken body.
var errStalled = errors.New("no data received")

// watchdog closes a response body that stops delivering bytes, so that the
// blocked Read fails and the retry policy takes over: a connection can stay
// open for hours without moving a byte, and only the overall deadline would
// end it otherwise.
type watchdog struct {
	body    io.ReadCloser
	d       time.Duration
	timer   *time.Timer
	stalled atomic.Bool
}

func watch(body io.ReadCloser, d time.Duration) *watchdog {
	w := &watchdog{body: body, d: d}
	w.timer = time.AfterFunc(d, func() {
		w.stalled.Store(true)
		_ = body.Close()
	})
	return w
}

func (w *watchdog) Read(p []byte) (int, error) {
	n, err := w.body.Read(p)
	if n > 0 {
		w.timer.Reset(w.d)
	}
	if err != nil && err != io.EOF && w.stalled.Load() {
		err = fmt.Errorf("%w for %v", errStalled, w.d)
	}
	return n, err
}

// stop ends the watch; the caller still closes the body.
func (w *watchdog) stop() { w.timer.Stop() }
