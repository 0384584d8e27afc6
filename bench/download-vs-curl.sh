#!/bin/sh
# `pipeline-artifacts download` against curl the way a user's download runs:
# a 1 GiB file sent with sendfile by a Go server (http.ServeContent on an
# *os.File), saved to a file, the served file dropped from the page cache
# before every run (posix_fadvise; Linux only), curl and ours alternating,
# medians of 3 runs. Prints a table of wall/user/sys times and ratios:
# the default download vs `curl -o FILE` (goal ≤ 1.10×), --parallel 1 and 8
# streams beside it, and with the SHA-256 verified (GitLab's ETag) vs
# `curl -o FILE && sha256sum FILE`. About 2 GiB of disk under $TMPDIR and
# half a minute per run.
# Options are passed on: -size BYTES, -runs N, -json.
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/downloadbench -vs-curl "$@"
