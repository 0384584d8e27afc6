#!/bin/sh
# `pipeline-artifacts download` against curl the way a user's download runs:
# a 1 GiB file sent with sendfile by a Go server (http.ServeContent on an
# *os.File), saved to a file, page cache dropped before every run (as root;
# otherwise evicted with 1.25 GiB of other data), curl and ours alternating,
# medians of 3 runs. Prints a table of wall/user/sys times and ratios:
# plain download vs `curl -o FILE`, and with the SHA-256 verified (GitLab's
# ETag) vs `curl -o FILE && sha256sum FILE`.
# Options are passed on: -size BYTES, -runs N.
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/downloadbench -vs-curl "$@"
