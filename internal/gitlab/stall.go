package gitlab

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// StallFloor is the least a body must deliver in every stall window. A
// server that sends a byte now and then (slowloris) never falls silent, and
// would otherwise hold a transfer until its overall deadline; 1 KiB in the
// default 30 s is 34 bytes a second, far below any link worth waiting for.
const StallFloor = 1 << 10

// ErrStalled is matched by the read error of a watched body that delivered
// less than StallFloor bytes in a stall window. The retry policy retries it
// like any broken body.
var ErrStalled = errors.New("too little data received")

// Watchdog closes a response body that stops delivering bytes, or delivers
// them too slowly to ever finish, so that the blocked Read fails and the
// retry policy takes over: a connection can stay open for hours without
// moving a byte, and only the overall deadline would end it otherwise.
type Watchdog struct {
	body    io.ReadCloser
	d       time.Duration
	timer   *time.Timer
	got     atomic.Int64 // bytes read in the current window
	stalled atomic.Bool
	stopped atomic.Bool
}

// Watch starts watching body, in windows of d. Read through the Watchdog;
// call Stop when done. The caller still closes body (or the Watchdog).
func Watch(body io.ReadCloser, d time.Duration) *Watchdog {
	w := &Watchdog{body: body, d: d}
	w.timer = time.AfterFunc(d, w.check)
	return w
}

// check ends a window: enough bytes open the next one, too few end the body.
func (w *Watchdog) check() {
	if w.stopped.Load() {
		return
	}
	if w.got.Swap(0) >= StallFloor {
		w.timer.Reset(w.d)
		return
	}
	w.stalled.Store(true)
	_ = w.body.Close()
}

func (w *Watchdog) Read(p []byte) (int, error) {
	n, err := w.body.Read(p)
	w.got.Add(int64(n))
	if err != nil && err != io.EOF && w.stalled.Load() {
		err = fmt.Errorf("%w: less than %d bytes in %v", ErrStalled, StallFloor, w.d)
	}
	return n, err
}

// Close closes the watched body.
func (w *Watchdog) Close() error { return w.body.Close() }

// Stop ends the watch.
func (w *Watchdog) Stop() {
	w.stopped.Store(true)
	w.timer.Stop()
}
