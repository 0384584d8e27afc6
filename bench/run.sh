#!/usr/bin/env bash
# Runs every benchmark of pipeline-artifacts on loopback RUNS times (default
# 3) and writes BENCHMARKS.md at the repository root: each figure's median
# and range over the runs beside its peer (curl, bash, the floor of a Go
# wrapper, the whole archive, unzip), its target and a verdict, the
# machine, and how to reproduce.
#
# Time on 2 idle cores: about 5–6 minutes with RUNS=1, about 12 with the
# default 3 (the 1 GiB download capped at 25 MB/s alone takes 45 s a run).
# Disk: about 3.5 GiB free under $TMPDIR at the peak (1 GiB files, written
# once per program); everything goes under one temporary directory that is
# removed at the end, also when a benchmark fails or on Ctrl-C.
# Needs Go, curl, sha256sum and unzip (a missing curl or unzip skips that
# comparison) and Linux for the cold page cache of the curl comparison. Run
# it on a quiet machine: other work on the cores shows in every figure.
#
#   bash bench/run.sh
#   RUNS=5 bash bench/run.sh
#   bash bench/run.sh -smoke -out /tmp/BENCHMARKS.md   # tiny sizes, about a minute: checks the plumbing only
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
case "$runs" in
  '' | *[!0-9]* | 0) echo "bench/run.sh: RUNS must be a whole number of at least 1, not '$runs'" >&2; exit 2 ;;
esac
if ! command -v go >/dev/null; then
  echo "bench/run.sh: Go is not installed (this module needs the version go.mod names)" >&2
  exit 2
fi
for tool in curl unzip; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench/run.sh: $tool is not installed, so the comparison against it is skipped;" \
      "install both with: apt-get install -y curl unzip" >&2
  fi
done
exec go run ./bench/report -runs "$runs" -out BENCHMARKS.md "$@"
