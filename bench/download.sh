#!/bin/sh
# Benchmarks of `pipeline-artifacts download` against one loopback server:
# peak RSS while downloading and extracting a 1 GiB zip, parallel ranges
# against one stream under a 25 MB/s per-connection cap, and single-stream
# throughput against curl with a warm page cache, for reference (the
# comparison with curl that counts is bench/download-vs-curl.sh).
# Needs curl (else that comparison is skipped); uses about 3 GiB of disk under
# $TMPDIR and about a minute per run (3 runs by default).
# Options are passed on: -size BYTES, -cap BYTES_PER_SEC, -runs N (medians
# over the runs), -json. bench/run.sh runs this and every other benchmark.
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/downloadbench "$@"
