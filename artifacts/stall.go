package artifacts

import (
	"errors"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/internal/gitlab"
)

// progressed reports whether an attempt that moved the best offset from
// before to after, and ended with err, made progress: a stalled body must
// have brought at least gitlab.StallFloor bytes, or a trickle would count.
func progressed(before, after int64, err error) bool {
	return after > before && (after-before >= gitlab.StallFloor || !errors.Is(err, gitlab.ErrStalled))
}
