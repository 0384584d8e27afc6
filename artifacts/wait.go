package artifacts

import (
	"context"
	"fmt"
	"time"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// fetchWaiting runs fetch and, while the archive answers 404 and o.Wait
// allows, polls for it to appear.
func (t *transfer) fetchWaiting(ctx context.Context) error {
	w := &waiter{o: t.o, status: t.o.Status}
	w.deadline = t.o.clock.now().Add(t.o.Wait)
	for poll := 0; ; poll++ {
		err := t.fetch(ctx)
		if !mayAppear(err) {
			return t.explain(err)
		}
		if err := w.next(ctx, poll, err); err != nil {
			return err
		}
	}
}

// explain gives a failed download its context.
func (t *transfer) explain(err error) error {
	if err == nil {
		return nil
	}
	if refused := explainRefusal(err); refused != err {
		return refused
	}
	return fmt.Errorf("downloading %s: %w", t.o.Job, err)
}

// Poll runs try until it succeeds or fails with anything but a 404 that
// waiting may cure (gitlab.MayAppear), polling for up to o.Wait as Download
// does, with o.Status to stop early. A wait that ends without the artifacts
// is a *NotFoundError naming o.Job; other errors are explained as Download
// explains them (a refused token names its cause).
func Poll(ctx context.Context, o Options, try func(context.Context) error) error {
	o.setDefaults()
	if o.Job == "" || o.Job == "(unparsable URL)" {
		o.Job = "the artifacts"
	}
	w := &waiter{o: &o, status: o.Status}
	w.deadline = o.clock.now().Add(o.Wait)
	for poll := 0; ; poll++ {
		err := try(ctx)
		if !mayAppear(err) {
			return explainRefusal(err)
		}
		if err := w.next(ctx, poll, err); err != nil {
			return err
		}
	}
}

// waiter decides, after each 404, whether to poll again.
type waiter struct {
	o        *Options
	status   func(context.Context) (string, error)
	deadline time.Time
	ended    string // a final status seen on the previous poll
}

// next returns nil when it is time to poll again, or the NotFoundError that
// ends the wait.
func (w *waiter) next(ctx context.Context, poll int, last error) error {
	notFound := func(reason string) error {
		return &NotFoundError{Job: w.o.Job, URL: gitlabRedact(w.o.URL), Reason: reason, Err: last}
	}
	if w.o.Wait <= 0 {
		return notFound("has no artifacts (yet)")
	}
	if w.ended != "" {
		return notFound(endedReason(w.ended))
	}
	if st := w.jobStatus(ctx); endedWithout(st) {
		// Poll once more at once: the job may have uploaded between our
		// 404 and its status change.
		w.ended = st
		return nil
	}
	left := w.deadline.Sub(w.o.clock.now())
	if left <= 0 {
		return notFound(fmt.Sprintf("has no artifacts: none appeared within %v", w.o.Wait))
	}
	p := gitlab.Policy{MinWait: w.o.PollMin, MaxWait: w.o.PollMax, Now: w.o.clock.now}
	return w.o.clock.sleep(ctx, min(p.Backoff(poll, nil), left))
}

// jobStatus asks the caller's status function, and stops asking after its
// first failure (a job token may not read jobs on older GitLab).
func (w *waiter) jobStatus(ctx context.Context) string {
	if w.status == nil {
		return ""
	}
	st, err := w.status(ctx)
	if err != nil {
		if w.o.Logger != nil {
			w.o.Logger.Debugf("cannot read the status of %s, waiting without it: %v", w.o.Job, err)
		}
		w.status = nil
		return ""
	}
	return st
}

// endedWithout reports whether a job in this status will not upload
// artifacts any more. "manual" is not among them: someone may still play it.
func endedWithout(status string) bool {
	switch status {
	case "success", "failed", "canceled", "skipped":
		return true
	}
	return false
}

func endedReason(status string) string {
	if status == "success" {
		return "succeeded without uploading artifacts"
	}
	return fmt.Sprintf("ended with status %q and has no artifacts", status)
}
