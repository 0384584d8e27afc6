package artifacts

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// stallFloor is the least a body must deliver in every stall window. A
// server that sends a byte now and then (slowloris) never falls silent, and
// would otherwise hold a download until --timeout; 1 KiB in the default 30 s
// is 34 bytes a second, far below any link worth waiting for.
const stallFloor = 1 << 10

// errStalled is the read error of a body that delivered less than
// stallFloor bytes in a stall window. It is retried (and resumed) like any
// broken body, but it is not progress unless it brought stallFloor bytes.
var errStalled = errors.New("too little data received")

// watchdog closes a response body that stops delivering bytes, or delivers
// them too slowly to ever finish, so that the blocked Read fails and the
// retry policy takes over: a connection can stay open for hours without
// moving a byte, and only the overall deadline would end it otherwise.
type watchdog struct {
	body    io.ReadCloser
	d       time.Duration
	timer   *time.Timer
	got     atomic.Int64 // bytes read in the current window
	stalled atomic.Bool
	stopped atomic.Bool
}

func watch(body io.ReadCloser, d time.Duration) *watchdog {
	w := &watchdog{body: body, d: d}
	w.timer = time.AfterFunc(d, w.check)
	return w
}

// check ends a window: enough bytes open the next one, too few end the body.
func (w *watchdog) check() {
	if w.stopped.Load() {
		return
	}
	if w.got.Swap(0) >= stallFloor {
		w.timer.Reset(w.d)
		return
	}
	w.stalled.Store(true)
	_ = w.body.Close()
}

func (w *watchdog) Read(p []byte) (int, error) {
	n, err := w.body.Read(p)
	w.got.Add(int64(n))
	if err != nil && err != io.EOF && w.stalled.Load() {
		err = fmt.Errorf("%w: less than %d bytes in %v", errStalled, stallFloor, w.d)
	}
	return n, err
}

// stop ends the watch; the caller still closes the body.
func (w *watchdog) stop() {
	w.stopped.Store(true)
	w.timer.Stop()
}

// progressed reports whether an attempt that moved the best offset from
// before to after, and ended with err, made progress: a stalled body must
// have brought at least stallFloor bytes, or a trickle would count.
func progressed(before, after int64, err error) bool {
	return after > before && (after-before >= stallFloor || !errors.Is(err, errStalled))
}
