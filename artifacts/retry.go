package artifacts

import (
	"context"
	"errors"
	"fmt"
	"net"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// maxIdleAttempts bounds the responses in a row whose bodies break without
// a byte beyond the best offset reached.
const maxIdleAttempts = 3

// doResumable runs u under the client's retry policy, and runs it again for
// as long as rounds make progress: the policy's budget is for failures in a
// row, and a long download on a flaky network that keeps moving should not
// be given up because its connection broke six times in an hour. Progress
// is best(), the furthest offset ever reached, never the bytes received: a
// server that sends the same prefix again and again moves nothing forward.
//
// A response whose headers never came (the transport's header timeout) is
// a stall like a body that stops: the policy retries it like any other, and
// giving up names it.
func (t *transfer) doResumable(ctx context.Context, u gitlab.Unit, best func() int64) error {
	for {
		before := best()
		err := t.c.Do(ctx, u)
		if err == nil || isFatal(err) || ctx.Err() != nil {
			return err
		}
		stalled := isHeaderTimeout(err)
		if retry, _ := gitlab.ShouldRetry(ctx, nil, err); !retry && !stalled {
			return err
		}
		if progressed(before, best(), err) {
			t.debugf("retrying %s after progress to byte %d: %v", t.o.Job, best(), err)
			continue
		}
		// A whole round of the policy's retries without a byte beyond
		// the best offset ends the download: a server that cuts every
		// body at the same byte, ignores Range and cuts again, or never
		// sends its headers, would otherwise be asked until --timeout.
		return t.noProgress(err, before, stalled)
	}
}

// errNoProgress is matched by the error of a download given up because
// attempts stopped bringing new bytes.
var errNoProgress = errors.New("no progress")

func (t *transfer) noProgress(err error, at int64, stalled bool) error {
	if stalled {
		return fmt.Errorf("%w: the server sent no response headers within %v on any attempt (a stall, not the --timeout deadline): %w",
			errNoProgress, t.o.StallTimeout, err)
	}
	return fmt.Errorf("%w beyond byte %d: %w", errNoProgress, at, err)
}

// isHeaderTimeout: net/http's "timeout awaiting response headers" is a
// net.Error whose Timeout is true, and it matches context.DeadlineExceeded
// although no context ended.
func isHeaderTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
