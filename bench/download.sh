#!/bin/sh
# Benchmarks of `pipeline-artifacts download` (issue 3): single-stream
# throughput against curl, peak RSS while extracting 1 GiB, and parallel
# ranges against one stream under a 25 MB/s per-connection cap.
# Needs curl (else that comparison is skipped); uses about 2 GiB of disk under
# $TMPDIR and about a minute per run (3 runs by default).
# Options are passed on: -size BYTES, -cap BYTES_PER_SEC, -runs N (medians
# over the runs), -json. bench/run.sh runs this and every other benchmark.
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/downloadbench "$@"
