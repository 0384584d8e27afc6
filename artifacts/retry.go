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

// maxIdleRounds bounds the rounds in a row that end without a byte beyond
// the best offset reached: a server that cuts every body at the same byte,
// or ignores Range and cuts again, makes attempts forever otherwise.
const maxIdleRounds = 3

// doResumable runs u under the client's retry policy, and runs it again for
// as long as rounds make progress: the policy's budget is for failures in a
// row, and a long download on a flaky network that keeps moving should not
// be given up because its connection broke six times in an hour. Progress
// is best(), the furthest offset ever reached, never the bytes received: a
// server that sends the same prefix again and again moves nothing forward.
//
// A response whose headers never came (the transport's header timeout) is
// a stall like a body that stops, and is retried here, since the policy
// takes it for a deadline.
func (t *transfer) doResumable(ctx context.Context, u gitlab.Unit, best func() int64) error {
	idle := 0
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
		if best() > before {
			idle = 0
			t.debugf("retrying %s after progress to byte %d: %v", t.o.Job, best(), err)
			continue
		}
		// A round of the policy's retries without progress ends the
		// download, as it always did; stalled headers get a few rounds.
		if idle++; !stalled || idle >= maxIdleRounds {
			return t.noProgress(err, before, stalled, idle)
		}
		t.debugf("retrying %s: no response headers: %v", t.o.Job, err)
	}
}

// errNoProgress is matched by the error of a download given up because
// attempts stopped bringing new bytes.
var errNoProgress = errors.New("no progress")

func (t *transfer) noProgress(err error, at int64, stalled bool, rounds int) error {
	if stalled {
		return fmt.Errorf("%w: the server sent no response headers within %v, %d times in a row: %w",
			errNoProgress, t.o.StallTimeout, rounds, err)
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
