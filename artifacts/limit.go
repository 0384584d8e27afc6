package artifacts

import (
	"errors"
	"fmt"

	"gitlab.com/pipeline-artifacts/pipeline-artifacts/artifacts/extract"
)

// ErrTooLarge is matched (errors.Is) by the error of a download refused
// because it is, or grows, larger than Options.MaxSize.
var ErrTooLarge = errors.New("the download is larger than the size limit")

// archiveSlack is what an archive may hold beyond the bytes it extracts to
// (headers, a central directory) when the download cap is derived from the
// extraction cap.
const archiveSlack = 1 << 20

// maxSize is the cap on the download's bytes: Options.MaxSize, or when
// extracting and it is 0, the extraction's MaxBytes plus archiveSlack (a
// stored archive is barely larger than what it holds, a compressed one
// smaller). Negative: no cap.
func (o *Options) maxSize() int64 {
	if o.MaxSize != 0 || o.Dest == "" {
		return o.MaxSize
	}
	lim := o.Limits.MaxBytes
	if lim == 0 {
		lim = extract.DefaultMaxBytes
	}
	if lim < 0 {
		return -1
	}
	return lim + archiveSlack
}

// capSize fails fatally when n bytes are past the cap; what says whose
// figure n is ("the server announced", "the body grew past").
func (o *Options) capSize(n int64, what string) error {
	if limit := o.maxSize(); limit > 0 && n > limit {
		return fatal(fmt.Errorf("%w: %s %d bytes, the limit is %d", ErrTooLarge, what, n, limit))
	}
	return nil
}
